// Package postgres opens the connection pool and applies the embedded migrations.
package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Options configure Open.
type Options struct {
	URL string
	// URLVariable names the setting URL came from (DATABASE_URL, MIGRATION_DATABASE_URL),
	// so that an error says what to fix.
	URLVariable string
	// Pooler is what URL points at: "transaction", a transaction-mode pooler such as
	// PgBouncer (no session startup parameters, exec mode); "none", the server itself or a
	// session pooler; "auto" or "", transaction for a Neon -pooler host, else none until the
	// server refuses statement_timeout as a transaction pooler does, then transaction.
	Pooler string
	// CreateDatabase creates the URL's database when it does not exist (development only).
	CreateDatabase bool
	// ConnectTimeout bounds how long Open keeps retrying an unreachable server; a Neon
	// compute that scaled to zero takes seconds to wake. A failure that retrying cannot fix
	// (a wrong password, a missing database) ends Open at once.
	ConnectTimeout time.Duration
	// QueryExecMode is pgx's exec mode by name; "" chooses: exec behind a transaction
	// pooler, else cache_statement (prepared statements, the fastest).
	QueryExecMode string
	// StatementTimeout is set as the sessions' statement_timeout (0: the server's), except
	// behind a transaction pooler, which cannot keep session settings; there only the query's
	// context bounds it (when it ends, pgx sends the server a cancel request).
	StatementTimeout time.Duration
	// MaxConns caps the pool; 0 means four per CPU.
	MaxConns int32
	Logger   *slog.Logger
	// QueryTracer traces every query (tracing.QueryTracer); nil: none.
	QueryTracer pgx.QueryTracer
	// Optional is for a server the service can do without (a read standby): when it is still
	// unreachable at ConnectTimeout, Open returns a pool that connects on first use instead of
	// an error. A failure that retrying cannot fix still ends Open with an error.
	Optional bool
}

var execModes = map[string]pgx.QueryExecMode{
	"cache_statement": pgx.QueryExecModeCacheStatement,
	"cache_describe":  pgx.QueryExecModeCacheDescribe,
	"describe_exec":   pgx.QueryExecModeDescribeExec,
	"exec":            pgx.QueryExecModeExec,
	"simple_protocol": pgx.QueryExecModeSimpleProtocol,
}

// IsPooled reports whether host is a connection pooler's, by Neon's naming (ep-...-pooler...):
// PgBouncer in transaction mode, where a session's prepared statements and settings do not
// survive from one transaction to the next.
func IsPooled(host string) bool { return strings.Contains(host, "-pooler") }

// behindTransactionPooler reports whether Options.Pooler, or for auto the host's name, puts
// the server behind a transaction pooler.
func behindTransactionPooler(pooler, host string) bool {
	return pooler == "transaction" || (pooler != "none" && IsPooled(host))
}

func isAuto(pooler string) bool { return pooler == "" || pooler == "auto" }

// DirectURL is the URL for work that needs a session of its own (migrations take an advisory
// lock): explicit if given, else the pooled URL with Neon's -pooler removed from the host.
func DirectURL(databaseURL, explicit string) string {
	if explicit != "" {
		return explicit
	}
	cfg, err := pgconn.ParseConfig(databaseURL)
	if err != nil || !IsPooled(cfg.Host) {
		return databaseURL
	}
	return strings.Replace(databaseURL, cfg.Host, strings.Replace(cfg.Host, "-pooler", "", 1), 1)
}

