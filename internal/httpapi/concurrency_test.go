package httpapi_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"

	"taskapi/internal/apitest"
)

func TestETagsAndConditionalRequests(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "v1"}})
	wantStatus(t, r, http.StatusCreated)
	var created task
	r.JSON(t, &created)
	path := "/api/tasks/" + created.ID
	v1 := r.Header.Get("ETag")
	if v1 == "" || v1[0] != '"' {
		t.Fatalf("ETag %q is not a strong entity tag", v1)
	}
	if got := s.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: alice}).Header.Get("ETag"); got != v1 {
		t.Errorf("GET ETag %q, created with %q", got, v1)
	}

	cond := func(method, name, value string, body any) *apitest.Response {
		return s.Do(apitest.Request{Method: method, Path: path, Token: alice, Body: body, Header: http.Header{name: {value}}})
	}
	for _, tag := range []string{v1, "W/" + v1, `"nope", ` + v1, "*"} {
		r := cond(http.MethodGet, "If-None-Match", tag, nil)
		if r.Status != http.StatusNotModified || len(r.Body) != 0 || r.Header.Get("ETag") != v1 {
			t.Errorf("If-None-Match %s: %d %q ETag %q", tag, r.Status, r.Body, r.Header.Get("ETag"))
		}
	}
	wantStatus(t, cond(http.MethodGet, "If-None-Match", `"999"`, nil), http.StatusOK)

	r = cond(http.MethodPatch, "If-Match", v1, map[string]any{"title": "v2"})
	wantStatus(t, r, http.StatusOK)
	v2 := r.Header.Get("ETag")
	if v2 == v1 || v2 == "" {
		t.Fatalf("ETag did not change on update: %q -> %q", v1, v2)
	}
	// A stale, weak, malformed or unknown ETag: 412 and nothing changes.
	for _, tag := range []string{v1, "W/" + v2, "garbage", `"0"`, `""`} {
		for _, req := range []struct {
			method string
			body   any
		}{{http.MethodPatch, map[string]any{"title": "lost update"}}, {http.MethodPut, map[string]any{"title": "lost update"}}, {http.MethodDelete, nil}} {
			p := wantProblem(t, cond(req.method, "If-Match", tag, req.body), http.StatusPreconditionFailed)
			if p.Type != "urn:taskapi:problem:precondition-failed" {
				t.Errorf("type %q", p.Type)
			}
		}
	}
	if status, got := get(t, s.Client, alice, created.ID); status != http.StatusOK || got.Title != "v2" {
		t.Fatalf("a refused write changed the task: %+v", got)
	}
	r = cond(http.MethodPut, "If-Match", `"1", `+v2, map[string]any{"title": "v3"})
	wantStatus(t, r, http.StatusOK)
	v3 := r.Header.Get("ETag")
	// Even a write that changes no field gives a new ETag: every update moves it.
	r = cond(http.MethodPatch, "If-Match", "*", map[string]any{})
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("ETag") == v3 {
		t.Error("the ETag did not move on an update")
	}
	// Someone else's task stays a 404, never a 412 that would give it away.
	bob := s.Token("bob")
	for _, req := range []apitest.Request{
		{Method: http.MethodPatch, Body: map[string]any{}},
		{Method: http.MethodPut, Body: map[string]any{"title": "bob's now"}},
		{Method: http.MethodDelete},
		{Method: http.MethodGet, Header: http.Header{"If-None-Match": {"*"}}},
	} {
		req.Path, req.Token = path, bob
		if req.Header == nil {
			req.Header = http.Header{"If-Match": {"*"}}
		}
		wantProblem(t, s.Do(req), http.StatusNotFound)
	}
	wantStatus(t, cond(http.MethodDelete, "If-Match", r.Header.Get("ETag"), nil), http.StatusNoContent)
	wantProblem(t, cond(http.MethodDelete, "If-Match", "*", nil), http.StatusNotFound)
}

// Of N writers holding the same ETag, exactly one wins; the check and the write are one
// statement.
func TestIfMatchLetsExactlyOneConcurrentWriterWin(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{"title": "contended"}})
	var created task
	r.JSON(t, &created)
	tag := r.Header.Get("ETag")

	const writers = 24
	statuses := make(chan int, writers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range writers {
		wg.Go(func() {
			<-start
			method, body := http.MethodPatch, any(map[string]any{"title": fmt.Sprintf("writer %d", i)})
			switch i % 3 {
			case 1:
				method = http.MethodPut
			case 2:
				method, body = http.MethodDelete, nil
			}
			statuses <- s.For(t).Do(apitest.Request{Method: method, Path: "/api/tasks/" + created.ID, Token: alice, Body: body,
				Header: http.Header{"If-Match": {tag}}}).Status
		})
	}
	close(start)
	wg.Wait()
	close(statuses)
	counts := map[int]int{}
	for status := range statuses {
		counts[status]++
	}
	won := counts[http.StatusOK] + counts[http.StatusNoContent]
	if won != 1 || counts[http.StatusPreconditionFailed]+counts[http.StatusNotFound] != writers-1 {
		t.Errorf("outcomes %v: want exactly one winner and the rest refused", counts)
	}
	var version int64
	err := s.Pool.QueryRow(context.Background(), "SELECT coalesce(max(version), 0) FROM tasks").Scan(&version)
	if err != nil || version > 2 {
		t.Errorf("the task was written %d times", version-1)
	}
}
