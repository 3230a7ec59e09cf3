// Package postgres opens the connection pool and applies the embedded migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	// CreateDatabase creates the URL's database when it does not exist (development only).
	CreateDatabase bool
	// ConnectTimeout bounds how long Open keeps retrying an unreachable server; a Neon
	// compute that scaled to zero takes seconds to wake.
	ConnectTimeout time.Duration
	// QueryExecMode is pgx's exec mode by name; "" chooses: exec behind a pooler, else
	// cache_statement (prepared statements, the fastest).
	QueryExecMode string
	// StatementTimeout is set as the sessions' statement_timeout (0: the server's), except
	// behind a pooler, which does not pass startup parameters on.
	StatementTimeout time.Duration
	// MaxConns caps the pool; 0 means four per CPU.
	MaxConns int32
	Logger   *slog.Logger
	// QueryTracer traces every query (tracing.QueryTracer); nil: none.
	QueryTracer pgx.QueryTracer
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

// Open returns a pool whose server has answered a ping.
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
		opts.Logger.Warn("database not reachable yet", "attempt", attempt, "retry_in", wait.String(), "err", err)
		select {
		case <-ctx.Done():
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
		return nil, errors.New("parsing DATABASE_URL failed") // pgx's message may quote the password
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "taskapi"
	}
	pooled := IsPooled(cfg.ConnConfig.Host)
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
