package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// In development, a database that does not exist yet is created.
func TestOpenCreatesTheDevelopmentDatabase(t *testing.T) {
	name := "taskapi_create_" + strings.ToLower(rand.Text()[:12])
	admin, err := pgx.Connect(context.Background(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	t.Cleanup(func() { admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") })

	url := testdb.ServerURL(name)
	quiet := slog.New(slog.DiscardHandler)
	if _, err := postgres.Open(context.Background(), postgres.Options{URL: url, ConnectTimeout: 300 * time.Millisecond, Logger: quiet}); err == nil {
		t.Fatal("opened a database that does not exist without CreateDatabase")
	}
	pool, err := postgres.Open(context.Background(), postgres.Options{URL: url, CreateDatabase: true, ConnectTimeout: 10 * time.Second, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	pool.Close()
}

// An unreachable server is retried with backoff until ConnectTimeout, not given up on at once.
func TestOpenRetriesUntilTheTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now

	var logs bytes.Buffer
	start := time.Now()
	_, err = postgres.Open(context.Background(), postgres.Options{
		URL:            "postgres://postgres@" + addr + "/x?sslmode=disable&connect_timeout=1",
		ConnectTimeout: 1500 * time.Millisecond,
		Logger:         slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err == nil {
		t.Fatal("connected to nothing")
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("gave up after %s, before the timeout", elapsed)
	}
	if n := strings.Count(logs.String(), "database not reachable yet"); n < 3 {
		t.Errorf("%d attempts logged, want several:\n%s", n, logs.String())
	}
}
