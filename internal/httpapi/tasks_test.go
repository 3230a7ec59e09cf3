package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

func TestTaskLifecycle(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")

	r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: map[string]any{
		"title": "  Buy milk  ", "description": "Two litres", "priority": "high",
		"due_date": "2026-12-01T17:00:00+01:00", "tags": []string{" shopping ", "errands"},
	}})
	wantStatus(t, r, http.StatusCreated)
	var created task
	r.JSON(t, &created)
	if got, want := r.Header.Get("Location"), "/api/tasks/"+created.ID; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	if created.Title != "Buy milk" || *created.Description != "Two litres" || created.Priority != "high" ||
		created.Completed || created.CompletedAt != nil || strings.Join(created.Tags, ",") != "shopping,errands" {
		t.Errorf("created %+v", created)
	}
	if *created.DueDate != "2026-12-01T16:00:00Z" {
		t.Errorf("due_date %q, want it in UTC", *created.DueDate)
	}
	if created.CreatedAt != created.UpdatedAt {
		t.Errorf("created_at %s != updated_at %s on a new task", created.CreatedAt, created.UpdatedAt)
	}

	status, fetched := get(t, s.Client, alice, created.ID)
	if status != http.StatusOK || fetched.ID != created.ID || fetched.Title != "Buy milk" {
		t.Fatalf("get: %d %+v", status, fetched)
	}

	r = s.Do(apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + created.ID, Token: alice,
		Body: map[string]any{"title": "Buy oat milk", "completed": true}})
	wantStatus(t, r, http.StatusOK)
	var replaced task
	r.JSON(t, &replaced)
	if replaced.Title != "Buy oat milk" || !replaced.Completed || replaced.CompletedAt == nil {
		t.Errorf("replaced %+v", replaced)
	}
	// PUT updates what the body has: what was left out keeps its value.
	if replaced.Description == nil || *replaced.Description != "Two litres" || replaced.DueDate == nil ||
		replaced.Priority != "high" || strings.Join(replaced.Tags, ",") != "shopping,errands" {
		t.Errorf("PUT changed fields it was not sent: %+v", replaced)
	}
	if replaced.CreatedAt != created.CreatedAt || !later(t, replaced.UpdatedAt, created.UpdatedAt) {
		t.Errorf("timestamps after PUT: created %s->%s, updated %s->%s", created.CreatedAt, replaced.CreatedAt, created.UpdatedAt, replaced.UpdatedAt)
	}

	r = s.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + created.ID, Token: alice})
	wantStatus(t, r, http.StatusNoContent)
	if status, _ := get(t, s.Client, alice, created.ID); status != http.StatusNotFound {
		t.Errorf("get after delete: %d", status)
	}
	r = s.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + created.ID, Token: alice})
	wantProblem(t, r, http.StatusNotFound)
}

func TestCreateDefaults(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	got := create(t, s.Client, s.Token("u1"), map[string]any{"title": "Only a title"})
	if got.Description != nil || got.Completed || got.CompletedAt != nil || got.Priority != "medium" ||
		got.DueDate != nil || got.Tags == nil || len(got.Tags) != 0 {
		t.Errorf("defaults: %+v", got)
	}
	completed := create(t, s.Client, s.Token("u1"), map[string]any{"title": "Done already", "completed": true})
	if !completed.Completed || completed.CompletedAt == nil {
		t.Errorf("a task created completed has completed_at: %+v", completed)
	}
}

