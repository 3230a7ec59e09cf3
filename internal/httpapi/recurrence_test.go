package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

// utcOf reads a timestamp from an answer and returns it in UTC, for comparisons.
func utcOf(t *testing.T, s *string) string {
	t.Helper()
	if s == nil {
		t.Fatal("a timestamp is null")
	}
	ts, err := time.Parse(time.RFC3339Nano, *s)
	if err != nil {
		t.Fatal(err)
	}
	return ts.UTC().Format(time.RFC3339)
}

// complete PATCHes completed=true and returns the answer's task and the id its Link header
// points at ("" when none).
func complete(t *testing.T, c *apitest.Client, token, id string) (task, string) {
	t.Helper()
	r := c.For(t).Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + id, Token: token, Body: map[string]any{"completed": true}})
	wantStatus(t, r, http.StatusOK)
	var done task
	r.JSON(t, &done)
	return done, nextFromLink(t, r)
}

func nextFromLink(t *testing.T, r *apitest.Response) string {
	t.Helper()
	link := r.Header.Get("Link")
	if link == "" {
		return ""
	}
	id, ok := strings.CutPrefix(link, "</api/tasks/")
	id, rest, found := strings.Cut(id, ">")
	if !ok || !found || rest != `; rel="next-occurrence"` {
		t.Fatalf("Link %q", link)
	}
	return id
}

// seriesOf counts the tasks of a series in the database.
func seriesOf(t *testing.T, s *apitest.Server, series string) int {
	t.Helper()
	var n int
	if err := s.Pool.QueryRow(context.Background(), "SELECT count(*) FROM tasks WHERE series_id = $1", series).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Completing an occurrence takes one of two paths: on time, with its upcoming due dates known,
// one statement; otherwise the service works the next date out. forgetUpcoming puts a task on
// the second (a write of its zone forgets the dates worked out ahead).
var paths = []string{"with the upcoming dates", "worked out on completion"}

func forgetUpcoming(t *testing.T, s *apitest.Server, token string, tk task, path string) {
	t.Helper()
	if path != paths[1] {
		return
	}
	r := s.For(t).Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + tk.ID, Token: token, Body: map[string]any{"timezone": tk.Timezone}})
	wantStatus(t, r, http.StatusOK)
	var known bool
	if err := s.Pool.QueryRow(context.Background(), "SELECT upcoming IS NOT NULL FROM tasks WHERE id = $1", tk.ID).Scan(&known); err != nil || known {
		t.Fatalf("the upcoming dates are still known (%v)", err)
	}
}

func TestRecurringTaskFields(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")

	plain := create(t, s.Client, alice, map[string]any{"title": "once"})
	if plain.Recurrence != nil || plain.Timezone != "UTC" || plain.SeriesID != nil || plain.RemindAt != nil {
		t.Errorf("a plain task: %+v", plain)
	}
	meeting := create(t, s.Client, alice, map[string]any{"title": "Weekly sync", "due_date": "2027-03-08T09:00:00-05:00",
		"recurrence": "rrule:freq=weekly;byday=mo", "timezone": "America/New_York", "remind_at": "2027-03-08T13:45:00Z"})
	if meeting.Recurrence == nil || *meeting.Recurrence != "FREQ=WEEKLY;BYDAY=MO" || meeting.Timezone != "America/New_York" ||
		meeting.SeriesID == nil || *meeting.SeriesID != meeting.ID || utcOf(t, meeting.RemindAt) != "2027-03-08T13:45:00Z" {
		t.Errorf("a recurring task: %+v", meeting)
	}
	// The list page (hand-encoded) carries the same fields.
	p := list(t, s.Client, alice, "recurring=true")
	if len(p.Items) != 1 || p.Items[0].ID != meeting.ID || *p.Items[0].SeriesID != meeting.ID || p.Items[0].Timezone != "America/New_York" {
		t.Errorf("recurring=true: %+v", p.Items)
	}
	if p := list(t, s.Client, alice, "recurring=false"); len(p.Items) != 1 || p.Items[0].ID != plain.ID {
		t.Errorf("recurring=false: %+v", p.Items)
	}
	if p := list(t, s.Client, alice, "remind_before=2027-03-08T14:00:00Z"); len(p.Items) != 1 || p.Items[0].ID != meeting.ID {
		t.Errorf("remind_before: %+v", p.Items)
	}
	if p := list(t, s.Client, alice, "remind_before=2027-03-08T13:45:00Z"); len(p.Items) != 0 {
		t.Errorf("remind_before is strict: %+v", p.Items)
	}
	// series_id is the server's: sent, it is ignored and named.
	r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + plain.ID, Token: alice, Body: map[string]any{"series_id": meeting.ID}})
	wantStatus(t, r, http.StatusOK)
	if got := r.Header.Get("Warning"); got != `299 taskapi "ignored read-only field: series_id"` {
		t.Errorf("Warning %q", got)
	}
	// Removing the recurrence ends the series for this task.
	r = s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + meeting.ID, Token: alice, Body: map[string]any{"recurrence": nil}})
	wantStatus(t, r, http.StatusOK)
	var ended task
	r.JSON(t, &ended)
	if ended.Recurrence != nil || ended.SeriesID != nil {
		t.Errorf("recurrence removed: %+v", ended)
	}
	if done, next := complete(t, s.Client, alice, meeting.ID); next != "" || !done.Completed {
		t.Errorf("a task out of its series made a next occurrence %q", next)
	}
}

