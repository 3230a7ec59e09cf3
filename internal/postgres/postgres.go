// Package postgres opens the connection pool and applies the embedded migrations.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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
	Logger         *slog.Logger
}

// Open returns a pool whose server has answered a ping.
func Open(ctx context.Context, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(opts.URL)
	if err != nil {
		return nil, errors.New("parsing DATABASE_URL failed") // pgx's message may quote the password
	}
	if _, ok := cfg.ConnConfig.RuntimeParams["application_name"]; !ok {
		cfg.ConnConfig.RuntimeParams["application_name"] = "taskapi"
	}
	// Neon suspends a compute after 5 idle minutes; connections idle for less than that are
	// recycled first, so the pool does not hold sockets to a suspended server.
	cfg.MaxConnIdleTime = 4 * time.Minute

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