// Another user's task must be indistinguishable from one that does not exist, on every
// operation, and must come out of every attempt unchanged.
func TestOtherUsersTaskIsNotFound(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, mallory := s.Token("alice"), s.Token("mallory")
	secret := create(t, s.Client, alice, map[string]any{"title": "Alice's secret", "tags": []string{"private"}})
	missing := "0192f0c1-8a3e-7c2b-9d4e-5f6a7b8c9d0e"

	for _, id := range []string{secret.ID, missing} {
		for _, req := range []apitest.Request{
			{Method: http.MethodGet, Path: "/api/tasks/" + id, Token: mallory},
			{Method: http.MethodPut, Path: "/api/tasks/" + id, Token: mallory, Body: map[string]any{"title": "pwned"}},
			{Method: http.MethodPatch, Path: "/api/tasks/" + id, Token: mallory, Body: map[string]any{"title": "pwned"}},
			{Method: http.MethodPatch, Path: "/api/tasks/" + id, Token: mallory, Body: map[string]any{"completed": true}, ContentType: "application/merge-patch+json"},
			{Method: http.MethodDelete, Path: "/api/tasks/" + id, Token: mallory},
		} {
			r := s.Do(req)
			p := wantProblem(t, r, http.StatusNotFound)
			// Same body for "someone else's" and "nobody's": nothing to tell them apart.
			if p.Detail != "task not found" || p.Type != "urn:taskapi:problem:not-found" {
				t.Errorf("%s %s: %s", req.Method, id, r.Body)
			}
		}
	}

	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks?tag=private", Token: mallory})
	var listed page
	r.JSON(t, &listed)
	if len(listed.Items) != 0 {
		t.Errorf("mallory lists alice's task: %s", r.Body)
	}
	status, after := get(t, s.Client, alice, secret.ID)
	if status != http.StatusOK || after.Title != secret.Title || after.Completed || after.UpdatedAt != secret.UpdatedAt {
		t.Errorf("alice's task changed: %d %+v", status, after)
	}
}

// The user id is the token's sub exactly: case matters and it need not be a UUID.
func TestSubIsOpaqueAndCaseSensitive(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	upper := create(t, s.Client, s.Token("User|42 ü"), map[string]any{"title": "mine"})
	if status, _ := get(t, s.Client, s.Token("user|42 ü"), upper.ID); status != http.StatusNotFound {
		t.Errorf("a sub differing only in case reads the task: %d", status)
	}
	if status, _ := get(t, s.Client, s.Token("User|42 ü"), upper.ID); status != http.StatusOK {
		t.Errorf("the owner cannot read the task: %d", status)
	}
}

// id, owner and timestamps in a body are never applied: ignored and named in a Warning, or
// with Prefer: handling=strict refused with nothing written.
func TestMassAssignmentIsNeverApplied(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, bob := s.Token("alice"), s.Token("bob")
	victim := create(t, s.Client, bob, map[string]any{"title": "bob's"})
	own := create(t, s.Client, alice, map[string]any{"title": "alice's"})
	count := func() int {
		var n int
		if err := s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM tasks").Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	fields := []struct {
		name    string
		value   any
		warning string
	}{
		{"id", victim.ID, "ignored read-only field: id"},
		{"user_id", "bob", "ignored read-only field: user_id"},
		{"owner", "bob", "ignored unknown field: owner"},
		{"created_at", "2000-01-01T00:00:00Z", "ignored read-only field: created_at"},
		{"updated_at", "2000-01-01T00:00:00Z", "ignored read-only field: updated_at"},
		{"completed_at", "2000-01-01T00:00:00Z", "ignored read-only field: completed_at"},
	}
	strict := http.Header{"Prefer": {"handling=strict"}}
	for _, field := range fields {
		body := map[string]any{"title": "sneaky", field.name: field.value}
		for _, req := range []apitest.Request{
			{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: body, Header: strict},
			{Method: http.MethodPut, Path: "/api/tasks/" + own.ID, Token: alice, Body: body, Header: strict},
			{Method: http.MethodPatch, Path: "/api/tasks/" + own.ID, Token: alice, Body: body, Header: strict},
		} {
			r := s.Do(req)
			wantProblem(t, r, http.StatusUnprocessableEntity, field.name)
			if r.Header.Get("Preference-Applied") != "handling=strict" {
				t.Errorf("strict %s: no Preference-Applied", req.Method)
			}
		}
	}
	if n := count(); n != 2 {
		t.Errorf("%d tasks in the database after strict refusals, want the 2 created before", n)
	}
	if _, after := get(t, s.Client, alice, own.ID); after.Title != "alice's" || after.UpdatedAt != own.UpdatedAt {
		t.Errorf("a refused request changed the task: %+v", after)
	}

	for _, field := range fields {
		body := map[string]any{"title": "sneaky " + field.name, field.name: field.value}
		for _, req := range []apitest.Request{
			{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: body},
			{Method: http.MethodPut, Path: "/api/tasks/" + own.ID, Token: alice, Body: body},
			{Method: http.MethodPatch, Path: "/api/tasks/" + own.ID, Token: alice, Body: body},
		} {
			r := s.Do(req)
			if r.Status >= 300 {
				t.Fatalf("%s with %s: %d %s", req.Method, field.name, r.Status, r.Body)
			}
			if got := r.Header.Values("Warning"); len(got) != 1 || got[0] != `299 taskapi "`+field.warning+`"` {
				t.Errorf("%s with %s: Warning %q", req.Method, field.name, got)
			}
			var written task
			r.JSON(t, &written)
			if written.ID == victim.ID || written.CreatedAt == "2000-01-01T00:00:00Z" || written.UpdatedAt == "2000-01-01T00:00:00Z" ||
				written.CompletedAt != nil || written.Title != "sneaky "+field.name {
				t.Errorf("%s with %s applied it: %+v", req.Method, field.name, written)
			}
			if status, _ := get(t, s.Client, bob, written.ID); status != http.StatusNotFound {
				t.Errorf("%s with %s: bob can read the task (%d)", req.Method, field.name, status)
			}
		}
	}
	if _, after := get(t, s.Client, bob, victim.ID); after.Title != "bob's" {
		t.Errorf("bob's task changed: %+v", after)
	}
	if _, after := get(t, s.Client, alice, own.ID); after.CreatedAt != own.CreatedAt {
		t.Errorf("alice's task's created_at moved: %s -> %s", own.CreatedAt, after.CreatedAt)
	}
}

