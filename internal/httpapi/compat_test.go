package httpapi_test

import (
	"net/http"
	"net/url"
	"sync"
	"testing"

	"taskapi/internal/apitest"
)

func TestCompatRoutes(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "aBcD1234aBcD1234aBcD1234aBcD1234" // a Better Auth user id
	token := s.Token(user)
	base := "/api/" + user + "/tasks"

	r := s.Do(apitest.Request{Method: http.MethodPost, Path: base, Token: token, Body: map[string]any{"title": "phase two", "description": "d"}})
	wantStatus(t, r, http.StatusCreated)
	var created task
	r.JSON(t, &created)
	item := base + "/" + created.ID

	// The same task on the main routes.
	if status, got := get(t, s.Client, token, created.ID); status != http.StatusOK || got.Title != "phase two" {
		t.Fatalf("main route: %d %+v", status, got)
	}
	create(t, s.Client, token, map[string]any{"title": "made on the main route", "completed": true})

	r = s.Do(apitest.Request{Method: http.MethodGet, Path: base, Token: token})
	wantStatus(t, r, http.StatusOK)
	var all []task
	r.JSON(t, &all)
	if len(all) != 2 || all[0].Title != "made on the main route" {
		t.Errorf("list: %s", r.Body)
	}
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: base + "?status=pending&sort=title&limit=1", Token: token})
	all = nil
	r.JSON(t, &all)
	if len(all) != 1 || all[0].ID != created.ID {
		t.Errorf("filtered list: %s", r.Body)
	}

	wantStatus(t, s.Do(apitest.Request{Method: http.MethodGet, Path: item, Token: token}), http.StatusOK)
	r = s.Do(apitest.Request{Method: http.MethodPut, Path: item, Token: token, Body: map[string]any{"title": "replaced"}})
	var replaced task
	r.JSON(t, &replaced)
	if r.Status != http.StatusOK || replaced.Title != "replaced" || replaced.Description == nil || *replaced.Description != "d" {
		t.Errorf("put: %d %s", r.Status, r.Body)
	}

	for i, want := range []bool{true, false, true} {
		r := s.Do(apitest.Request{Method: http.MethodPatch, Path: item + "/complete", Token: token})
		var toggled task
		r.JSON(t, &toggled)
		if r.Status != http.StatusOK || toggled.Completed != want || (toggled.CompletedAt != nil) != want {
			t.Errorf("toggle %d: %d %s", i, r.Status, r.Body)
		}
	}
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPut, Path: item, Token: token, Body: map[string]any{"title": ""}}), http.StatusUnprocessableEntity, "title")
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: base + "/not-a-uuid", Token: token}), http.StatusBadRequest, "id")
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodDelete, Path: item, Token: token}), http.StatusNoContent)
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: item, Token: token}), http.StatusNotFound)
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: base}), http.StatusUnauthorized)
}

// The path's user_id must be the caller: anyone else's, existing or not, is the same 404,
// on every route.
func TestCompatRoutesAreTheCallersOnly(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, mallory := s.Token("alice"), s.Token("mallory")
	r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/alice/tasks", Token: alice, Body: map[string]any{"title": "secret"}})
	var secret task
	r.JSON(t, &secret)

	var details []string
	for _, path := range []string{"/api/alice", "/api/nobody-at-all", "/api/" + url.PathEscape("ALICE")} {
		for _, req := range []apitest.Request{
			{Method: http.MethodGet, Path: path + "/tasks"},
			{Method: http.MethodPost, Path: path + "/tasks", Body: map[string]any{"title": "planted"}},
			{Method: http.MethodGet, Path: path + "/tasks/" + secret.ID},
			{Method: http.MethodPut, Path: path + "/tasks/" + secret.ID, Body: map[string]any{"title": "pwned"}},
			{Method: http.MethodDelete, Path: path + "/tasks/" + secret.ID},
			{Method: http.MethodPatch, Path: path + "/tasks/" + secret.ID + "/complete"},
		} {
			req.Token = mallory
			details = append(details, wantProblem(t, s.Do(req), http.StatusNotFound).Detail)
		}
	}
	for _, d := range details {
		if d != details[0] {
			t.Errorf("404s differ (%q vs %q): they could tell users apart", d, details[0])
		}
	}
	// Mallory's own path does not reach alice's task either.
	for _, method := range []string{http.MethodGet, http.MethodDelete} {
		wantProblem(t, s.Do(apitest.Request{Method: method, Path: "/api/mallory/tasks/" + secret.ID, Token: mallory}), http.StatusNotFound)
	}
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/mallory/tasks/" + secret.ID + "/complete", Token: mallory}), http.StatusNotFound)
	if status, got := get(t, s.Client, alice, secret.ID); status != http.StatusOK || got.Title != "secret" || got.Completed {
		t.Errorf("alice's task changed: %+v", got)
	}
	if n := countTasks(t, s); n != 1 {
		t.Errorf("%d tasks: something was planted", n)
	}
}

// Toggling is one statement: N concurrent toggles flip the task N times.
func TestCompatToggleIsAtomic(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	token := s.Token("alice")
	created := create(t, s.Client, token, map[string]any{"title": "flip"})
	var wg sync.WaitGroup
	for range 11 {
		wg.Go(func() {
			s.For(t).Do(apitest.Request{Method: http.MethodPatch, Path: "/api/alice/tasks/" + created.ID + "/complete", Token: token})
		})
	}
	wg.Wait()
	if _, got := get(t, s.Client, token, created.ID); !got.Completed {
		t.Error("11 toggles left the task open: some toggles were lost")
	}
}
