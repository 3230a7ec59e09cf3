package httpapi_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"

	"taskapi/internal/apitest"
)

var strictly = http.Header{"Prefer": {"handling=strict"}}

func warnings(r *apitest.Response) []string { return r.Header.Values("Warning") }

// A Phase II form's create: the fields taskapi does not have are ignored, never applied,
// and named one Warning each; the ones it has are validated as always.
func TestUnknownBodyFieldsAreIgnoredAndNamed(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")

	r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{
		"title": "Weekly meeting", "priority": "high", "status": "todo", "category": "work",
		"is_recurring": true, "recurrence_pattern": "weekly", "dueDate": "2026-12-07T09:00:00Z",
	}})
	wantStatus(t, r, http.StatusCreated)
	want := []string{
		`299 taskapi "ignored unknown field: category"`,
		`299 taskapi "ignored unknown field: dueDate"`,
		`299 taskapi "ignored unknown field: is_recurring"`,
		`299 taskapi "ignored unknown field: recurrence_pattern"`,
		`299 taskapi "ignored unknown field: status"`,
	}
	if got := warnings(r); !slices.Equal(got, want) {
		t.Errorf("Warning headers\n got %q\nwant %q", got, want)
	}
	if r.Header.Get("Preference-Applied") != "" {
		t.Errorf("Preference-Applied without a Prefer")
	}
	var created task
	r.JSON(t, &created)
	if created.Title != "Weekly meeting" || created.Priority != "high" || created.DueDate != nil {
		t.Errorf("created %+v (dueDate is not due_date and must not be applied)", created)
	}
	for _, leaked := range []string{"category", "is_recurring", "dueDate", `"status"`} {
		if strings.Contains(string(r.Body), leaked) {
			t.Errorf("the answer carries %s: %s", leaked, r.Body)
		}
	}

	// The fields the API has are checked as always, unknown ones beside them or not.
	r = s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{
		"title": "", "priority": "urgent", "colour": "red"}})
	wantProblem(t, r, http.StatusUnprocessableEntity, "title", "priority")
	if got := warnings(r); len(got) != 1 || !strings.Contains(got[0], "colour") {
		t.Errorf("a 422 still names what was ignored: %q", got)
	}
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice,
		Body: `{"title": 5, "colour": "red"}`}), http.StatusBadRequest, "title")

	// No more than ten Warning headers, however many fields.
	body := map[string]any{"title": "many"}
	for _, f := range strings.Split("a b c d e f g h i j k l", " ") {
		body["extra_"+f] = f
	}
	r = s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: body})
	wantStatus(t, r, http.StatusCreated)
	if got := warnings(r); len(got) != 10 || got[0] != `299 taskapi "ignored unknown field: extra_a"` {
		t.Errorf("%d Warning headers: %q", len(got), got)
	}

	// A hostile name cannot break the header: quotes, control characters, other scripts and
	// great length are encoded and cut.
	r = s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice,
		Body: `{"title": "odd", "a\"b\\c\r\nX-Injected: 1": 1, "título": 2, "` + strings.Repeat("z", 300) + `": 3}`})
	wantStatus(t, r, http.StatusCreated)
	if r.Header.Get("X-Injected") != "" {
		t.Fatal("a field name injected a header")
	}
	got := strings.Join(warnings(r), "\n")
	for _, want := range []string{`ignored unknown field: a%22b%5Cc%0D%0AX-Injected: 1"`, `ignored unknown field: t%C3%ADtulo"`,
		`ignored unknown field: ` + strings.Repeat("z", 64) + `..."`} {
		if !strings.Contains(got, want) {
			t.Errorf("Warnings lack %s:\n%s", want, got)
		}
	}
}

// Prefer: handling=strict keeps the contract to the letter: the same inputs are a 422 or a
// 400, nothing is written, and every answer says the preference was applied.
func TestStrictHandlingRefusesUnknownInput(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	own := create(t, s.Client, alice, map[string]any{"title": "mine"})

	for _, prefer := range []string{"handling=strict", `return=minimal, handling="strict"`, "HANDLING=Strict; x=y"} {
		header := http.Header{"Prefer": {prefer}}
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Header: header,
			Body: map[string]any{"title": "x", "status": "todo"}})
		wantProblem(t, r, http.StatusUnprocessableEntity, "status")
		if r.Header.Get("Preference-Applied") != "handling=strict" || len(warnings(r)) != 0 {
			t.Errorf("Prefer %q: Preference-Applied %q, Warning %q", prefer, r.Header.Get("Preference-Applied"), warnings(r))
		}
	}
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?sort_by=title", Token: alice, Header: strictly})
	wantProblem(t, r, http.StatusBadRequest, "sort_by")
	r = s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + own.ID, Token: alice, Header: strictly,
		Body: map[string]any{"completed": true, "isDone": true}, ContentType: "application/merge-patch+json"})
	wantProblem(t, r, http.StatusUnprocessableEntity, "isDone")

	// What is valid passes, and says the preference was applied.
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?status=pending", Token: alice, Header: strictly})
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("Preference-Applied") != "handling=strict" {
		t.Errorf("a 200 under strict handling lacks Preference-Applied")
	}
	// Another preference alone changes nothing.
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?page=2", Token: alice, Header: http.Header{"Prefer": {"return=minimal"}}})
	wantStatus(t, r, http.StatusOK)
	if r.Header.Get("Preference-Applied") != "" || len(warnings(r)) != 1 {
		t.Errorf("Prefer: return=minimal: Preference-Applied %q, Warning %q", r.Header.Get("Preference-Applied"), warnings(r))
	}

	if _, after := get(t, s.Client, alice, own.ID); after.Completed || after.UpdatedAt != own.UpdatedAt {
		t.Errorf("a strict refusal wrote: %+v", after)
	}
	var n int
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice})
	var p page
	r.JSON(t, &p)
	if n = len(p.Items); n != 1 {
		t.Errorf("%d tasks after strict refusals, want 1", n)
	}
}

