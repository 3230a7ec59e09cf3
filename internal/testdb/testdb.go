// Package testdb gives each test a fresh PostgreSQL database with the schema migrated: the
// real server, no mocks. Databases are copied from a migrated template (about 80 ms each)
// and dropped when the test ends. Everything tests make outside their process is named here
// (names.go), and Leftovers checks that none of it remains when the suite ends.
//
// The server is TEST_DATABASE_URL (any database on it; it is used to create the others),
// by default the local PostgreSQL at 127.0.0.1:5432 as user postgres.
package testdb

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/internal/postgres"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	templateOnce sync.Once
	template     string
	templateErr  error
)

// AdminURL is the URL tests use to create and drop databases.
func AdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return defaultAdminURL
}

// New returns a pool on a new, migrated database that is dropped when t ends, configured as
// the service configures its own.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), postgres.Options{URL: URL(t), URLVariable: "TEST_DATABASE_URL", ConnectTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(pool.Close) // runs before the drop registered by URL
	return pool
}

// URL creates a new, migrated database, dropped when t ends, and returns its URL.
func URL(t testing.TB) string {
	t.Helper()
	ctx := context.Background()
	templateOnce.Do(func() { template, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("testdb: preparing the template database: %v", templateErr)
	}
	name := DatabaseName()
	admin := connectAdmin(t)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{template}.Sanitize())); err != nil {
		admin.Close(ctx)
		t.Fatalf("testdb: creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		defer admin.Close(ctx)
		drop := "DROP DATABASE " + pgx.Identifier{name}.Sanitize() + " WITH (FORCE)"
		if _, err := admin.Exec(ctx, drop); err != nil {
			// The connection may have been lost meanwhile: once more on a new one.
			if retry, cerr := pgx.Connect(ctx, AdminURL()); cerr == nil {
				_, err = retry.Exec(ctx, drop)
				retry.Close(ctx)
			}
			if err != nil {
				t.Errorf("testdb: dropping %s: %v", name, err)
			}
		}
	})
	return withDatabase(AdminURL(), name)
}

func connectAdmin(t testing.TB) *pgx.Conn {
	conn, err := pgx.Connect(context.Background(), AdminURL())
	if err != nil {
		t.Fatalf("testdb: connecting to %s: %v (is PostgreSQL running? set TEST_DATABASE_URL)", redact(AdminURL()), err)
	}
	return conn
}

// ServerURL is the URL of database name on the test server.
func ServerURL(name string) string { return withDatabase(AdminURL(), name) }

// withDatabase returns the connection string dsn with its database replaced by name,
// keeping everything else (password, sslmode, ...).
func withDatabase(dsn, name string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form: the last dbname wins
}

func redact(url string) string {
	if cfg, err := pgx.ParseConfig(url); err == nil {
		return fmt.Sprintf("%s@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return "TEST_DATABASE_URL"
}
