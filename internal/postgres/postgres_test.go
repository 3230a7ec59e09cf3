package postgres_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// In development, a database that does not exist yet is created; otherwise its absence is a
// mistake in the URL, reported at once instead of retried until ConnectTimeout.
func TestOpenCreatesTheDevelopmentDatabase(t *testing.T) {
	name := "taskapi_test_" + strings.ToLower(rand.Text()[:12])
	t.Cleanup(func() {
		// A connection of its own: one opened by the test body would be closed by now.
		admin, err := pgx.Connect(context.Background(), testdb.AdminURL())
		if err != nil {
			t.Errorf("dropping %s: %v", name, err)
			return
		}
		defer admin.Close(context.Background())
		if _, err := admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
			t.Errorf("dropping %s: %v", name, err)
		}
	})

	url := testdb.ServerURL(name)
	quiet := slog.New(slog.DiscardHandler)
	start := time.Now()
	_, err := postgres.Open(context.Background(), postgres.Options{URL: url, URLVariable: "DATABASE_URL", ConnectTimeout: 10 * time.Second, Logger: quiet})
	if err == nil {
		t.Fatal("opened a database that does not exist without CreateDatabase")
	}
	if want := `database "` + name + `" does not exist`; !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "check the database name in DATABASE_URL") {
		t.Errorf("the error does not say what to fix: %v", err)
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("a missing database was retried for %s", elapsed)
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

// A server starting up (SQLSTATE 57P03) is waited for, as a waking Neon compute is: retried
// until ConnectTimeout, and connected to once it accepts connections. The server is a real
// one held in recovery (a standby with hot_standby off refuses every connection with 57P03
// for as long as the test needs, where a server really starting up does so for a moment too
// short to catch), then promoted.
func TestOpenWaitsForAServerStartingUp(t *testing.T) {
	pg := testdb.StartPrivate(t)
	pg.Stop()
	pg.StartInRecovery()
	var logs bytes.Buffer
	opts := postgres.Options{URL: pg.URL("postgres"), URLVariable: "DATABASE_URL", ConnectTimeout: 1500 * time.Millisecond,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	start := time.Now()
	if _, err := postgres.Open(context.Background(), opts); err == nil || !strings.Contains(err.Error(), "57P03") {
		t.Fatalf("Open = %v, want it to give up on 57P03 after the timeout", err)
	}
	if elapsed := time.Since(start); elapsed < time.Second {
		t.Errorf("gave up after %s, before the timeout", elapsed)
	}
	if n := strings.Count(logs.String(), "database not reachable yet"); n < 3 {
		t.Errorf("%d attempts logged, want several:\n%s", n, logs.String())
	}

	opts.ConnectTimeout = 20 * time.Second
	opened := make(chan error, 1)
	go func() {
		pool, err := postgres.Open(context.Background(), opts)
		if err == nil {
			pool.Close()
		}
		opened <- err
	}()
	time.Sleep(time.Second)
	pg.Promote()
	if err := <-opened; err != nil {
		t.Fatalf("not connected once the server accepted connections: %v", err)
	}
}

// Behind a transaction pooler no statement_timeout can be sent, so the query's context is all
// that bounds it, on the server too (README says so): when the context ends, pgx sends a
// cancel request, which PgBouncer passes on. Through a real PgBouncer, a pg_sleep cut short by
// its context is no longer running on the server a moment later.
func TestQueriesBehindATransactionPoolerStopWithTheirContext(t *testing.T) {
	ctx := context.Background()
	direct := testdb.URL(t)
	pool, err := postgres.Open(ctx, postgres.Options{URL: testdb.StartPgBouncer(t, direct), Pooler: "transaction",
		ConnectTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	queryCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if _, err := pool.Exec(queryCtx, "SELECT pg_sleep(60)"); err == nil {
		t.Fatal("the query outlived its context")
	}
	if elapsed := time.Since(start); elapsed > 2*time.Second {
		t.Errorf("the query returned %s after it started, long after its context ended", elapsed)
	}
	admin, err := pgx.Connect(ctx, direct)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	if err := testdb.WaitFor(3*time.Second, func() error {
		var running int
		err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND state = 'active' AND query LIKE 'SELECT pg_sleep(60)%'`).Scan(&running)
		if err == nil && running > 0 {
			err = fmt.Errorf("the query still runs on the server in %d sessions", running)
		}
		return err
	}); err != nil {
		t.Error(err)
	}
}

// An optional server (a read standby) still unreachable at ConnectTimeout does not fail Open:
// the pool it returns connects once the server is up.
func TestOpenOptionalGoesOnWithoutTheServer(t *testing.T) {
	pg := testdb.StartPrivate(t)
	pg.Stop()
	opts := postgres.Options{URL: pg.URL("postgres"), URLVariable: "DATABASE_READ_URL", ConnectTimeout: 500 * time.Millisecond,
		Logger: slog.New(slog.DiscardHandler), Optional: true}
	pool, err := postgres.Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("Open of an optional server that is down: %v", err)
	}
	defer pool.Close()
	if err := pool.Ping(context.Background()); err == nil {
		t.Fatal("ping succeeded with the server down")
	}
	pg.Start()
	if err := pool.Ping(context.Background()); err != nil {
		t.Fatalf("the pool did not connect once the server was up: %v", err)
	}
}
