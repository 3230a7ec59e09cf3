package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"
	"time"

	"taskapi/internal/apitest"
	"taskapi/internal/auth"
	"taskapi/internal/config"
	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// These tests set process environment variables, so none of them runs in parallel.

const secret = "e2e-secret-0123456789abcdef-0123456789abcdef"

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// start runs the real program (run, as main calls it) and waits until /healthz answers.
// The returned function stops it with the signal context's cancellation and returns run's
// error.
func start(t *testing.T, args ...string) (baseURL string, stdout, stderr *apitest.LogBuffer, stop func() error) {
	t.Helper()
	addr := freeAddr(t)
	t.Setenv("ADDR", addr)
	stdout, stderr = &apitest.LogBuffer{}, &apitest.LogBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, args, stdout, stderr) }()
	stop = sync.OnceValue(func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			return fmt.Errorf("run did not return after cancellation")
		}
	})
	t.Cleanup(func() { _ = stop() })

	baseURL = "http://" + addr
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(baseURL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return baseURL, stdout, stderr, stop
			}
		}
		select {
		case err := <-done:
			t.Fatalf("run returned before serving: %v\nstderr: %s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not serving after 30s\nstderr: %s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeEndToEnd(t *testing.T) {
	t.Setenv("DATABASE_URL", testdb.URL(t))
	t.Setenv("BETTER_AUTH_SECRET", secret)
	t.Setenv("GOGC", "") // so taskapi's own garbage-collector target applies
	gcBefore := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(gcBefore) })
	baseURL, _, stderr, stop := start(t)
	if got := debug.SetGCPercent(config.DefaultGCPercent); got != config.DefaultGCPercent {
		t.Errorf("GC target %d while serving, want %d", got, config.DefaultGCPercent)
	}

	c := apitest.NewClient(t, baseURL, []byte(secret))
	alice := c.Token("alice")
	r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "over the wire"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	r = c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice})
	if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "over the wire") {
		t.Fatalf("list: %d %s", r.Status, r.Body)
	}
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"}); r.Status != http.StatusOK {
		t.Errorf("readyz: %d %s", r.Status, r.Body)
	}
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: c.Token("bob")}); strings.Contains(string(r.Body), "over the wire") {
		t.Error("bob sees alice's task")
	}

	var healthOut apitest.LogBuffer
	if err := run(context.Background(), []string{"healthcheck"}, &healthOut, &healthOut); err != nil {
		t.Errorf("healthcheck against the running server: %v", err)
	}

	if err := stop(); err != nil {
		t.Fatalf("run returned %v after SIGTERM-style cancellation", err)
	}
	logs := stderr.String()
	for _, want := range []string{`"msg":"serving"`, `"auth":"hs256: shared secret"`, `"msg":"shutting down"`, `"msg":"stopped"`, `"user_id":"alice"`, `"tracing":"off"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s", want)
		}
	}
	if strings.Contains(logs, secret) || strings.Contains(logs, alice) {
		t.Error("the log holds the secret or a token")
	}
	if err := run(context.Background(), []string{"healthcheck"}, &healthOut, &healthOut); err == nil {
		t.Error("healthcheck passes with the server stopped")
	}
}

func TestDevModeReachesSwaggerUIWithOneCommand(t *testing.T) {
	t.Setenv("DATABASE_URL", testdb.URL(t))
	t.Setenv("BETTER_AUTH_SECRET", "")
	baseURL, stdout, _, _ := start(t, "--dev")

	banner := stdout.String()
	token := regexp.MustCompile(`(?m)^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$`).FindString(banner)
	if token == "" || !strings.Contains(banner, "/docs") {
		t.Fatalf("the dev banner has no token or docs URL:\n%s", banner)
	}
	c := apitest.NewClient(t, baseURL, nil)
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: token}); r.Status != http.StatusOK {
		t.Errorf("the printed token gets %d: %s", r.Status, r.Body)
	}
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/docs"}); r.Status != http.StatusOK {
		t.Errorf("/docs: %d", r.Status)
	}
}

func TestBadConfigurationNamesEveryProblem(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	t.Setenv("BETTER_AUTH_SECRET", "too-short")
	t.Setenv("MAX_BODY_BYTES", "lots")
	t.Setenv("LOG_LEVEL", "chatty")
	t.Setenv("ADDR", "8080")
	t.Setenv("REQUEST_TIMEOUT", "soon")
	var stdout, stderr apitest.LogBuffer
	err := run(context.Background(), nil, &stdout, &stderr)
	if err == nil {
		t.Fatal("run started with a bad configuration")
	}
	for _, want := range []string{"BETTER_AUTH_SECRET", "MAX_BODY_BYTES", "LOG_LEVEL", "ADDR", "REQUEST_TIMEOUT"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %s:\n%v", want, err)
		}
	}
	if strings.Contains(err.Error(), "too-short") {
		t.Error("the error repeats the secret")
	}

	t.Setenv("BETTER_AUTH_SECRET", "")
	t.Setenv("MAX_BODY_BYTES", "")
	t.Setenv("LOG_LEVEL", "")
	t.Setenv("ADDR", "")
	t.Setenv("REQUEST_TIMEOUT", "")
	if err := run(context.Background(), nil, &stdout, &stderr); err == nil || !strings.Contains(err.Error(), "BETTER_AUTH_SECRET (at least 32 bytes) or BETTER_AUTH_URL is required") {
		t.Errorf("without a secret and without --dev: %v", err)
	}
}

func TestTokenCommand(t *testing.T) {
	t.Setenv("BETTER_AUTH_SECRET", secret)
	t.Setenv("JWT_ISSUER", "https://auth.example.com")
	var stdout, stderr apitest.LogBuffer
	if err := run(context.Background(), []string{"token", "--sub", "alice", "--ttl", "5m"}, &stdout, &stderr); err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(stdout.String())
	v, err := auth.NewVerifier(auth.Options{Secret: []byte(secret), Issuer: "https://auth.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := v.Verify(context.Background(), token)
	if err != nil || sub != "alice" {
		t.Fatalf("the minted token: sub %q, %v", sub, err)
	}
	late, _ := auth.NewVerifier(auth.Options{Secret: []byte(secret), Now: func() time.Time { return time.Now().Add(6 * time.Minute) }})
	if _, err := late.Verify(context.Background(), token); err == nil {
		t.Error("a --ttl 5m token is still valid after 6 minutes")
	}
	if err := run(context.Background(), []string{"token"}, &stdout, &stderr); err == nil {
		t.Error("token without --sub succeeded")
	}
}

func TestMigrateCommand(t *testing.T) {
	// An empty database, not a migrated copy: this test runs the migrations itself.
	url := testdb.URL(t)
	t.Setenv("DATABASE_URL", url)
	status := func() string {
		var out, errOut apitest.LogBuffer
		if err := run(context.Background(), []string{"migrate", "status"}, &out, &errOut); err != nil {
			t.Fatalf("migrate status: %v %s", err, errOut.String())
		}
		return out.String()
	}
	migrate := func(direction string) {
		var out, errOut apitest.LogBuffer
		if err := run(context.Background(), []string{"migrate", direction}, &out, &errOut); err != nil {
			t.Fatalf("migrate %s: %v %s", direction, err, errOut.String())
		}
	}
	if s := status(); !strings.Contains(s, "applied") {
		t.Fatalf("status of a migrated database: %q", s)
	}
	migrate("down")
	if s := status(); !strings.Contains(s, "pending") {
		t.Fatalf("status after down: %q", s)
	}
	migrate("up")
	if s := status(); !strings.Contains(s, "applied") || strings.Contains(s, "pending") {
		t.Fatalf("status after up: %q", s)
	}
	var out, errOut apitest.LogBuffer
	if err := run(context.Background(), []string{"migrate", "sideways"}, &out, &errOut); err == nil {
		t.Error("migrate sideways succeeded")
	}
}

// Migrations run without the requests' statement timeout: an index built concurrently on a
// large table takes minutes (bench/RESULTS.md), and a migration cut off by DB_STATEMENT_TIMEOUT
// would stop every deploy (and, with MIGRATE_ON_START, the server's start).
func TestMigrationsAreNotCutOffByTheStatementTimeout(t *testing.T) {
	t.Setenv("DATABASE_URL", testdb.URL(t))
	t.Setenv("DB_STATEMENT_TIMEOUT", "1ms")
	for _, direction := range []string{"down", "down", "up-by-one", "up"} {
		var out, errOut apitest.LogBuffer
		if err := run(context.Background(), []string{"migrate", direction}, &out, &errOut); err != nil {
			t.Fatalf("migrate %s with DB_STATEMENT_TIMEOUT=1ms: %v %s", direction, err, errOut.String())
		}
	}
}

// On start, pending migrations run on their own pool, whatever DB_STATEMENT_TIMEOUT the
// service's pool has; with none pending, start-up only asks.
func TestMigrateOnStartIsNotCutOffByTheStatementTimeout(t *testing.T) {
	t.Setenv("DATABASE_URL", testdb.URL(t))
	t.Setenv("DB_STATEMENT_TIMEOUT", "1ms")
	var out, errOut apitest.LogBuffer
	for range 2 {
		if err := run(context.Background(), []string{"migrate", "down"}, &out, &errOut); err != nil {
			t.Fatalf("migrate down: %v %s", err, errOut.String())
		}
	}
	cfg, logger, err := setUp(&errOut, true)
	if err != nil {
		t.Fatal(err)
	}
	pool, err := openPool(context.Background(), cfg, logger, cfg.DatabaseURL, "DATABASE_URL", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	for _, state := range []string{"two pending", "up to date"} {
		if err := migrateOnStart(context.Background(), cfg, logger, pool); err != nil {
			t.Fatalf("%s: migrating on start with DB_STATEMENT_TIMEOUT=1ms: %v %s", state, err, errOut.String())
		}
	}
	// Asked on a pool without the 1 ms timeout, which a busy machine can exceed for any query.
	check, err := openMigrationPool(context.Background(), cfg, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	m, err := postgres.NewMigrator(check, logger)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if pending, err := m.HasPending(context.Background()); err != nil || pending {
		t.Errorf("after migrating on start: pending %v, %v", pending, err)
	}
}
