package events_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"taskapi/gen/db"
	"taskapi/internal/apitest"
	"taskapi/internal/events"
)

// Every route's change makes exactly its events, in order, with the task as the change left it.
func TestEveryChangeMakesItsEvents(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "eventful"
	token := s.Token(user)
	cursor := now(t, s.Client, token)
	expect := func(what, want string) {
		t.Helper()
		got, next := changes(t, s.Client, token, cursor)
		if types(got) != want {
			t.Errorf("%s: events %q, want %q", what, types(got), want)
		}
		cursor = next
	}

	tk := create(t, s.Client, token, map[string]any{"title": "one"})
	got, _ := changes(t, s.Client, token, cursor)
	if len(got) != 1 || got[0].TaskID != tk.ID || got[0].task(t).Title != "one" || got[0].Time.IsZero() {
		t.Fatalf("create: %+v", got)
	}
	expect("POST", "task.created")
	item := "/api/tasks/" + tk.ID
	compat := "/api/" + user + "/tasks"
	for _, step := range []struct {
		req  apitest.Request
		want string
	}{
		{apitest.Request{Method: http.MethodPatch, Path: item, Body: map[string]any{"title": "two"}}, "task.updated"},
		{apitest.Request{Method: http.MethodPatch, Path: item, Body: map[string]any{"completed": true}}, "task.completed"},
		{apitest.Request{Method: http.MethodPatch, Path: item, Body: map[string]any{"completed": false}}, "task.updated"},
		{apitest.Request{Method: http.MethodPatch, Path: item, Body: map[string]any{}}, ""}, // nothing changed
		{apitest.Request{Method: http.MethodPut, Path: item, Body: map[string]any{"priority": "high"}}, "task.updated"},
		{apitest.Request{Method: http.MethodPatch, Path: item + "/complete"}, "task.completed"},
		{apitest.Request{Method: http.MethodPatch, Path: compat + "/" + tk.ID + "/complete"}, "task.updated"},
		{apitest.Request{Method: http.MethodPut, Path: compat + "/" + tk.ID, Body: map[string]any{"title": "three"}}, "task.updated"},
		{apitest.Request{Method: http.MethodPost, Path: compat, Body: map[string]any{"title": "compat"}}, "task.created"},
		{apitest.Request{Method: http.MethodDelete, Path: compat + "/" + tk.ID}, "task.deleted"},
	} {
		step.req.Token = token
		want := http.StatusOK
		switch step.req.Method {
		case http.MethodPost:
			want = http.StatusCreated
		case http.MethodDelete:
			want = http.StatusNoContent
		}
		do(t, s.Client, step.req, want)
		got, next := changes(t, s.Client, token, cursor)
		if types(got) != step.want {
			t.Errorf("%s %s: events %q, want %q", step.req.Method, step.req.Path, types(got), step.want)
		}
		if step.want == "task.deleted" && (len(got) != 1 || string(got[0].Task) != "null") {
			t.Errorf("a deletion's event carries a task: %+v", got)
		}
		cursor = next
	}

	// A retried create (same Idempotency-Key) replays, and makes no second event.
	key := http.Header{"Idempotency-Key": {"once"}}
	for range 2 {
		do(t, s.Client, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{"title": "once"}, Header: key}, http.StatusCreated)
	}
	expect("idempotent create twice", "task.created")

	// Completing an occurrence: its completion, and the next occurrence's creation.
	weekly := create(t, s.Client, token, map[string]any{"title": "weekly", "due_date": "2027-05-03T09:00:00Z", "recurrence": "FREQ=WEEKLY"})
	expect("a recurring task", "task.created")
	do(t, s.Client, apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + weekly.ID, Token: token, Body: map[string]any{"completed": true}}, http.StatusOK)
	got, _ = changes(t, s.Client, token, cursor)
	expect("completing an occurrence", "task.completed task.created")
	if len(got) == 2 && (got[0].TaskID != weekly.ID || got[1].TaskID == weekly.ID) {
		t.Errorf("the occurrence's events: %+v", got)
	}

	// A reminder that falls due: one reminder.due, once, however often the sweep runs; and no
	// new ETag for it.
	due := create(t, s.Client, token, map[string]any{"title": "call", "remind_at": time.Now().Add(-time.Minute).Format(time.RFC3339)})
	expect("a task with a reminder", "task.created")
	etag := do(t, s.Client, apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + due.ID, Token: token}, http.StatusOK).Header.Get("ETag")
	announce(t, s)
	announce(t, s)
	expect("a reminder falling due", "reminder.due")
	if again := do(t, s.Client, apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + due.ID, Token: token}, http.StatusOK).Header.Get("ETag"); again != etag {
		t.Errorf("announcing a reminder changed the task's ETag: %s -> %s", etag, again)
	}
	// A new reminder is a new announcement; a completed task's is none.
	do(t, s.Client, apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + due.ID, Token: token, Body: map[string]any{"remind_at": time.Now().Add(-time.Second).Format(time.RFC3339)}}, http.StatusOK)
	announce(t, s)
	expect("a new reminder", "task.updated reminder.due")
	done := create(t, s.Client, token, map[string]any{"title": "done", "completed": true, "remind_at": time.Now().Add(-time.Minute).Format(time.RFC3339)})
	announce(t, s)
	expect("a completed task's reminder", "task.created")
	_ = done

	// Nobody else sees any of it.
	other := s.Token("someone-else")
	if got, _ := changes(t, s.Client, other, "0"); len(got) != 0 {
		t.Errorf("another user reads %d of the user's events", len(got))
	}
}