// The list parameters frontends send (FastAPI ignores the ones it does not take) are ignored
// and named, on every route; known parameters with bad values are still a 400.
func TestUnknownQueryParametersAreIgnoredAndNamed(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "phase2-user"
	token := s.Token(user)
	first := create(t, s.Client, token, map[string]any{"title": "a first"})
	create(t, s.Client, token, map[string]any{"title": "b second"})

	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?sort_by=title&sort_order=asc&order=desc&page=1&skip=0&status=all", Token: token})
	wantStatus(t, r, http.StatusOK)
	want := []string{
		`299 taskapi "ignored unknown query parameter: order"`,
		`299 taskapi "ignored unknown query parameter: page"`,
		`299 taskapi "ignored unknown query parameter: skip"`,
		`299 taskapi "ignored unknown query parameter: sort_by"`,
		`299 taskapi "ignored unknown query parameter: sort_order"`,
	}
	if got := warnings(r); !slices.Equal(got, want) {
		t.Errorf("Warning headers\n got %q\nwant %q", got, want)
	}
	var p page
	r.JSON(t, &p)
	if len(p.Items) != 2 || p.Items[0].Title != "b second" {
		t.Errorf("ignored parameters changed the list (sort_by=title must not sort): %s", r.Body)
	}

	for _, path := range []string{"/api/" + user + "/tasks?page=1&skip=0", "/api/tasks/" + first.ID + "?include=all", "/api/" + user + "/tasks/" + first.ID + "?v=2"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: token})
		wantStatus(t, r, http.StatusOK)
		if len(warnings(r)) == 0 {
			t.Errorf("%s: the ignored parameters are not named", path)
		}
	}
	// A parameter the ops routes do not take is ignored there too.
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz?probe=1"})
	wantStatus(t, r, http.StatusOK)
	if len(warnings(r)) != 1 {
		t.Errorf("/healthz?probe=1: Warning %q", warnings(r))
	}

	for _, query := range []string{"status=done", "limit=0", "sort=sideways", "limit=1&limit=2", "q=a%00b"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?page=1&" + query, Token: token})
		wantProblem(t, r, http.StatusBadRequest)
	}
}

// The Phase II spec's sort names: created is newest first, as its UIs show; title and
// due_date are ours already. On both list routes, and cursors work across the names.
func TestPhaseIISortNames(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "sorter"
	token := s.Token(user)
	for _, title := range []string{"one", "two", "three"} {
		create(t, s.Client, token, map[string]any{"title": title})
	}
	newest := titles(list(t, s.Client, token, "sort=-created_at"))
	if got := titles(list(t, s.Client, token, "sort=created")); !slices.Equal(got, newest) || got[0] != "three" {
		t.Errorf("sort=created: %v, want newest first %v", got, newest)
	}
	if got := titles(list(t, s.Client, token, "sort=title&status=pending")); !slices.Equal(got, []string{"one", "three", "two"}) {
		t.Errorf("sort=title: %v", got)
	}
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/" + user + "/tasks?sort=created&status=all", Token: token})
	wantStatus(t, r, http.StatusOK)
	var compat []task
	r.JSON(t, &compat)
	if len(compat) != 3 || compat[0].Title != "three" {
		t.Errorf("compat sort=created: %s", r.Body)
	}
	// A cursor made under one name walks on under the other.
	p := list(t, s.Client, token, "sort=created&limit=1")
	if p.NextCursor == nil {
		t.Fatal("no next page")
	}
	next := list(t, s.Client, token, "sort=-created_at&limit=1&cursor="+url.QueryEscape(*p.NextCursor))
	if titles(next)[0] != "two" {
		t.Errorf("the cursor of sort=created under -created_at: %v", titles(next))
	}
	if got := walk(t, s.Client, token, "sort=created&limit=2"); len(got) != 3 {
		t.Errorf("walking sort=created visited %d tasks", len(got))
	}
}

