package replica_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/internal/apitest"
	"taskapi/internal/postgres"
	"taskapi/internal/testdb"
)

// window is the read-after-write window of these tests: long enough that the checks made
// within its first half cannot be answered by the lag rule (which moves reads off a paused
// standby only once it is about a window behind), short enough to wait for.
const window = 2 * time.Second

// replicated is the API served from a real primary with a real hot standby, both private.
type replicated struct {
	*apitest.Server
	primary, standby     *testdb.Private
	onPrimary, onStandby *pgx.Conn
	logs                 *syncBuffer
}

func startReplicated(t *testing.T) *replicated {
	t.Helper()
	primary, standby := testdb.StartReplicated(t)
	primary.CreateDatabase("taskapi")
	testdb.Migrate(t, primary.URL("taskapi"))
	testdb.CatchUp(t, primary, standby)
	logs := &syncBuffer{}
	s := apitest.Start(t, apitest.Options{
		Pool: open(t, primary.URL("taskapi")), Standby: open(t, standby.URL("taskapi")), ReadAfterWriteWindow: window, Logs: logs,
	})
	return &replicated{Server: s, primary: primary, standby: standby,
		onPrimary: connect(t, primary.URL("taskapi")), onStandby: connect(t, standby.URL("taskapi")), logs: logs}
}

// Reads of lists go to the standby, except a user's own right after they wrote; single tasks
// (what If-Match is made from) are always read from the primary; a standby that falls more than
// the window behind is left for the primary.
func TestReadsGoToTheStandbyUnlessTheyMustNot(t *testing.T) {
	r := startReplicated(t)
	var lagging paused
	r.eventually(t, "lists read from the paused standby", func(n int) bool {
		p := r.pauseWithNewRows(t, n)
		bob, erin := r.Token(p.users[0]), r.Token(p.users[1])

		// Bob has never written through the API: his lists come from the standby, where the row
		// just inserted on the primary is not replayed yet.
		list, reminders, changes := r.ids(t, bob, "/api/tasks"), r.ids(t, bob, "/api/reminders"), r.eventTasks(t, bob)
		// Erin's task, read alone, comes from the primary, and so does the update conditional
		// on its ETag.
		got := r.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + p.rows[1], Token: erin})
		var patched *apitest.Response
		if got.Status == http.StatusOK {
			patched = r.For(t).Do(apitest.Request{Method: http.MethodPatch, Path: "/api/tasks/" + p.rows[1], Token: erin,
				Header: http.Header{"If-Match": {got.Header.Get("ETag")}}, Body: map[string]any{"completed": true}})
		}
		// Once Bob has written, his lists come from the primary, which has both his rows.
		mine := r.create(t, bob)
		listAfter, changesAfter := r.ids(t, bob, "/api/tasks"), r.eventTasks(t, bob)
		if time.Since(p.inserted) >= window/2 {
			return false // too slow to tell the standby from the lag rule: again
		}
		if slices.Contains(list, p.rows[0]) || slices.Contains(reminders, p.rows[0]) || slices.Contains(changes, p.rows[0]) {
			return false // the router has not checked the standby yet (the first attempt): again
		}
		if got.Status != http.StatusOK {
			t.Errorf("GET of a task only on the primary: %d %s", got.Status, got.Body)
		} else if patched.Status != http.StatusOK {
			t.Errorf("PATCH with If-Match of a task only on the primary: %d %s", patched.Status, patched.Body)
		}
		if !slices.Contains(listAfter, p.rows[0]) || !slices.Contains(listAfter, mine) {
			t.Errorf("right after his write, Bob's list %v lacks %s or his new %s: not read from the primary", listAfter, p.rows[0], mine)
		}
		if !slices.Contains(changesAfter, p.rows[0]) || !slices.Contains(changesAfter, mine) {
			t.Errorf("right after his write, Bob's changes %v lack %s or %s: not read from the primary", changesAfter, p.rows[0], mine)
		}
		lagging = p
		return true
	})

	// Replay still paused, the standby falls behind: about a window after the row was inserted,
	// Dave's lists (he never wrote) move to the primary, where it is.
	dave := r.Token(lagging.users[2])
	if err := testdb.WaitFor(4*window, func() error {
		if ids := r.ids(t, dave, "/api/tasks"); !slices.Contains(ids, lagging.rows[2]) {
			return errors.New("still read from the paused standby")
		}
		return nil
	}); err != nil {
		t.Fatalf("a standby a window behind is still read: %v", err)
	}
	if waited := time.Since(lagging.inserted); waited < window/2 {
		t.Errorf("reads left the standby %s after it stopped replaying, before the window (%s) could have passed", waited, window)
	}
	if ids := r.ids(t, dave, "/api/reminders"); !slices.Contains(ids, lagging.rows[2]) {
		t.Errorf("Dave's reminders %v lack %s though the standby lags", ids, lagging.rows[2])
	}
	if ids := r.eventTasks(t, dave); !slices.Contains(ids, lagging.rows[2]) {
		t.Errorf("Dave's changes %v lack %s though the standby lags", ids, lagging.rows[2])
	}
	// Logged at the router's next check, a quarter window later at most.
	if err := testdb.WaitFor(window, func() error {
		if !strings.Contains(r.logs.String(), "the standby lags more than the window") {
			return errors.New("not logged")
		}
		return nil
	}); err != nil {
		t.Errorf("the switch to the primary was not logged:\n%s", r.logs)
	}
}