// Open returns a pool whose server has answered a ping. It retries what may pass (a server
// starting or waking, a network failing) until ConnectTimeout, and returns at once, saying
// what to fix, on a failure that would only repeat.
func Open(ctx context.Context, opts Options) (*pgxpool.Pool, error) {
	cfg, err := poolConfig(opts)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, opts.ConnectTimeout)
	defer cancel()
	for attempt, wait := 1, 100*time.Millisecond; ; attempt++ {
		pool, err := connect(ctx, cfg, opts.CreateDatabase)
		if err == nil {
			return pool, nil
		}
		server := net.JoinHostPort(cfg.ConnConfig.Host, strconv.Itoa(int(cfg.ConnConfig.Port)))
		sentTimeout := opts.StatementTimeout > 0 && !behindTransactionPooler(opts.Pooler, cfg.ConnConfig.Host)
		if sentTimeout && isAuto(opts.Pooler) && refusedParameter(err) == "statement_timeout" {
			// A pooler in its default configuration (PgBouncer's refuses every startup
			// parameter it cannot keep): one that is not a Neon -pooler host.
			opts.Pooler = "transaction"
			if cfg, err = poolConfig(opts); err != nil {
				return nil, err
			}
			opts.Logger.Warn("the database server refused the statement_timeout startup parameter, as a transaction pooler "+
				"such as PgBouncer does: connecting without it, as to a transaction pooler (the request deadline still "+
				"bounds every query); set DB_POOLER=transaction to say so explicitly",
				"server", server, "db_exec_mode", cfg.ConnConfig.DefaultQueryExecMode.String())
			continue
		}
		if err := permanentFailure(err, server, cmp.Or(opts.URLVariable, "the database URL"), sentTimeout); err != nil {
			return nil, err
		}
		opts.Logger.Warn("database not reachable yet", "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
			if opts.Optional && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				opts.Logger.Warn("database still unreachable: going on without it, connecting when it is used",
					"server", server, "setting", opts.URLVariable, "attempts", attempt, "err", err)
				return pgxpool.NewWithConfig(context.WithoutCancel(ctx), cfg) // connects on first use
			}
			return nil, fmt.Errorf("database unreachable after %d attempts: %w", attempt, err)
		case <-time.After(wait):
		}
		wait = min(wait*2, 5*time.Second)
	}
}

// poolConfig turns Options into pgx's configuration.
func poolConfig(opts Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		// pgx's message may quote the password.
		return nil, fmt.Errorf("parsing %s failed", cmp.Or(opts.URLVariable, "the database URL"))
	}
	if !isAuto(opts.Pooler) && opts.Pooler != "none" && opts.Pooler != "transaction" {
		return nil, fmt.Errorf("unknown pooler %q (want auto, none or transaction)", opts.Pooler)
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "taskapi"
	}
	pooled := behindTransactionPooler(opts.Pooler, cfg.ConnConfig.Host)
	mode := opts.QueryExecMode
	if mode == "" {
		mode = "cache_statement"
		if pooled {
			mode = "exec"
		}
	}
	execMode, ok := execModes[mode]
	if !ok {
		return nil, fmt.Errorf("unknown query exec mode %q", mode)
	}
	cfg.ConnConfig.DefaultQueryExecMode = execMode
	cfg.ConnConfig.Tracer = opts.QueryTracer
	if opts.StatementTimeout > 0 && !pooled {
		cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	}
	// Four connections per CPU, twice pgx's default: measured under load, writes gain most
	// (more commits share each WAL flush) with read latency unchanged; more than that raised
	// read tail latency on two cores (bench, README's Performance).
	cfg.MaxConns = opts.MaxConns
	if cfg.MaxConns == 0 {
		cfg.MaxConns = int32(4 * runtime.GOMAXPROCS(0))
	}
	// Neon suspends a compute after 5 idle minutes; connections idle for less than that are
	// recycled first, so the pool does not hold sockets to a suspended server.
	cfg.MaxConnIdleTime = 4 * time.Minute
	cfg.AfterConnect = func(_ context.Context, conn *pgx.Conn) error {
		registerTypes(conn.TypeMap())
		return nil
	}
	return cfg, nil
}

func connect(ctx context.Context, cfg *pgxpool.Config, createDatabase bool) (*pgxpool.Pool, error) {
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	err = pool.Ping(ctx)
	if createDatabase && isMissingDatabase(err) {
		err = createDatabaseFor(ctx, cfg.ConnConfig)
		if err == nil {
			err = pool.Ping(ctx)
		}
	}
	if err != nil {
		pool.Close()
		return nil, err
	}
	return pool, nil
}

func isMissingDatabase(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "3D000" // invalid_catalog_name
}

// createDatabaseFor connects to the server's postgres database and creates cfg's database.
func createDatabaseFor(ctx context.Context, cfg *pgx.ConnConfig) error {
	admin := cfg.Copy()
	admin.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, admin)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{cfg.Database}.Sanitize())
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "42P04" { // duplicate_database: another process won
		return nil
	}
	return err
}