func TestRecurrenceRules(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	due := "2027-01-31T09:00:00Z"
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
		says  string
	}{
		{"hourly", map[string]any{"recurrence": "FREQ=HOURLY", "due_date": due}, "recurrence", "DAILY, WEEKLY, MONTHLY or YEARLY"},
		{"interval 0", map[string]any{"recurrence": "FREQ=DAILY;INTERVAL=0", "due_date": due}, "recurrence", "INTERVAL"},
		{"count and until", map[string]any{"recurrence": "FREQ=DAILY;COUNT=3;UNTIL=20270301", "due_date": due}, "recurrence", "COUNT"},
		{"garbage", map[string]any{"recurrence": "every monday", "due_date": due}, "recurrence", ""},
		{"bad weekday", map[string]any{"recurrence": "FREQ=WEEKLY;BYDAY=XX", "due_date": due}, "recurrence", "BYDAY"},
		{"by hour", map[string]any{"recurrence": "FREQ=DAILY;BYHOUR=9", "due_date": due}, "recurrence", "BYHOUR"},
		{"too long", map[string]any{"recurrence": "FREQ=WEEKLY;BYDAY=" + strings.Repeat("MO,", 90) + "MO", "due_date": due}, "recurrence", ""},
		{"never repeats from the 31st", map[string]any{"recurrence": "FREQ=MONTHLY;BYMONTH=2", "due_date": due}, "recurrence", ""},
		{"no due date", map[string]any{"recurrence": "FREQ=DAILY"}, "due_date", "required"},
		{"unknown zone", map[string]any{"timezone": "Mars/Olympus_Mons"}, "timezone", ""},
		{"Local is not a zone", map[string]any{"timezone": "Local"}, "timezone", ""},
		{"empty zone", map[string]any{"timezone": ""}, "timezone", ""},
	} {
		body := map[string]any{"title": tc.name}
		for k, v := range tc.body {
			body[k] = v
		}
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: alice, Body: body})
		p := wantProblem(t, r, http.StatusUnprocessableEntity, tc.field)
		if !strings.Contains(string(r.Body), tc.says) {
			t.Errorf("%s: the problem does not say %q: %s", tc.name, tc.says, r.Body)
		}
		if p.Detail == "" {
			t.Errorf("%s: no detail", tc.name)
		}
	}

	// On a stored task: clearing the due date of a recurring one, or setting a recurrence on
	// one without a due date, names due_date.
	meeting := create(t, s.Client, alice, map[string]any{"title": "m", "due_date": due, "recurrence": "FREQ=DAILY"})
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + meeting.ID, Token: alice,
		Body: map[string]any{"due_date": nil}}), http.StatusUnprocessableEntity, "due_date")
	undated := create(t, s.Client, alice, map[string]any{"title": "undated"})
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + undated.ID, Token: alice,
		Body: map[string]any{"recurrence": "FREQ=DAILY"}}), http.StatusUnprocessableEntity, "due_date")
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + undated.ID, Token: alice,
		Body: map[string]any{"recurrence": "FREQ=DAILY", "due_date": nil}}), http.StatusUnprocessableEntity, "due_date")
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + meeting.ID, Token: alice,
		Body: map[string]any{"timezone": nil}}), http.StatusUnprocessableEntity, "timezone")
	if _, after := get(t, s.Client, alice, meeting.ID); after.DueDate == nil || after.Recurrence == nil {
		t.Errorf("a refused patch wrote: %+v", after)
	}
}