func TestPatchIsAMergePatch(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	orig := create(t, s.Client, alice, map[string]any{
		"title": "Write report", "description": "Q4", "priority": "low",
		"due_date": "2026-12-24T12:00:00Z", "tags": []string{"work"},
	})
	patch := func(body any, contentType string) task {
		t.Helper()
		r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + orig.ID, Token: alice, Body: body, ContentType: contentType})
		wantStatus(t, r, http.StatusOK)
		var got task
		r.JSON(t, &got)
		return got
	}

	// An empty patch changes nothing, updated_at included.
	same := patch(map[string]any{}, "application/merge-patch+json")
	if same.UpdatedAt != orig.UpdatedAt || same.Title != orig.Title {
		t.Errorf("empty patch changed the task: %+v", same)
	}

	done := patch(map[string]any{"completed": true}, "application/merge-patch+json")
	if !done.Completed || done.CompletedAt == nil || done.Title != "Write report" || *done.Description != "Q4" ||
		done.Priority != "low" || *done.DueDate != "2026-12-24T12:00:00Z" || strings.Join(done.Tags, ",") != "work" {
		t.Errorf("patching completed touched other fields: %+v", done)
	}
	if !later(t, done.UpdatedAt, orig.UpdatedAt) {
		t.Errorf("updated_at did not move: %s -> %s", orig.UpdatedAt, done.UpdatedAt)
	}
	// Completing it again keeps the first completion time.
	again := patch(map[string]any{"completed": true, "title": "Write the report"}, "application/json")
	if *again.CompletedAt != *done.CompletedAt {
		t.Errorf("completed_at moved on a second completion: %s -> %s", *done.CompletedAt, *again.CompletedAt)
	}

	cleared := patch(map[string]any{"description": nil, "due_date": nil, "tags": []string{}}, "application/json; charset=utf-8")
	if cleared.Description != nil || cleared.DueDate != nil || len(cleared.Tags) != 0 || cleared.Title != "Write the report" {
		t.Errorf("null did not clear: %+v", cleared)
	}

	reopened := patch(map[string]any{"completed": false, "priority": "high"}, "APPLICATION/MERGE-PATCH+JSON")
	if reopened.Completed || reopened.CompletedAt != nil || reopened.Priority != "high" {
		t.Errorf("reopening: %+v", reopened)
	}

	// Only description and due_date can be null.
	for _, field := range []string{"title", "completed", "priority", "tags"} {
		r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + orig.ID, Token: alice, Body: map[string]any{field: nil}})
		wantProblem(t, r, http.StatusUnprocessableEntity, field)
	}
}

// Lengths count characters (code points), not bytes: multi-byte text is accepted up to the
// limit and refused one past it, in every length-limited field.
func TestLengthLimitsCountCharacters(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"title", map[string]any{"title": strings.Repeat("é", 200)}, "title"},
		{"title emoji", map[string]any{"title": strings.Repeat("😀", 200)}, "title"},
		{"description", map[string]any{"title": "x", "description": strings.Repeat("日", 1000)}, "description"},
		{"tag", map[string]any{"title": "x", "tags": []string{strings.Repeat("ü", 30)}}, "tags[0]"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.For(t)
			got := create(t, c, alice, tc.body)
			if tc.field == "title" && got.Title != tc.body["title"] {
				t.Errorf("title changed on the way: %q", got.Title)
			}
			over := map[string]any{}
			for k, v := range tc.body {
				over[k] = v
			}
			switch tc.field {
			case "title":
				over["title"] = tc.body["title"].(string) + "é"
			case "description":
				over["description"] = tc.body["description"].(string) + "日"
			default:
				over["tags"] = []string{strings.Repeat("ü", 31)}
			}
			wantProblem(t, c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: over}),
				http.StatusUnprocessableEntity, tc.field)
		})
	}
}