// A standby that goes down while it is being read fails no request: the read is answered from
// the primary, at once and from then on.
func TestAStandbyDownFailsNoRead(t *testing.T) {
	r := startReplicated(t)
	r.eventually(t, "the standby stopped while lists are read from it", func(n int) bool {
		p := r.pauseWithNewRows(t, n)
		bob := r.Token(p.users[0])
		if ids := r.ids(t, bob, "/api/tasks"); slices.Contains(ids, p.rows[0]) {
			return false // not reading the standby yet: again
		}
		r.standby.Stop()
		// The router still counts on the standby (its next check has not run): this read
		// fails there and is answered from the primary.
		list := r.ids(t, bob, "/api/tasks")
		if time.Since(p.inserted) >= window/2 {
			t.Logf("the read after the stop came %s after the insert: the lag rule may have answered it", time.Since(p.inserted))
		}
		if !slices.Contains(list, p.rows[0]) {
			t.Errorf("with the standby down, Bob's list %v lacks %s", list, p.rows[0])
		}
		return true
	})
	bob := r.Token("after-the-stop")
	for range 5 {
		r.ids(t, bob, "/api/tasks") // each fails the test unless 200
		r.ids(t, bob, "/api/reminders")
		r.eventTasks(t, bob)
	}
	// Either the read above failed on the standby and was retried on the primary, or (when the
	// router's check ran between the stop and the read) the check saw the standby gone first.
	if logs := r.logs.String(); !strings.Contains(logs, "a read on the standby failed") && !strings.Contains(logs, "the standby cannot be read") {
		t.Errorf("the standby's failure was not noticed:\n%s", logs)
	}
}

// paused is the standby with replay paused just after rows were inserted on the primary, one
// for each of users (whose names are new to the API), with a reminder due.
type paused struct {
	users    []string
	rows     []string
	inserted time.Time // before the insert
}

// pauseWithNewRows lets the standby catch up, pauses its replay, then inserts the rows on the
// primary directly: they are on the primary only, until replay resumes.
func (r *replicated) pauseWithNewRows(t *testing.T, attempt int) paused {
	t.Helper()
	ctx := context.Background()
	r.exec(t, r.onStandby, "SELECT pg_wal_replay_resume()")
	testdb.CatchUp(t, r.primary, r.standby)
	r.exec(t, r.onStandby, "SELECT pg_wal_replay_pause()")
	if err := testdb.WaitFor(10*time.Second, func() error {
		var state string
		if err := r.onStandby.QueryRow(ctx, "SELECT pg_get_wal_replay_pause_state()").Scan(&state); err != nil || state == "paused" {
			return err
		}
		return fmt.Errorf("replay is %s", state)
	}); err != nil {
		t.Fatal(err)
	}
	p := paused{users: []string{fmt.Sprintf("bob-%d", attempt), fmt.Sprintf("erin-%d", attempt), fmt.Sprintf("dave-%d", attempt)}}
	p.inserted = time.Now()
	rows, _ := r.onPrimary.Query(ctx, `INSERT INTO tasks (id, user_id, title, remind_at)
		SELECT gen_random_uuid(), u, 'on the primary only', now() - interval '1 hour' FROM unnest($1::text[]) AS u
		RETURNING user_id, id::text`, p.users)
	byUser := map[string]string{}
	var user, id string
	if _, err := pgx.ForEachRow(rows, []any{&user, &id}, func() error { byUser[user] = id; return nil }); err != nil {
		t.Fatal(err)
	}
	for _, u := range p.users {
		p.rows = append(p.rows, byUser[u])
	}
	return p
}

// eventually runs try until it returns true, 20 times at most: try returns false when what it
// saw cannot tell the servers apart (the router's first check not yet done, or too slow).
func (r *replicated) eventually(t *testing.T, what string, try func(attempt int) bool) {
	t.Helper()
	for attempt := range 20 {
		if try(attempt) {
			return
		}
	}
	t.Fatalf("%s: never seen in 20 attempts\n%s", what, r.logs)
}

func (r *replicated) exec(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

// ids are the ids of the items of the first page at path (a list of tasks), after a 200.
func (r *replicated) ids(t *testing.T, token, path string) []string {
	t.Helper()
	res := r.For(t).Do(apitest.Request{Method: http.MethodGet, Path: path + "?limit=100", Token: token})
	if res.Status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", path, res.Status, res.Body)
	}
	var page struct {
		Items []struct {
			ID string `json:"id"`
		} `json:"items"`
	}
	res.JSON(t, &page)
	var ids []string
	for _, item := range page.Items {
		ids = append(ids, item.ID)
	}
	return ids
}

// eventTasks are the task ids of the user's events in the change feed, from the start.
func (r *replicated) eventTasks(t *testing.T, token string) []string {
	t.Helper()
	res := r.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/changes?since=0", Token: token})
	if res.Status != http.StatusOK {
		t.Fatalf("GET /api/changes: %d %s", res.Status, res.Body)
	}
	var page struct {
		Items []struct {
			TaskID string `json:"task_id"`
		} `json:"items"`
	}
	res.JSON(t, &page)
	var ids []string
	for _, item := range page.Items {
		ids = append(ids, item.TaskID)
	}
	return ids
}

func (r *replicated) create(t *testing.T, token string) string {
	t.Helper()
	res := r.For(t).Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{"title": "mine"}})
	if res.Status != http.StatusCreated {
		t.Fatalf("POST /api/tasks: %d %s", res.Status, res.Body)
	}
	var task struct {
		ID string `json:"id"`
	}
	res.JSON(t, &task)
	return task.ID
}

func open(t *testing.T, url string) *pgxpool.Pool {
	t.Helper()
	pool, err := postgres.Open(context.Background(), postgres.Options{URL: url, ConnectTimeout: 10 * time.Second, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// syncBuffer is the server's log, written by its goroutines while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
