// Package testdb gives each test a fresh PostgreSQL database with the schema migrated: the
// real server, no mocks. Databases are copied from a migrated template (about 80 ms each)
// and dropped when the test ends.
//
// The server is TEST_DATABASE_URL (any database on it; it is used to create the others),
// by default the local PostgreSQL at 127.0.0.1:5432 as user postgres.
package testdb

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi"
	"taskapi/internal/postgres"
)

const defaultAdminURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	templateOnce sync.Once
	templateName string
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
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(ctx) })
	if templateErr != nil {
		t.Fatalf("testdb: preparing the template database: %v", templateErr)
	}
	name := "taskapi_test_" + strings.ToLower(rand.Text()[:16])
	admin := connectAdmin(t)
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE DATABASE %s TEMPLATE %s",
		pgx.Identifier{name}.Sanitize(), pgx.Identifier{templateName}.Sanitize())); err != nil {
		t.Fatalf("testdb: creating %s: %v", name, err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec(context.Background(), "DROP DATABASE "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("testdb: dropping %s: %v", name, err)
		}
		admin.Close(context.Background())
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

// ensureTemplate creates, once per schema version, a migrated database to copy. Its name
// carries a hash of the migrations, so a changed schema gets a new template, and test
// processes running side by side agree on it under an advisory lock.
func ensureTemplate(ctx context.Context) (string, error) {
	h := sha256.New()
	err := fs.WalkDir(taskapi.Migrations, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(taskapi.Migrations, path)
		h.Write([]byte(path))
		h.Write(b)
		return err
	})
	if err != nil {
		return "", err
	}
	name := "taskapi_template_" + hex.EncodeToString(h.Sum(nil))[:12]

	admin, err := pgx.Connect(ctx, AdminURL())
	if err != nil {
		return "", err
	}
	defer admin.Close(ctx)
	if _, err := admin.Exec(ctx, "SELECT pg_advisory_lock(hashtext('taskapi testdb template'))"); err != nil {
		return "", err
	}
	defer admin.Exec(ctx, "SELECT pg_advisory_unlock(hashtext('taskapi testdb template'))")

	var exists bool
	if err := admin.QueryRow(ctx, "SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)", name).Scan(&exists); err != nil || exists {
		return name, err
	}
	building := name + "_building"
	if _, err := admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{building}.Sanitize()+" WITH (FORCE)"); err != nil {
		return "", err
	}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{building}.Sanitize()); err != nil {
		return "", err
	}
	if err := migrate(ctx, withDatabase(AdminURL(), building)); err != nil {
		return "", err
	}
	// Renamed only once complete, so a half-built template is never copied.
	_, err = admin.Exec(ctx, fmt.Sprintf("ALTER DATABASE %s RENAME TO %s",
		pgx.Identifier{building}.Sanitize(), pgx.Identifier{name}.Sanitize()))
	return name, err
}

func migrate(ctx context.Context, url string) error {
	quiet := slog.New(slog.DiscardHandler)
	pool, err := postgres.Open(ctx, postgres.Options{URL: url, URLVariable: "TEST_DATABASE_URL", ConnectTimeout: 10 * time.Second, Logger: quiet})
	if err != nil {
		return err
	}
	defer pool.Close()
	m, err := postgres.NewMigrator(pool, quiet)
	if err != nil {
		return err
	}
	defer m.Close()
	return m.Up(ctx)
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