// The next occurrence's due date: the rule in the task's zone, from its due date, strictly
// after the due date and the moment of completion.
func TestNextOccurrenceDates(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, tc := range []struct {
		name, rule, zone, due, remind string
		next, nextRemind              string
	}{
		{"a 09:00 New York meeting across the March change", "FREQ=WEEKLY;BYDAY=MO", "America/New_York",
			"2027-03-08T14:00:00Z", "2027-03-08T13:45:00Z", "2027-03-15T13:00:00Z", "2027-03-15T12:45:00Z"},
		{"and across the November change", "FREQ=WEEKLY;BYDAY=MO", "America/New_York",
			"2027-11-01T13:00:00Z", "", "2027-11-08T14:00:00Z", ""},
		{"a 09:00 Berlin meeting across the March change", "FREQ=WEEKLY", "Europe/Berlin",
			"2027-03-22T08:00:00Z", "2027-03-21T08:00:00Z", "2027-03-29T07:00:00Z", "2027-03-28T07:00:00Z"},
		{"the 31st, skipping February", "FREQ=MONTHLY;BYMONTHDAY=31", "UTC", "2027-01-31T09:00:00Z", "", "2027-03-31T09:00:00Z", ""},
		{"the last day of the month", "FREQ=MONTHLY;BYMONTHDAY=-1", "UTC", "2027-01-31T09:00:00Z", "", "2027-02-28T09:00:00Z", ""},
		{"a leap day", "FREQ=YEARLY", "UTC", "2028-02-29T09:00:00Z", "", "2032-02-29T09:00:00Z", ""},
		{"the last weekday of the month", "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "UTC", "2027-04-30T17:00:00Z", "", "2027-05-31T17:00:00Z", ""},
		{"every other Tuesday and Thursday", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,TH", "UTC", "2027-06-03T10:00:00Z", "", "2027-06-15T10:00:00Z", ""},
	} {
		for _, path := range paths {
			body := map[string]any{"title": tc.name, "due_date": tc.due, "recurrence": tc.rule, "timezone": tc.zone,
				"description": "d", "priority": "high", "tags": []string{"x", "y"}}
			if tc.remind != "" {
				body["remind_at"] = tc.remind
			}
			first := create(t, s.Client, alice, body)
			forgetUpcoming(t, s, alice, first, path)
			_, nextID := complete(t, s.Client, alice, first.ID)
			if nextID == "" {
				t.Errorf("%s: no Link to the next occurrence", tc.name)
				continue
			}
			status, next := get(t, s.Client, alice, nextID)
			if status != http.StatusOK {
				t.Fatalf("%s: the next occurrence: %d", tc.name, status)
			}
			if got := utcOf(t, next.DueDate); got != tc.next {
				t.Errorf("%s: next due %s, want %s", tc.name, got, tc.next)
			}
			if tc.nextRemind != "" && utcOf(t, next.RemindAt) != tc.nextRemind {
				t.Errorf("%s: next reminder %v, want %s", tc.name, next.RemindAt, tc.nextRemind)
			}
			if tc.nextRemind == "" && next.RemindAt != nil {
				t.Errorf("%s: a reminder appeared: %s", tc.name, *next.RemindAt)
			}
			if next.Completed || next.Title != tc.name || *next.Description != "d" || next.Priority != "high" || strings.Join(next.Tags, ",") != "x,y" ||
				*next.Recurrence != *first.Recurrence || next.Timezone != tc.zone || *next.SeriesID != first.ID || next.ID == first.ID {
				t.Errorf("%s: the next occurrence is not a copy: %+v", tc.name, next)
			}
		}
	}
}

// Completed late, an occurrence's next one is the first after the moment of completion: also
// when every due date worked out ahead has passed.
func TestLateCompletionSkipsToAfterNow(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, late := range []time.Duration{72 * time.Hour, 20 * 24 * time.Hour} {
		due := time.Now().UTC().Add(-late).Truncate(time.Second)
		first := create(t, s.Client, alice, map[string]any{"title": "daily", "due_date": due.Format(time.RFC3339), "recurrence": "FREQ=DAILY"})
		before := time.Now()
		_, nextID := complete(t, s.Client, alice, first.ID)
		_, next := get(t, s.Client, alice, nextID)
		got, err := time.Parse(time.RFC3339, *next.DueDate)
		if err != nil {
			t.Fatal(err)
		}
		if !got.After(before.Add(-time.Second)) || got.After(before.Add(24*time.Hour)) || got.Sub(due)%(24*time.Hour) != 0 {
			t.Errorf("due %s, completed at %s: next %s, want the first daily occurrence after completion", due, before, got)
		}
	}
}

// Every route that completes makes the next occurrence; reopening makes none; complete,
// reopen, complete again still makes one.
func TestEveryCompletingRouteMakesOneNextOccurrence(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "completer"
	token := s.Token(user)
	for _, path := range paths {
		for _, route := range []struct {
			name string
			req  func(id string) apitest.Request
		}{
			{"PATCH", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + id, Body: map[string]any{"completed": true}}
			}},
			{"PATCH merge-patch with other fields", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + id, Body: map[string]any{"completed": true, "title": "renamed"},
					ContentType: "application/merge-patch+json"}
			}},
			{"PUT", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPut, Path: "/api/tasks/" + id, Body: map[string]any{"completed": true}}
			}},
			{"compat PUT", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPut, Path: "/api/" + user + "/tasks/" + id, Body: map[string]any{"completed": true}}
			}},
			{"toggle", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + id + "/complete"}
			}},
			{"compat toggle", func(id string) apitest.Request {
				return apitest.Request{Method: http.MethodPatch, Path: "/api/" + user + "/tasks/" + id + "/complete"}
			}},
		} {
			first := create(t, s.Client, token, map[string]any{"title": route.name, "due_date": "2027-05-03T09:00:00Z", "recurrence": "FREQ=WEEKLY"})
			forgetUpcoming(t, s, token, first, path)
			req := route.req(first.ID)
			req.Token = token
			r := s.Do(req)
			wantStatus(t, r, http.StatusOK)
			nextID := nextFromLink(t, r)
			if nextID == "" {
				t.Fatalf("%s: no next occurrence", route.name)
			}
			if n := seriesOf(t, s, first.ID); n != 2 {
				t.Errorf("%s: %d tasks in the series, want 2", route.name, n)
			}
			// Reopen: no new occurrence, no Link. Complete again: the same next occurrence.
			r = s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + first.ID, Token: token, Body: map[string]any{"completed": false}})
			wantStatus(t, r, http.StatusOK)
			if r.Header.Get("Link") != "" {
				t.Errorf("%s: reopening answered with Link %q", route.name, r.Header.Get("Link"))
			}
			r = s.Do(req)
			wantStatus(t, r, http.StatusOK)
			if again := nextFromLink(t, r); again != nextID {
				t.Errorf("%s: completing again points at %q, not the next occurrence %q", route.name, again, nextID)
			}
			if n := seriesOf(t, s, first.ID); n != 2 {
				t.Errorf("%s: complete, reopen, complete: %d tasks in the series, want 2", route.name, n)
			}
		}
	}
	// A plain task's completion answers without a Link.
	plain := create(t, s.Client, token, map[string]any{"title": "plain", "due_date": "2027-05-03T09:00:00Z"})
	if _, next := complete(t, s.Client, token, plain.ID); next != "" {
		t.Errorf("a plain task's completion links to %q", next)
	}
}