func TestFieldRules(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	eleven := make([]string, 11)
	for i := range eleven {
		eleven[i] = string(rune('a' + i))
	}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		fields []string
	}{
		{"missing title", map[string]any{"description": "x"}, []string{"title"}},
		{"empty title", map[string]any{"title": ""}, []string{"title"}},
		{"blank title", map[string]any{"title": " \t\n "}, []string{"title"}},
		{"unicode-blank title", map[string]any{"title": "\u3000\u00a0"}, []string{"title"}},
		{"bad priority", map[string]any{"title": "x", "priority": "urgent"}, []string{"priority"}},
		{"eleven tags", map[string]any{"title": "x", "tags": eleven}, []string{"tags"}},
		{"repeated tags", map[string]any{"title": "x", "tags": []string{"a", "a"}}, []string{"tags"}},
		{"tags repeated after trimming", map[string]any{"title": "x", "tags": []string{"a", " a "}}, []string{"tags[1]"}},
		{"blank tag", map[string]any{"title": "x", "tags": []string{"  "}}, []string{"tags[0]"}},
		{"empty tag", map[string]any{"title": "x", "tags": []string{""}}, []string{"tags[0]"}},
		{"NUL in title", map[string]any{"title": "a\u0000b"}, []string{"title"}},
		{"NUL in description", map[string]any{"title": "x", "description": "\u0000"}, []string{"description"}},
		{"NUL in tag", map[string]any{"title": "x", "tags": []string{"a\u0000"}}, []string{"tags[0]"}},
		{"several at once", map[string]any{"title": "", "tags": []string{""}, "priority": "urgent"}, []string{"title", "tags[0]", "priority"}},
		{"several after trimming", map[string]any{"title": " ", "tags": []string{" "}}, []string{"title", "tags[0]"}},
		{"due_date not RFC 3339", map[string]any{"title": "x", "due_date": "2026-12-01"}, []string{"due_date"}},
		{"due_date without offset", map[string]any{"title": "x", "due_date": "2026-12-01T10:00:00"}, []string{"due_date"}},
		{"due_date year 0", map[string]any{"title": "x", "due_date": "0000-01-01T00:00:00Z"}, []string{"due_date"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := s.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: tc.body})
			p := wantProblem(t, r, http.StatusUnprocessableEntity, tc.fields...)
			if p.Type != "urn:taskapi:problem:validation-failed" {
				t.Errorf("type %q", p.Type)
			}
		})
	}
	page := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: alice})
	if !strings.Contains(string(page.Body), `"items":[]`) {
		t.Errorf("a refused create wrote something: %s", page.Body)
	}
}

// Odd but valid Unicode is stored and returned exactly.
func TestUnicodeRoundTrips(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, title := range []string{
		"e\u0301 combining accent",
		"\u202eRTL override\u202c",
		"👩‍👩‍👧 family (ZWJ)",
		"emoji 😀 and CJK 日本語",
		"quote \" backslash \\ tab\t inside",
		"<script>alert(1)</script>",
	} {
		got := create(t, s.Client, alice, map[string]any{"title": title, "tags": []string{title[:3]}})
		if _, fetched := get(t, s.Client, alice, got.ID); fetched.Title != title {
			t.Errorf("title %q came back as %q", title, fetched.Title)
		}
	}
}

func TestUpdatedAtMovesOnlyOnChange(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	orig := create(t, s.Client, alice, map[string]any{"title": "same", "priority": "low"})
	time.Sleep(2 * time.Millisecond) // so a wrongly moved updated_at would differ
	r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + orig.ID, Token: alice,
		Body: map[string]any{"title": "same", "priority": "low"}})
	var got task
	r.JSON(t, &got)
	if got.UpdatedAt != orig.UpdatedAt {
		t.Errorf("a patch that changes nothing moved updated_at: %s -> %s", orig.UpdatedAt, got.UpdatedAt)
	}
}
