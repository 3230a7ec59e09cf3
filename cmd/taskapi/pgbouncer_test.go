package main

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/testdb"
)

// refusalWarning is the warning logged when a server refuses statement_timeout as a stock
// PgBouncer does.
const refusalWarning = "refused the statement_timeout startup parameter"

// Through a stock PgBouncer in transaction mode on a host without Neon's -pooler in its name
// (a self-hosted pooler, Supabase's on port 6543), the whole API works: with DB_POOLER unset
// the service notices the refusal of statement_timeout, warns once and picks the exec mode;
// with DB_POOLER=transaction it sends nothing to refuse; an explicit DB_QUERY_EXEC_MODE is
// kept either way. Migrations go over the direct URL.
func TestThroughPgBouncer(t *testing.T) {
	direct := testdb.URL(t)
	pooled := testdb.StartPgBouncer(t, direct)
	for _, tc := range []struct {
		name, pooler, mode string
		wantMode           string // as pgx names it
		wantWarnings       int
	}{
		{name: "auto", wantMode: "exec", wantWarnings: 1},
		{name: "transaction", pooler: "transaction", wantMode: "exec"},
		{name: "auto simple_protocol", mode: "simple_protocol", wantMode: "simple protocol", wantWarnings: 1},
		{name: "transaction describe_exec", pooler: "transaction", mode: "describe_exec", wantMode: "describe exec"},
		{name: "transaction cache_describe", pooler: "transaction", mode: "cache_describe", wantMode: "cache describe"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("DATABASE_URL", pooled)
			t.Setenv("MIGRATION_DATABASE_URL", direct)
			if tc.pooler != "" {
				t.Setenv("DB_POOLER", tc.pooler)
			}
			if tc.mode != "" {
				t.Setenv("DB_QUERY_EXEC_MODE", tc.mode)
			}
			t.Setenv("BETTER_AUTH_SECRET", secret)
			t.Setenv("RATE_LIMIT_RPS", "0")
			baseURL, _, stderr, stop := start(t)
			logs := stderr.String()
			if n := strings.Count(logs, refusalWarning); n != tc.wantWarnings {
				t.Errorf("the refusal was logged %d times, want %d:\n%s", n, tc.wantWarnings, logs)
			}
			if serving := logLine(logs, `"msg":"serving"`); !strings.Contains(serving, `"db_exec_mode":"`+tc.wantMode+`"`) {
				t.Errorf("serving with another exec mode than %s: %s", tc.wantMode, serving)
			}
			c := apitest.NewClient(t, baseURL, []byte(secret))
			exerciseAPI(t, c, c.Token("user-"+tc.name))
			if err := stop(); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// A stock PgBouncer refuses statement_timeout, which DB_POOLER=none insists on sending: the
// service stops at once (not after DB_CONNECT_TIMEOUT) and says to set DB_POOLER. A parameter
// of the URL's own that it refuses is reported as the URL's to fix, whatever DB_POOLER says.
func TestPgBouncerRefusals(t *testing.T) {
	direct := testdb.URL(t)
	pooled := testdb.StartPgBouncer(t, direct)
	out := serveFails(t, "DATABASE_URL="+pooled, "MIGRATION_DATABASE_URL="+direct, "DB_POOLER=none")
	for _, want := range []string{"taskapi: the server at 127.0.0.1:", "refused the startup parameter statement_timeout", "set DB_POOLER=transaction"} {
		if !strings.Contains(out, want) {
			t.Errorf("DB_POOLER=none: the error lacks %q:\n%s", want, out)
		}
	}
	out = serveFails(t, "DATABASE_URL="+pooled+"&search_path=public", "MIGRATION_DATABASE_URL="+direct)
	if !strings.Contains(out, "refused the startup parameter search_path") || !strings.Contains(out, "remove it from DATABASE_URL") {
		t.Errorf("search_path in the URL: the error does not say what to fix:\n%s", out)
	}
}

// logLine is the first line of logs that contains s.
func logLine(logs, s string) string {
	for line := range strings.Lines(logs) {
		if strings.Contains(line, s) {
			return line
		}
	}
	return ""
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
