package events_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/internal/apitest"
	"taskapi/internal/events"
	"taskapi/internal/testdb"
)

// An event reaches every open stream of its user (a tab each) within a second of its commit,
// and no stream of anyone else's.
func TestStreamDeliversToEveryTab(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	alice, bob := s.Token("alice"), s.Token("bob")
	tabs := []*sse{subscribe(t, s.Client, alice, "", nil), subscribe(t, s.Client, alice, "", nil)}
	bobs := subscribe(t, s.Client, bob, "", nil)

	tk := create(t, s.Client, alice, map[string]any{"title": "seen everywhere"})
	committed := time.Now() // the answer comes after the commit
	for i, tab := range tabs {
		m := tab.next(t, time.Second)
		if m.name != "task.created" || m.data.TaskID != tk.ID || m.data.task(t).Title != "seen everywhere" {
			t.Errorf("tab %d: %+v", i, m)
		}
	}
	if late := time.Since(committed); late > time.Second {
		t.Errorf("the event came %s after the commit", late)
	}
	mine := create(t, s.Client, bob, map[string]any{"title": "bob's"})
	if m := bobs.next(t, time.Second); m.data.TaskID != mine.ID {
		t.Errorf("bob's stream carried another user's event: %+v", m)
	}

	do(t, s.Client, apitest.Request{Method: http.MethodDelete, Path: "/api/tasks/" + tk.ID, Token: alice}, http.StatusNoContent)
	for i, tab := range tabs {
		if m := tab.next(t, time.Second); m.name != "task.deleted" || string(m.data.Task) != "null" {
			t.Errorf("tab %d: %+v", i, m)
		}
	}
	if m, ok := bobs.read(t, 300*time.Millisecond); ok {
		t.Errorf("bob's stream carried alice's deletion: %+v", m)
	}
}

// A stream resumes after the id in Last-Event-ID (or since) with every event after it, once.
func TestStreamResumes(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	token := s.Token("resumer")
	first := subscribe(t, s.Client, token, "", nil)
	var ids []string
	for i := range 3 {
		ids = append(ids, create(t, s.Client, token, map[string]any{"title": fmt.Sprint("before ", i)}).ID)
	}
	last := first.next(t, time.Second)
	first.close()
	for i := range 2 {
		ids = append(ids, create(t, s.Client, token, map[string]any{"title": fmt.Sprint("while away ", i)}).ID)
	}

	for _, tc := range []struct {
		name   string
		query  string
		header http.Header
	}{
		{name: "Last-Event-ID", header: http.Header{"Last-Event-ID": {last.id}}},
		{name: "since", query: "?since=" + last.id},
		{name: "Last-Event-ID wins", query: "?since=0", header: http.Header{"Last-Event-ID": {last.id}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			again := subscribe(t, s.Client, token, tc.query, tc.header)
			for _, want := range ids[1:] {
				if m := again.next(t, time.Second); m.data.TaskID != want {
					t.Fatalf("resumed with %s, want the task %s", m.data.TaskID, want)
				}
			}
			if m, ok := again.read(t, 300*time.Millisecond); ok {
				t.Errorf("an event after the ones missed: %+v", m)
			}
		})
	}

	// Live after catching up: a resumed stream has the next event once.
	again := subscribe(t, s.Client, token, "", http.Header{"Last-Event-ID": {last.id}})
	for range ids[1:] {
		again.next(t, time.Second)
	}
	live := create(t, s.Client, token, map[string]any{"title": "live"})
	if m := again.next(t, time.Second); m.data.TaskID != live.ID {
		t.Errorf("after catching up: %+v", m)
	}
	if m, ok := again.read(t, 300*time.Millisecond); ok {
		t.Errorf("a duplicate: %+v", m)
	}

	for _, bad := range []struct {
		query  string
		header http.Header
		want   int
	}{
		{header: http.Header{"Last-Event-ID": {"abc"}}, want: http.StatusBadRequest},
		{query: "?since=-3", want: http.StatusBadRequest},
		{header: http.Header{"Last-Event-ID": {"99999999999999999999"}}, want: http.StatusBadRequest},
	} {
		resp, cancel := open(t, s.Client, token, bad.query, bad.header)
		if resp.StatusCode != bad.want {
			t.Errorf("%s %v: %d, want %d", bad.query, bad.header, resp.StatusCode, bad.want)
		}
		cancel()
	}
	if _, err := s.Pool.Exec(context.Background(), "UPDATE task_events_pruned SET through = $1::bigint + 1", last.id); err != nil {
		t.Fatal(err)
	}
	resp, cancel := open(t, s.Client, token, "", http.Header{"Last-Event-ID": {last.id}})
	defer cancel()
	if resp.StatusCode != http.StatusGone {
		t.Errorf("resuming below the pruning's mark: %d, want 410", resp.StatusCode)
	}
}