func TestConcurrentCompletionsMakeOneNextOccurrence(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for round := range 4 {
		first := create(t, s.Client, alice, map[string]any{"title": "race", "due_date": "2027-05-03T09:00:00Z", "recurrence": "FREQ=DAILY"})
		forgetUpcoming(t, s, alice, first, paths[round%2])
		var wg sync.WaitGroup
		links := make([]string, 8)
		for i := range 8 {
			wg.Go(func() {
				r := s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + first.ID, Token: alice, Body: map[string]any{"completed": true}})
				if r.Status != http.StatusOK {
					t.Errorf("completion %d: %d %s", i, r.Status, r.Body)
					return
				}
				links[i] = r.Header.Get("Link")
			})
		}
		wg.Wait()
		if n := seriesOf(t, s, first.ID); n != 2 {
			t.Errorf("round %d: 8 concurrent completions left %d tasks in the series, want 2", round, n)
		}
		// The one that completed the task links to the next occurrence; the others found it
		// completed already.
		linked := 0
		for _, l := range links {
			if l != "" {
				linked++
			}
		}
		if linked != 1 {
			t.Errorf("round %d: %d of 8 completions answered with a Link, want the one that completed it: %q", round, linked, links)
		}
	}
}

// COUNT counts occurrences from the first; UNTIL is inclusive; an exhausted series makes no
// next occurrence and its last completion has no Link.
func TestSeriesEnd(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice := s.Token("alice")
	for _, path := range paths {
		for _, rule := range []string{"FREQ=DAILY;COUNT=3", "FREQ=DAILY;UNTIL=20270503T090000Z"} {
			first := create(t, s.Client, alice, map[string]any{"title": rule, "due_date": "2027-05-01T09:00:00Z", "recurrence": rule})
			forgetUpcoming(t, s, alice, first, path)
			id, series := first.ID, first.ID
			var dues []string
			for {
				_, next := complete(t, s.Client, alice, id)
				_, done := get(t, s.Client, alice, id)
				dues = append(dues, utcOf(t, done.DueDate))
				if next == "" {
					break
				}
				if len(dues) > 5 {
					t.Fatalf("%s: the series does not end: %v", rule, dues)
				}
				id = next
			}
			if strings.Join(dues, " ") != "2027-05-01T09:00:00Z 2027-05-02T09:00:00Z 2027-05-03T09:00:00Z" {
				t.Errorf("%s: occurrences %v", rule, dues)
			}
			if n := seriesOf(t, s, series); n != 3 {
				t.Errorf("%s: %d tasks in the series", rule, n)
			}
		}
	}
}

// Another user sees none of a series, and cannot complete it.
func TestRecurrenceIsTheOwnersOnly(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, mallory := s.Token("alice"), s.Token("mallory")
	first := create(t, s.Client, alice, map[string]any{"title": "mine", "due_date": "2027-05-03T09:00:00Z", "recurrence": "FREQ=DAILY", "remind_at": "2020-01-01T00:00:00Z"})
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + first.ID, Token: mallory, Body: map[string]any{"completed": true}}), http.StatusNotFound)
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + first.ID + "/complete", Token: mallory}), http.StatusNotFound)
	if n := seriesOf(t, s, first.ID); n != 1 {
		t.Errorf("mallory's attempts made %d tasks", n)
	}
	_, next := complete(t, s.Client, alice, first.ID)
	for _, path := range []string{"/api/tasks?recurring=true", "/api/reminders?until=2100-01-01T00:00:00Z"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: path, Token: mallory})
		if strings.Contains(string(r.Body), first.ID) || strings.Contains(string(r.Body), next) {
			t.Errorf("mallory sees alice's series at %s: %s", path, r.Body)
		}
	}
	wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + next, Token: mallory}), http.StatusNotFound)
}
