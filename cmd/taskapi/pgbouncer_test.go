package main

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// startPgBouncer runs a real PgBouncer in transaction mode (Neon's pooler is one) in front of
// the test database, and returns its URL for that database.
func startPgBouncer(t *testing.T, databaseURL string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		t.Fatal("pgbouncer is not installed (apt-get install pgbouncer)")
	}
	u, err := url.Parse(databaseURL)
	if err != nil {
		t.Fatal(err)
	}
	dir := testdb.OwnedTempDir(t)
	port := testdb.FreePort(t)
	config := fmt.Sprintf(`[databases]
taskapi = host=%s port=%s dbname=%s user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir = %s
auth_type = trust
auth_file = %s/users.txt
pool_mode = transaction
default_pool_size = 3
max_client_conn = 200
; pgx sends these at connect; a transaction pooler cannot keep session settings.
ignore_startup_parameters = extra_float_digits,statement_timeout
logfile = %s/pgbouncer.log
`, u.Hostname(), u.Port(), strings.TrimPrefix(u.Path, "/"), port, dir, dir, dir)
	for name, content := range map[string]string{"pgbouncer.ini": config, "users.txt": `"postgres" ""` + "\n"} {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := testdb.AsPostgres(bin, filepath.Join(dir, "pgbouncer.ini"))
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }) // SIGINT would wait for clients
	pooled := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/taskapi?sslmode=disable", port)
	if err := testdb.WaitFor(10*time.Second, func() error {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err == nil {
			c.Close()
		}
		return err
	}); err != nil {
		log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
		t.Fatalf("pgbouncer did not start: %v\n%s", err, log)
	}
	return pooled
}

// Through PgBouncer in transaction mode, with the exec modes that need no session state, the
// whole API works; migrations go over the direct URL.
func TestThroughPgBouncer(t *testing.T) {
	direct := testdb.URL(t)
	pooled := startPgBouncer(t, direct)
	for _, mode := range []string{"exec", "simple_protocol", "describe_exec", "cache_describe"} {
		t.Run(mode, func(t *testing.T) {
			t.Setenv("DATABASE_URL", pooled)
			t.Setenv("MIGRATION_DATABASE_URL", direct)
			t.Setenv("DB_QUERY_EXEC_MODE", mode)
			t.Setenv("BETTER_AUTH_SECRET", secret)
			t.Setenv("RATE_LIMIT_RPS", "0")
			baseURL, _, stderr, stop := start(t)
			if !strings.Contains(stderr.String(), `"db_exec_mode":"`) {
				t.Errorf("the exec mode is not logged")
			}
			c := apitest.NewClient(t, baseURL, []byte(secret))
			exerciseAPI(t, c, c.Token("user-"+mode))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// exerciseAPI runs every kind of statement the service sends: create (plain and idempotent),
// list with filters and a cursor, get, conditional patch and put, delete.
func exerciseAPI(t *testing.T, c *apitest.Client, token string) {
	t.Helper()
	ids := make([]string, 0, 6)
	for i := range 5 {
		r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{
			"title": fmt.Sprintf("task %d", i), "tags": []string{"pooled"}, "priority": "high", "due_date": "2026-12-01T00:00:00Z",
		}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var created struct{ ID string }
		r.JSON(t, &created)
		ids = append(ids, created.ID)
	}
	for range 2 {
		r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token,
			Body: map[string]any{"title": "once"}, Header: http.Header{"Idempotency-Key": {"k1"}}})
		if r.Status != http.StatusCreated {
			t.Fatalf("idempotent create: %d %s", r.Status, r.Body)
		}
	}
	seen, cursor := 0, ""
	for {
		path := "/api/tasks?limit=2&tag=pooled&sort=title&priority=high&q=task"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := c.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: token})
		var page struct {
			Items      []struct{ ID string }
			NextCursor *string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		seen += len(page.Items)
		if page.NextCursor == nil {
			break
		}
		cursor = *page.NextCursor
	}
	if seen != 5 {
		t.Errorf("walked %d tasks, want 5", seen)
	}
	r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + ids[0], Token: token})
	etag := r.Header.Get("ETag")
	for _, req := range []apitest.Request{
		{Method: http.MethodPatch, Path: "/api/tasks/" + ids[0], Token: token, Body: map[string]any{"completed": true}, Header: http.Header{"If-Match": {etag}}},
		{Method: http.MethodPut, Path: "/api/tasks/" + ids[1], Token: token, Body: map[string]any{"title": "replaced"}},
	} {
		if r := c.Do(req); r.Status != http.StatusOK {
			t.Errorf("%s: %d %s", req.Method, r.Status, r.Body)
		}
	}
	if r := c.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + ids[2], Token: token}); r.Status != http.StatusNoContent {
		t.Errorf("delete: %d", r.Status)
	}
}