// An idle stream gets a comment line every Heartbeat, and outlives the listener's read and
// write timeouts (which are for answers).
func TestStreamStaysOpen(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{ConnTimeout: 300 * time.Millisecond, Events: events.HubOptions{Heartbeat: 50 * time.Millisecond}})
	token := s.Token("patient")
	stream := subscribe(t, s.Client, token, "", nil)
	time.Sleep(time.Second)
	tk := create(t, s.Client, token, map[string]any{"title": "after a while"})
	if m := stream.next(t, time.Second); m.data.TaskID != tk.ID {
		t.Errorf("%+v", m)
	}
	if stream.comments < 10 { // the first comment, then about 20 heartbeats
		t.Errorf("%d comment lines in a second with a 50 ms heartbeat", stream.comments)
	}
}

// A stream further behind than its buffer reads what it missed from the outbox: all of it, in
// order, once.
func TestStreamCatchesUpWhenBehind(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Events: events.HubOptions{Buffer: 2}})
	const user, n = "burst", 300
	stream := subscribe(t, s.Client, s.Token(user), "", nil)
	bulkCreate(t, s.Pool, user, n, 10)
	var prev int64
	for i := range n {
		m := stream.next(t, 5*time.Second)
		if got := id(t, m.id); got <= prev {
			t.Fatalf("event %d: id %d after %d", i, got, prev)
		} else {
			prev = got
		}
		if want := fmt.Sprint("bulk ", i+1); m.data.task(t).Title != want {
			t.Fatalf("event %d is %q, want %q", i, m.data.task(t).Title, want)
		}
	}
	if m, ok := stream.read(t, 300*time.Millisecond); ok {
		t.Errorf("more events than changes: %+v", m)
	}
}

// A client that stops reading loses its stream once a write to it has waited WriteTimeout; the
// server keeps nothing for it, and keeps serving everyone else.
func TestStreamOfAClientThatNeverReads(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Events: events.HubOptions{WriteTimeout: 200 * time.Millisecond, Buffer: 8}})
	const user = "asleep"
	token := s.Token(user)
	dialer := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var err error
		c.Control(func(fd uintptr) { err = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return err
	}}
	conn, err := dialer.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/events HTTP/1.1\r\nHost: taskapi\r\nAuthorization: Bearer %s\r\nAccept: text/event-stream\r\n\r\n", token)
	waitFor(t, func() bool { return s.Hub.Streams() == 1 })
	awake := subscribe(t, s.Client, s.Token("awake"), "", nil)

	// Events of about 1 KB each until the sleeper's socket buffers are full and a write waits.
	for round := 0; s.Hub.Streams() > 1; round++ {
		if round == 40 {
			t.Fatalf("the stream of a client that reads nothing is still open after %d MB of events", round/2)
		}
		bulkCreate(t, s.Pool, user, 500, 1000)
		time.Sleep(100 * time.Millisecond)
	}
	tk := create(t, s.Client, s.Token("awake"), map[string]any{"title": "still served"})
	if m := awake.next(t, time.Second); m.data.TaskID != tk.ID {
		t.Errorf("%+v", m)
	}
}

// A user has at most MaxPerUser streams open on a replica; others are not affected.
func TestStreamsPerUserAreBounded(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Events: events.HubOptions{MaxPerUser: 2}})
	token := s.Token("many-tabs")
	subscribe(t, s.Client, token, "", nil)
	second := subscribe(t, s.Client, token, "", nil)
	resp, cancel := open(t, s.Client, token, "", nil)
	cancel()
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
		t.Errorf("a third stream: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	subscribe(t, s.Client, s.Token("one-tab"), "", nil)
	second.close()
	waitFor(t, func() bool { return s.Hub.Streams() == 2 })
	subscribe(t, s.Client, token, "", nil)
}

// Two replicas on one database: an event made on one reaches a stream on the other within a
// second. SIGTERM ends a replica's streams cleanly; the client resumes on the other replica
// from its last id with nothing missed.
func TestStreamsAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbURL := testdb.URL(t)
	replica := func() *apitest.Process {
		return apitest.StartBinary(t, "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+string(apitest.Secret), "RATE_LIMIT_RPS=0")
	}
	one, two := replica(), replica()
	c1, c2 := apitest.NewClient(t, one.BaseURL, apitest.Secret), apitest.NewClient(t, two.BaseURL, apitest.Secret)
	token := c1.Token("roaming")
	onTwo := subscribe(t, c2, token, "", nil)
	tk := create(t, c1, token, map[string]any{"title": "made on one"})
	last := onTwo.next(t, time.Second)
	if last.data.TaskID != tk.ID {
		t.Fatalf("%+v", last)
	}

	if err := two.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if m, ok := onTwo.read(t, 5*time.Second); ok || onTwo.err != nil {
		t.Fatalf("SIGTERM: the stream did not end cleanly: event %+v, error %v", m, onTwo.err)
	}
	select {
	case <-two.Exited:
	case <-time.After(10 * time.Second):
		t.Fatal("the replica did not stop within 10 s of SIGTERM")
	}
	if code := two.Cmd.ProcessState.ExitCode(); code != 0 {
		t.Errorf("exit code %d after SIGTERM:\n%s", code, two.Logs)
	}
	missed := create(t, c1, token, map[string]any{"title": "while reconnecting"})
	onOne := subscribe(t, c1, token, "", http.Header{"Last-Event-ID": {last.id}})
	if m := onOne.next(t, time.Second); m.data.TaskID != missed.ID {
		t.Errorf("resumed on the other replica with %+v", m)
	}
}