// announce runs the reminder sweep once, as every replica does every second.
func announce(t *testing.T, s *apitest.Server) {
	t.Helper()
	if _, err := events.AnnounceDue(context.Background(), s.Pool); err != nil {
		t.Fatal(err)
	}
}

func TestChangesFeed(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, bob := s.Token("alice"), s.Token("bob")
	start := now(t, s.Client, alice)
	for i := range 20 {
		create(t, s.Client, alice, map[string]any{"title": fmt.Sprintf("a%d", i)})
		create(t, s.Client, bob, map[string]any{"title": fmt.Sprintf("b%d", i)})
	}
	got, next := changes(t, s.Client, alice, start)
	if len(got) != 20 {
		t.Fatalf("alice's feed: %d events, want 20", len(got))
	}
	for i, e := range got {
		if e.task(t).Title != fmt.Sprintf("a%d", i) {
			t.Errorf("event %d is %q: not in commit order", i, e.task(t).Title)
		}
		if i > 0 && id(t, e.ID) <= id(t, got[i-1].ID) {
			t.Errorf("event ids go backwards: %s after %s", e.ID, got[i-1].ID)
		}
	}
	if next != got[19].ID {
		t.Errorf("next_cursor %s, want the last event's id %s", next, got[19].ID)
	}
	if more, again := changes(t, s.Client, alice, next); len(more) != 0 || again != next {
		t.Errorf("after the last event: %d more, cursor %s", len(more), again)
	}
	var p eventPage
	do(t, s.Client, apitest.Request{Method: http.MethodGet, Path: "/api/changes?limit=3&since=" + start, Token: alice}, http.StatusOK).JSON(t, &p)
	if len(p.Items) != 3 || p.NextCursor != p.Items[2].ID {
		t.Errorf("limit=3: %+v", p)
	}
	for _, q := range []string{"since=abc", "since=-1", "since=99999999999999999999", "limit=0", "limit=501"} {
		do(t, s.Client, apitest.Request{Method: http.MethodGet, Path: "/api/changes?" + q, Token: alice}, http.StatusBadRequest)
	}
	do(t, s.Client, apitest.Request{Method: http.MethodGet, Path: "/api/changes"}, http.StatusUnauthorized)

	// Pruned: a cursor from before is a 410; the cursor for now works.
	q := db.New(s.Pool)
	if _, err := q.SweepOldEvents(context.Background(), db.SweepOldEventsParams{Before: time.Now().Add(time.Hour), Batch: 1000}); err != nil {
		t.Fatal(err)
	}
	r := s.Client.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/changes?since=" + start, Token: alice})
	if r.Status != http.StatusGone || r.Problem(t).Type != "urn:taskapi:problem:gone" {
		t.Errorf("a pruned cursor: %d %s", r.Status, r.Body)
	}
	fresh := now(t, s.Client, alice)
	create(t, s.Client, alice, map[string]any{"title": "after the pruning"})
	if got, _ := changes(t, s.Client, alice, fresh); len(got) != 1 {
		t.Errorf("after pruning, from now: %d events", len(got))
	}
	if got, _ := changes(t, s.Client, bob, now(t, s.Client, bob)); len(got) != 0 {
		t.Errorf("bob, from now: %d events", len(got))
	}
}

// Events come in commit order, not in the order their transactions began: a slow transaction
// that started first and commits last is read after the others, not skipped.
func TestNoEventIsSkippedUnderConcurrentWriters(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	const user = "busy"
	token := s.Token(user)
	slow := create(t, s.Client, token, map[string]any{"title": "slow"})
	cursor := now(t, s.Client, token)

	ctx := context.Background()
	tx, err := s.Pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(ctx, "UPDATE tasks SET title = 'slow, changed' WHERE user_id = $1 AND id = $2", user, slow.ID); err != nil {
		t.Fatal(err)
	}
	quick := create(t, s.Client, token, map[string]any{"title": "quick"})
	got, afterQuick := changes(t, s.Client, token, cursor)
	if len(got) != 1 || got[0].TaskID != quick.ID {
		t.Fatalf("while the slow transaction is open: %+v", got)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	got, _ = changes(t, s.Client, token, afterQuick)
	if len(got) != 1 || got[0].TaskID != slow.ID || got[0].task(t).Title != "slow, changed" {
		t.Fatalf("after the slow transaction committed, from the cursor past the quick one: %+v", got)
	}

	// Many writers at once, a reader following along: every event read once, none skipped.
	const writers, each = 6, 25
	cursor = now(t, s.Client, token)
	seen := map[string]bool{}
	var order []int64
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		c := cursor
		for {
			select {
			case <-stop:
				return
			default:
			}
			var got []event
			got, c = changes(t, s.Client, token, c)
			for _, e := range got {
				if seen[e.ID] {
					t.Errorf("event %s read twice", e.ID)
				}
				seen[e.ID] = true
				order = append(order, id(t, e.ID))
			}
		}
	})
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				create(t, s.Client, token, map[string]any{"title": fmt.Sprintf("w%d-%d", w, i)})
			}
		})
	}
	wg.Wait()
	close(stop)
	readers.Wait()
	rest, _ := changes(t, s.Client, token, strconv.FormatInt(order[len(order)-1], 10))
	for _, e := range rest {
		seen[e.ID] = true
	}
	if len(seen) != writers*each {
		t.Errorf("read %d events of %d writes", len(seen), writers*each)
	}
	for i := 1; i < len(order); i++ {
		if order[i] <= order[i-1] {
			t.Fatalf("the feed went backwards: %d after %d", order[i], order[i-1])
		}
	}
}

func id(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("event id %q: %v", s, err)
	}
	return n
}
