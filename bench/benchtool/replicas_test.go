package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// A create that fails on one replica is sent again, with the same key, to the other, which the
// client then keeps; a 4xx that no retry can mend ends the key at once.
func TestCreateRetriesOnTheOtherReplica(t *testing.T) {
	var mu sync.Mutex
	var keys []string // Idempotency-Key of each request that reached the healthy replica
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		keys = append(keys, r.Header.Get("Idempotency-Key"))
		mu.Unlock()
		w.Header().Set("Idempotent-Replayed", "true")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprintf(w, `{"id":"t-1","title":%q}`, r.Header.Get("Idempotency-Key"))
	}))
	defer healthy.Close()
	failing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
	}))
	defer failing.Close()
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close() // connection refused, as from a replica that stopped
	invalid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusUnprocessableEntity)
	}))
	defer invalid.Close()

	for _, c := range []struct {
		name                   string
		first                  string
		wantStatus, wantTarget int
		wantAttempts           int
		wantKeys               int
	}{
		{"5xx", failing.URL, http.StatusCreated, 1, 2, 1},
		{"connection refused", gone.URL, http.StatusCreated, 1, 2, 1},
		{"healthy first", healthy.URL, http.StatusCreated, 0, 1, 1},
		{"422 is not retried", invalid.URL, http.StatusUnprocessableEntity, 0, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			keys = nil
			cr := &creator{client: &http.Client{Timeout: 5 * time.Second}, targets: []string{c.first, healthy.URL},
				token: "tok", retryTimeout: 5 * time.Second, backoff: time.Millisecond}
			cur := 0
			rec := createRecord{User: "user-1", Seq: 1, Key: "k-user-1-1"}
			var st createStats
			cr.create(context.Background(), &cur, &rec, &st)
			if rec.Status != c.wantStatus || rec.Attempts != c.wantAttempts || cur != c.wantTarget {
				t.Fatalf("status %d after %d attempts on target %d, want %d after %d on %d",
					rec.Status, rec.Attempts, cur, c.wantStatus, c.wantAttempts, c.wantTarget)
			}
			if len(keys) != c.wantKeys || (c.wantKeys > 0 && keys[0] != rec.Key) {
				t.Fatalf("the healthy replica saw keys %v, want %d of %q", keys, c.wantKeys, rec.Key)
			}
			if c.wantStatus == http.StatusCreated && (rec.TaskID != "t-1" || !rec.Replayed || rec.Target != c.wantTarget) {
				t.Fatalf("record %+v: want task t-1, replayed, from target %d", rec, c.wantTarget)
			}
		})
	}
}

func TestCreateRecordLineRoundTrips(t *testing.T) {
	for _, r := range []createRecord{
		{User: "user-7", Seq: 3, Key: "r1-user-7-3", Status: 201, TaskID: "0192", Attempts: 2, Replayed: true, Target: 1},
		{User: "user-8", Seq: 1, Key: "r1-user-8-1", Attempts: 9},
	} {
		got, err := parseRecord(r.line())
		if err != nil || got != r {
			t.Errorf("parseRecord(%q) = %+v, %v; want %+v", r.line(), got, err, r)
		}
	}
}

func TestCheckCreates(t *testing.T) {
	rec := func(user string, seq int, id string) createRecord {
		return createRecord{User: user, Seq: seq, Key: fmt.Sprintf("k-%s-%d", user, seq), Status: 201, TaskID: id, Attempts: 1}
	}
	recs := []createRecord{rec("u1", 1, "a"), rec("u1", 2, "b"), rec("u2", 1, "c")}
	tasks := []dbTask{{"u1", "a", "k-u1-1"}, {"u1", "b", "k-u1-2"}, {"u2", "c", "k-u2-1"}}
	keys := []dbKey{{"u1", "k-u1-1", "a"}, {"u1", "k-u1-2", "b"}, {"u2", "k-u2-1", "c"}}
	events := []dbEvent{{"u1", "task.created", "a", 10}, {"u1", "task.created", "b", 12}, {"u2", "task.created", "c", 11}}

	for _, c := range []struct {
		name   string
		change func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent)
		want   func(r createsReport) int
	}{
		{"clean", nil, nil},
		{"lost", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, ts[1:], ks[1:], es[1:]
		}, func(r createsReport) int { return r.Lost }},
		{"duplicated", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, append(ts, dbTask{"u2", "d", "k-u2-1"}), ks, append(es, dbEvent{"u2", "task.created", "d", 13})
		}, func(r createsReport) int { return r.Duplicated }},
		{"stray", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, append(ts, dbTask{"u2", "e", "made by someone else"}), ks, append(es, dbEvent{"u2", "task.created", "e", 14})
		}, func(r createsReport) int { return r.Stray }},
		{"wrong id", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			r = append([]createRecord(nil), r...)
			r[2].TaskID = "zz"
			return r, ts, ks, es
		}, func(r createsReport) int { return r.WrongID }},
		{"no 201", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			r = append([]createRecord(nil), r...)
			r[2].Status, r[2].TaskID = 503, ""
			return r, ts, ks, es
		}, func(r createsReport) int { return r.Unanswered }},
		{"key row missing", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, ts, ks[:2], es
		}, func(r createsReport) int { return r.KeyRows }},
		{"no created event", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, ts, ks, es[:2]
		}, func(r createsReport) int { return r.NoCreatedEvent }},
		{"two created events", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, ts, ks, append(es, dbEvent{"u2", "task.created", "c", 15})
		}, func(r createsReport) int { return r.ExtraCreatedEvents }},
		{"other event", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			return r, ts, ks, append(es, dbEvent{"u2", "task.updated", "c", 15})
		}, func(r createsReport) int { return r.OtherEvents }},
		{"out of commit order", func(r []createRecord, ts []dbTask, ks []dbKey, es []dbEvent) ([]createRecord, []dbTask, []dbKey, []dbEvent) {
			es = append([]dbEvent(nil), es...)
			es[1].ID = 9 // u1's second create committed before its first
			return r, ts, ks, es
		}, func(r createsReport) int { return r.OutOfOrder }},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, ts, ks, es := recs, tasks, keys, events
			if c.change != nil {
				r, ts, ks, es = c.change(r, ts, ks, es)
			}
			got := checkCreates(r, ts, ks, es)
			if c.want == nil {
				if !got.ok() {
					t.Fatalf("clean run reported %+v", got)
				}
				return
			}
			if got.ok() || c.want(got) != 1 {
				t.Fatalf("want exactly one %s, got %+v", c.name, got)
			}
		})
	}
}

func TestCheckStream(t *testing.T) {
	for _, c := range []struct {
		name string
		ids  []int64
		msgs []string
		want streamReport
	}{
		{"once each", []int64{1, 2, 3}, []string{"2", "1", "3"}, streamReport{Events: 3, Messages: 3}},
		{"missing", []int64{1, 2, 3}, []string{"1", "3"}, streamReport{Events: 3, Messages: 2, Missing: 1}},
		{"twice", []int64{1, 2}, []string{"1", "2", "2"}, streamReport{Events: 2, Messages: 3, Duplicated: 1}},
		{"unknown and unnamed", []int64{1}, []string{"1", "7", ""}, streamReport{Events: 1, Messages: 3, Unknown: 1, NoID: 1}},
	} {
		if got := checkStream(c.ids, c.msgs); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}
