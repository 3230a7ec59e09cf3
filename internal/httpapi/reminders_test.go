package httpapi_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

func reminders(t *testing.T, c *apitest.Client, token, query string) page {
	t.Helper()
	r := c.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/reminders?" + query, Token: token})
	wantStatus(t, r, http.StatusOK)
	var p page
	r.JSON(t, &p)
	return p
}

func TestReminders(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	past := time.Now().UTC().Add(-time.Hour)
	var due []string
	for i := range 5 {
		at := past.Add(time.Duration(i) * time.Minute).Format(time.RFC3339)
		due = append(due, create(t, s.Client, alice, map[string]any{"title": "due " + at, "remind_at": at}).ID)
	}
	later := create(t, s.Client, alice, map[string]any{"title": "tomorrow", "remind_at": time.Now().Add(24 * time.Hour).Format(time.RFC3339)})
	create(t, s.Client, alice, map[string]any{"title": "no reminder"})
	done := create(t, s.Client, alice, map[string]any{"title": "done", "remind_at": past.Format(time.RFC3339), "completed": true})

	// Due now (the default): the five past ones, oldest first, in pages.
	var seen []string
	query := "limit=2"
	for {
		p := reminders(t, s.Client, alice, query)
		for _, item := range p.Items {
			seen = append(seen, item.ID)
		}
		if p.NextCursor == nil {
			break
		}
		query = "limit=2&cursor=" + url.QueryEscape(*p.NextCursor)
	}
	if len(seen) != 5 {
		t.Fatalf("due now: %d reminders, want 5", len(seen))
	}
	for i := range due {
		if seen[i] != due[i] {
			t.Errorf("reminder %d is %s, want %s (oldest first)", i, seen[i], due[i])
		}
	}
	for _, id := range seen {
		if id == done.ID || id == later.ID {
			t.Errorf("%s is not a due reminder", id)
		}
	}
	// until reaches later ones.
	if p := reminders(t, s.Client, alice, "until="+url.QueryEscape(time.Now().Add(48*time.Hour).Format(time.RFC3339))); len(p.Items) != 6 {
		t.Errorf("until in two days: %d reminders, want 6", len(p.Items))
	}
	// A cursor is bound to its until.
	p := reminders(t, s.Client, alice, "limit=1&until=2100-01-01T00:00:00Z")
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/reminders?limit=1&cursor=" + url.QueryEscape(*p.NextCursor), Token: alice})
	wantProblem(t, r, http.StatusBadRequest, "cursor")

	// Dismissed (cleared) or completed, a reminder is gone.
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + due[0], Token: alice, Body: map[string]any{"remind_at": nil}}), http.StatusOK)
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + due[1], Token: alice, Body: map[string]any{"completed": true}}), http.StatusOK)
	if p := reminders(t, s.Client, alice, ""); len(p.Items) != 3 || p.Items[0].ID != due[2] {
		t.Errorf("after dismissing one and completing one: %+v", p.Items)
	}
	// Reopened, it is back; deleted, gone.
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + due[1] + "/complete", Token: alice}), http.StatusOK)
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + due[2], Token: alice}), http.StatusNoContent)
	if p := reminders(t, s.Client, alice, ""); len(p.Items) != 3 || p.Items[0].ID != due[1] || p.Items[1].ID != due[3] {
		t.Errorf("after reopening one and deleting one: %+v", p.Items)
	}
	// Nobody else's.
	if p := reminders(t, s.Client, s.Token("bob"), "until=2100-01-01T00:00:00Z"); len(p.Items) != 0 {
		t.Errorf("bob sees %d of alice's reminders", len(p.Items))
	}
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/reminders?until=soon", Token: alice}), http.StatusBadRequest, "until")
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/reminders"}), http.StatusUnauthorized)
}
