package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

// task is a response body as the tests read it.
type task struct {
	ID          string   `json:"id"`
	Title       string   `json:"title"`
	Description *string  `json:"description"`
	Completed   bool     `json:"completed"`
	CompletedAt *string  `json:"completed_at"`
	Priority    string   `json:"priority"`
	DueDate     *string  `json:"due_date"`
	Tags        []string `json:"tags"`
	Recurrence  *string  `json:"recurrence"`
	Timezone    string   `json:"timezone"`
	SeriesID    *string  `json:"series_id"`
	RemindAt    *string  `json:"remind_at"`
	CreatedAt   string   `json:"created_at"`
	UpdatedAt   string   `json:"updated_at"`
}

type page struct {
	Items      []task  `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// create makes a task for the token's user and fails the test unless it gets a 201.
func create(t testing.TB, c *apitest.Client, token string, body map[string]any) task {
	t.Helper()
	r := c.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: body})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %v: status %d: %s", body, r.Status, r.Body)
	}
	var got task
	r.JSON(t, &got)
	return got
}

func get(t *testing.T, c *apitest.Client, token, id string) (int, task) {
	t.Helper()
	r := c.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + id, Token: token})
	var got task
	if r.Status == http.StatusOK {
		r.JSON(t, &got)
	}
	return r.Status, got
}

func wantStatus(t *testing.T, r *apitest.Response, want int) {
	t.Helper()
	if r.Status != want {
		t.Fatalf("status %d, want %d; body: %s", r.Status, want, r.Body)
	}
}

// wantProblem checks the status and that the problem names each field in fields.
func wantProblem(t *testing.T, r *apitest.Response, status int, fields ...string) apitest.Problem {
	t.Helper()
	wantStatus(t, r, status)
	p := r.Problem(t)
	for _, f := range fields {
		found := false
		for _, e := range p.Errors {
			found = found || e.Field == f
		}
		if !found {
			t.Errorf("problem does not name field %q: %s", f, r.Body)
		}
	}
	return p
}

// later reports whether timestamp a is after timestamp b.
func later(t *testing.T, a, b string) bool {
	t.Helper()
	ta, err1 := time.Parse(time.RFC3339Nano, a)
	tb, err2 := time.Parse(time.RFC3339Nano, b)
	if err1 != nil || err2 != nil {
		t.Fatalf("timestamps %q, %q: %v %v", a, b, err1, err2)
	}
	return ta.After(tb)
}