// PUT sends the fields of an edit form: what is left out keeps its value (editing the title
// of a completed task leaves it completed), null clears, and no field is required.
func TestPutKeepsWhatItIsNotSent(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "editor"
	token := s.Token(user)
	orig := create(t, s.Client, token, map[string]any{"title": "Report", "description": "Q4", "priority": "high",
		"due_date": "2026-12-24T12:00:00Z", "tags": []string{"work"}, "completed": true})

	for _, path := range []string{"/api/tasks/" + orig.ID, "/api/" + user + "/tasks/" + orig.ID} {
		r := s.Do(apitest.Request{Method: http.MethodPut, Path: path, Token: token, Body: map[string]any{"title": "Report v2 " + path[:6]}})
		wantStatus(t, r, http.StatusOK)
		var got task
		r.JSON(t, &got)
		if !got.Completed || got.CompletedAt == nil || *got.CompletedAt != *orig.CompletedAt || got.Description == nil || *got.Description != "Q4" ||
			got.Priority != "high" || got.DueDate == nil || strings.Join(got.Tags, ",") != "work" {
			t.Errorf("PUT %s of the title alone changed other fields: %+v", path, got)
		}
	}

	r := s.Do(apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + orig.ID, Token: token,
		Body: map[string]any{"description": nil, "due_date": nil, "completed": false}})
	wantStatus(t, r, http.StatusOK)
	var cleared task
	r.JSON(t, &cleared)
	if cleared.Description != nil || cleared.DueDate != nil || cleared.Completed || cleared.CompletedAt != nil || cleared.Priority != "high" {
		t.Errorf("null clears, false reopens, the rest stays: %+v", cleared)
	}
	r = s.Do(apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + orig.ID, Token: token, Body: map[string]any{}})
	wantStatus(t, r, http.StatusOK)

	for _, body := range []map[string]any{{"title": nil}, {"title": "  "}, {"tags": nil}, {"priority": "urgent"}, {"completed": nil}} {
		wantProblem(t, s.Do(apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + orig.ID, Token: token, Body: body}), http.StatusUnprocessableEntity)
	}
}

// PATCH /api/tasks/{id}/complete, the toggle many Phase II frontends call: the same toggle,
// ETag and If-Match rules as the Phase II table's route.
func TestToggleRoute(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "toggler"
	token := s.Token(user)
	item := create(t, s.Client, token, map[string]any{"title": "flip me"})

	etag := ""
	for i, want := range []bool{true, false, true} {
		path := "/api/tasks/" + item.ID + "/complete"
		if i == 1 {
			path = "/api/" + user + "/tasks/" + item.ID + "/complete"
		}
		r := s.Do(apitest.Request{Method: http.MethodPatch, Path: path, Token: token})
		wantStatus(t, r, http.StatusOK)
		var toggled task
		r.JSON(t, &toggled)
		if toggled.Completed != want || (toggled.CompletedAt != nil) != want {
			t.Errorf("toggle %d on %s: %s", i, path, r.Body)
		}
		if r.Header.Get("ETag") == "" || r.Header.Get("ETag") == etag {
			t.Errorf("toggle %d: ETag %q after %q", i, r.Header.Get("ETag"), etag)
		}
		etag = r.Header.Get("ETag")
	}

	for _, path := range []string{"/api/tasks/" + item.ID + "/complete", "/api/" + user + "/tasks/" + item.ID + "/complete"} {
		r := s.Do(apitest.Request{Method: http.MethodPatch, Path: path, Token: token, Header: http.Header{"If-Match": {`"1"`}}})
		wantProblem(t, r, http.StatusPreconditionFailed)
	}
	if _, now := get(t, s.Client, token, item.ID); !now.Completed {
		t.Errorf("a failed If-Match toggled the task")
	}
	r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + item.ID + "/complete", Token: token, Header: http.Header{"If-Match": {etag}}})
	wantStatus(t, r, http.StatusOK)

	// Another user's task, and a task that does not exist, are the same 404, with or
	// without If-Match.
	for _, header := range []http.Header{nil, {"If-Match": {etag}}} {
		wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + item.ID + "/complete", Token: s.Token("mallory"), Header: header}), http.StatusNotFound)
		wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e/complete", Token: token, Header: header}), http.StatusNotFound)
	}

	// Toggles are atomic: an even number of concurrent toggles leaves the task as it was.
	_, before := get(t, s.Client, token, item.ID)
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + item.ID + "/complete", Token: token})
			if r.Status != http.StatusOK {
				t.Errorf("concurrent toggle: %d", r.Status)
			}
		})
	}
	wg.Wait()
	if _, after := get(t, s.Client, token, item.ID); after.Completed != before.Completed {
		t.Errorf("10 toggles changed completed from %v to %v", before.Completed, after.Completed)
	}
}
