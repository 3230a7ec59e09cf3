package httpapi_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

func TestCORS(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{CORSOrigins: []string{"https://app.example.com", "http://localhost:3000"}})
	preflight := func(origin string) *apitest.Response {
		return s.Do(apitest.Request{Method: http.MethodOptions, Path: "/api/tasks", Header: http.Header{
			"Origin":                         {origin},
			"Access-Control-Request-Method":  {"POST"},
			"Access-Control-Request-Headers": {"authorization, content-type, idempotency-key"},
		}})
	}
	r := preflight("https://app.example.com")
	wantStatus(t, r, http.StatusNoContent)
	h := r.Header
	if h.Get("Access-Control-Allow-Origin") != "https://app.example.com" || h.Get("Access-Control-Allow-Credentials") != "true" ||
		!strings.Contains(h.Get("Access-Control-Allow-Methods"), "PATCH") ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "idempotency-key") {
		t.Errorf("preflight from an allowed origin: %v", h)
	}
	if h := preflight("https://evil.example.com").Header; h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("a preflight from another origin is allowed: %v", h)
	}

	alice := s.Token("alice")
	r = s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "x"},
		Header: http.Header{"Origin": {"http://localhost:3000"}}})
	wantStatus(t, r, http.StatusCreated)
	exposed := strings.ToLower(r.Header.Get("Access-Control-Expose-Headers"))
	for _, name := range []string{"etag", "location", "idempotent-replayed", "x-request-id"} {
		if !strings.Contains(exposed, name) {
			t.Errorf("%s is not exposed to scripts: %q", name, exposed)
		}
	}
	if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
		t.Errorf("ACAO %q", r.Header.Get("Access-Control-Allow-Origin"))
	}
	// Without CORS configured, nothing is allowed cross-origin.
	plain := apitest.Start(t, apitest.Options{})
	r = plain.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice, Header: http.Header{"Origin": {"https://app.example.com"}}})
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Error("CORS headers without CORS_ALLOWED_ORIGINS")
	}
}

func TestOversizedHeaders(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, size := range []int{40 << 10, 64 << 10, 900 << 10} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice,
			Header: http.Header{"X-Padding": {strings.Repeat("a", size)}}})
		p := wantProblem(t, r, http.StatusRequestHeaderFieldsTooLarge)
		if !strings.Contains(p.Detail, "32768") {
			t.Errorf("%d bytes: detail %q", size, p.Detail)
		}
	}
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice,
		Header: http.Header{"X-Padding": {strings.Repeat("a", 16<<10)}}}), http.StatusOK)
}

// A request that runs past REQUEST_TIMEOUT is answered 503 and its SQL is cancelled, not
// left running in the database.
func TestRequestTimeoutCancelsTheQuery(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{RequestTimeout: 300 * time.Millisecond})
	alice := s.Token("alice")
	created := create(t, s.Client, alice, map[string]any{"title": "locked"})

	// Another session holds the row, so the PATCH waits on its lock.
	ctx := context.Background()
	tx := lockRow(t, s, created.ID)
	r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + created.ID, Token: alice, Body: map[string]any{"title": "late"}})
	wantProblem(t, r, http.StatusServiceUnavailable)
	if r.Header.Get("Retry-After") == "" {
		t.Error("503 without Retry-After")
	}
	var waiting int
	for range 50 { // the cancel request travels on its own connection: give it a moment
		if err := s.Pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting == 0 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if waiting != 0 {
		t.Errorf("%d statements still waiting in the database after the request timed out", waiting)
	}
	tx.Rollback(ctx)
	if _, got := get(t, s.Client, alice, created.ID); got.Title != "locked" {
		t.Errorf("the timed-out update was applied: %+v", got)
	}
}

// A connection the server killed (57P01, as when Neon restarts a compute) costs a read
// nothing: it is retried once on a fresh connection. A write is not retried: 503.
func TestReadsSurviveAKilledConnection(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	created := create(t, s.Client, alice, map[string]any{"title": "survivor"})
	admin, err := pgx.Connect(context.Background(), testdb.AdminURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	var database string
	if err := s.Pool.QueryRow(context.Background(), "SELECT current_database()").Scan(&database); err != nil {
		t.Fatal(err)
	}
	kill := func() {
		t.Helper()
		var killed int
		err := admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND pid <> pg_backend_pid()`, database).Scan(&killed)
		if err != nil || killed == 0 {
			t.Fatalf("terminated %d backends: %v", killed, err)
		}
	}
	for _, path := range []string{"/api/tasks/" + created.ID, "/api/tasks?limit=5"} {
		get := apitest.Request{Method: http.MethodGet, Path: path, Token: alice}
		wantStatus(t, s.Do(get), http.StatusOK) // warm: the pool holds an idle connection
		kill()
		wantStatus(t, s.Do(get), http.StatusOK)
	}
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + created.ID, Token: alice}), http.StatusOK)
	kill()
	r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + created.ID, Token: alice, Body: map[string]any{"title": "x"}})
	wantProblem(t, r, http.StatusServiceUnavailable)
}

// A client that hangs up mid-request is not a server error: the request is logged (and
// counted) as 499, and nothing is logged at ERROR.
func TestClientHangUpIsNotAServerError(t *testing.T) {
	t.Parallel()
	logs := &apitest.LogBuffer{}
	s := apitest.Start(t, apitest.Options{Logs: logs})
	alice := s.Token("alice")
	created := create(t, s.Client, alice, map[string]any{"title": "locked"})
	ctx := context.Background()
	lockRow(t, s, created.ID)
	reqCtx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(reqCtx, http.MethodPatch, s.BaseURL+"/api/tasks/"+created.ID, strings.NewReader(`{"title":"x"}`))
	req.Header.Set("Authorization", "Bearer "+alice)
	req.Header.Set("Content-Type", "application/json")
	if _, err := http.DefaultClient.Do(req); err == nil {
		t.Fatal("the request finished although its row is locked")
	}
	if err := testdb.WaitFor(5*time.Second, func() error {
		if !strings.Contains(logs.String(), `"status":499`) {
			return errors.New("not logged yet")
		}
		return nil
	}); err != nil {
		t.Fatalf("the hang-up was not logged as 499:\n%s", logs)
	}
	if strings.Contains(logs.String(), `"level":"ERROR"`) {
		t.Errorf("a client hang-up was logged as an error:\n%s", logs)
	}
}

// lockRow holds task id's row in another transaction, so writes to it wait, until t ends or
// the returned transaction is rolled back.
func lockRow(t *testing.T, s *apitest.Server, id string) pgx.Tx {
	t.Helper()
	ctx := context.Background()
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tx.Rollback(context.Background()) })
	if _, err := tx.Exec(ctx, "SELECT 1 FROM tasks WHERE id = $1 FOR UPDATE", id); err != nil {
		t.Fatal(err)
	}
	return tx
}