// Behind a transaction-mode PgBouncer, where LISTEN/NOTIFY would not work, events still reach
// streams on another replica within a second.
func TestStreamsThroughPgBouncer(t *testing.T) {
	t.Parallel()
	direct := testdb.URL(t)
	pooled := testdb.StartPgBouncer(t, direct)
	replica := func() *apitest.Process {
		return apitest.StartBinary(t, "DATABASE_URL="+pooled, "MIGRATION_DATABASE_URL="+direct, "DB_POOLER=transaction",
			"BETTER_AUTH_SECRET="+string(apitest.Secret), "RATE_LIMIT_RPS=0")
	}
	one, two := replica(), replica()
	c1, c2 := apitest.NewClient(t, one.BaseURL, apitest.Secret), apitest.NewClient(t, two.BaseURL, apitest.Secret)
	token := c1.Token("pooled")
	stream := subscribe(t, c2, token, "", nil)
	for i := range 5 {
		tk := create(t, c1, token, map[string]any{"title": fmt.Sprint("pooled ", i)})
		if m := stream.next(t, time.Second); m.data.TaskID != tk.ID {
			t.Fatalf("%+v", m)
		}
	}
}

// bulkCreate inserts n tasks of user in one statement, titled "bulk 1" to "bulk n", with
// descriptions of size bytes: a burst of events no request could make as fast.
func bulkCreate(t *testing.T, pool *pgxpool.Pool, user string, n, size int) {
	t.Helper()
	_, err := pool.Exec(context.Background(), `
		INSERT INTO tasks (id, user_id, title, description)
		SELECT gen_random_uuid(), $1, 'bulk ' || g, repeat('x', $3) FROM generate_series(1, $2::int) g
		ORDER BY g`, user, n, size)
	if err != nil {
		t.Fatal(err)
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("not within 5 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A reminder is announced once, within 5 s of falling due, however many replicas sweep; and
// one that fell due while no replica ran is announced when one starts.
func TestRemindersAreAnnouncedOnceAcrossReplicas(t *testing.T) {
	t.Parallel()
	dbURL := testdb.URL(t)
	pool, err := pgxpool.New(context.Background(), dbURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	const user = "reminded"
	// Due an hour ago, while nothing ran.
	if _, err := pool.Exec(context.Background(), `INSERT INTO tasks (id, user_id, title, remind_at)
		VALUES (gen_random_uuid(), $1, 'missed', now() - interval '1 hour')`, user); err != nil {
		t.Fatal(err)
	}
	replica := func() *apitest.Process {
		return apitest.StartBinary(t, "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+string(apitest.Secret), "RATE_LIMIT_RPS=0")
	}
	one := replica()
	c := apitest.NewClient(t, one.BaseURL, apitest.Secret)
	token := c.Token(user)
	stream := subscribe(t, c, token, "?since=0", nil)
	if m := stream.next(t, time.Second); m.name != "task.created" {
		t.Fatalf("%+v", m)
	}
	if m := stream.next(t, 5*time.Second); m.name != "reminder.due" || m.data.task(t).Title != "missed" {
		t.Fatalf("the missed reminder: %+v", m)
	}

	replica()
	remindAt := time.Now().Add(time.Second).Truncate(time.Second).Add(time.Second)
	tk := create(t, c, token, map[string]any{"title": "soon", "remind_at": remindAt.Format(time.RFC3339)})
	if m := stream.next(t, time.Second); m.name != "task.created" || m.data.TaskID != tk.ID {
		t.Fatalf("%+v", m)
	}
	m := stream.next(t, time.Until(remindAt)+5*time.Second)
	if m.name != "reminder.due" || m.data.TaskID != tk.ID {
		t.Fatalf("%+v", m)
	}
	if late := time.Since(remindAt); late > 5*time.Second || late < 0 {
		t.Errorf("announced %s after the reminder's time", late)
	}
	if m, ok := stream.read(t, 2500*time.Millisecond); ok {
		t.Errorf("announced again: %+v", m)
	}
}
