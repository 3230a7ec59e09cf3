package publish_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"taskapi/internal/apitest"
	"taskapi/internal/events"
	"taskapi/internal/publish"
	"taskapi/internal/testdb"
)

func TestMain(m *testing.M) { os.Exit(apitest.Main(m)) }

// natsURL is the machine's NATS server (NATS_URL overrides).
func natsURL() string {
	if u := os.Getenv("NATS_URL"); u != "" {
		return u
	}
	return nats.DefaultURL
}

// names are a test's own stream and subjects on a shared NATS server, its streams removed when
// it ends.
func names(t *testing.T, url string) (publish.Options, jetstream.JetStream) {
	t.Helper()
	suffix := strings.ToLower(rand.Text()[:10])
	opts := publish.Options{URL: url, Stream: "TASKAPI_TEST_" + suffix, SubjectPrefix: "taskapi-test-" + suffix}
	nc, err := nats.Connect(url)
	if err != nil {
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for name := range js.StreamNames(ctx, jetstream.WithStreamListSubject(opts.SubjectPrefix+".>")).Name() {
			if err := js.DeleteStream(ctx, name); err != nil {
				t.Errorf("removing the stream %s: %v", name, err)
			}
		}
		nc.Close()
	})
	return opts, js
}

// message is a published message as a consumer reads it.
type message struct {
	subject string
	header  nats.Header
	event   map[string]any
	data    map[string]any
}

// read waits until the stream has want messages, and returns them all in the stream's order.
func read(t *testing.T, js jetstream.JetStream, stream string, want int, within time.Duration) []message {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(within)
	for {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.State.Msgs >= uint64(want) || time.Now().After(deadline) {
			var msgs []message
			for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
				raw, err := s.GetMsg(ctx, seq)
				if err != nil {
					t.Fatal(err)
				}
				m := message{subject: raw.Subject, header: raw.Header}
				if err := json.Unmarshal(raw.Data, &m.event); err != nil {
					t.Fatalf("message %d is not JSON: %v\n%s", seq, err, raw.Data)
				}
				m.data, _ = m.event["data"].(map[string]any)
				msgs = append(msgs, m)
			}
			if len(msgs) != want {
				t.Fatalf("%d messages in the stream within %s, want %d", len(msgs), within, want)
			}
			return msgs
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type feedEvent struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	TaskID string          `json:"task_id"`
	Task   json.RawMessage `json:"task"`
	Time   time.Time       `json:"time"`
}

// feed is the user's whole change feed.
func feed(t *testing.T, c *apitest.Client, token string) []feedEvent {
	t.Helper()
	var page struct {
		Items []feedEvent `json:"items"`
	}
	c.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/changes?since=0&limit=500", Token: token}).JSON(t, &page)
	return page.Items
}

func do(t *testing.T, c *apitest.Client, req apitest.Request, want int) *apitest.Response {
	t.Helper()
	r := c.For(t).Do(req)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.Path, r.Status, want, r.Body)
	}
	return r
}

func create(t *testing.T, c *apitest.Client, token string, body map[string]any) string {
	t.Helper()
	var tk struct {
		ID string `json:"id"`
	}
	do(t, c, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: body}, http.StatusCreated).JSON(t, &tk)
	return tk.ID
}

// Every event goes to NATS as a CloudEvent: task events on <prefix>.task-events with Phase V's
// task event as data, reminders on <prefix>.reminders with Phase V's reminder; the event's id
// is the CloudEvent's and the message's Nats-Msg-Id.
func TestEveryEventIsPublishedAsACloudEvent(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	opts, js := names(t, natsURL())
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	p, err := publish.Connect(ctx, s.Pool, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if p.StreamName() != opts.Stream {
		t.Errorf("published to %q, want the new stream %q", p.StreamName(), opts.Stream)
	}
	go p.Run(ctx)

	const user = "phase-five"
	token := s.Token(user)
	id := create(t, s.Client, token, map[string]any{"title": "plan", "due_date": "2027-01-02T10:00:00Z",
		"remind_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)})
	if _, err := events.AnnounceDue(ctx, s.Pool); err != nil {
		t.Fatal(err)
	}
	item := "/api/tasks/" + id
	do(t, s.Client, apitest.Request{Method: http.MethodPatch, Path: item, Token: token, Body: map[string]any{"title": "plan it"}}, http.StatusOK)
	do(t, s.Client, apitest.Request{Method: http.MethodPatch, Path: item, Token: token, Body: map[string]any{"completed": true}}, http.StatusOK)
	do(t, s.Client, apitest.Request{Method: http.MethodDelete, Path: item, Token: token}, http.StatusNoContent)

	want := feed(t, s.Client, token)
	if got := len(want); got != 5 {
		t.Fatalf("%d events in the feed, want 5", got)
	}
	msgs := read(t, js, opts.Stream, len(want), 5*time.Second)
	for i, m := range msgs {
		e := want[i]
		if m.header.Get("Nats-Msg-Id") != e.ID || m.header.Get("Content-Type") != "application/cloudevents+json" {
			t.Errorf("message %d: headers %v", i, m.header)
		}
		envelope := map[string]any{"specversion": "1.0", "id": e.ID, "source": "taskapi", "type": "taskapi." + e.Type,
			"subject": id, "datacontenttype": "application/json", "time": e.Time.Format(time.RFC3339Nano)}
		for k, v := range envelope {
			if m.event[k] != v {
				t.Errorf("message %d (%s): %s is %v, want %v", i, e.Type, k, m.event[k], v)
			}
		}
		if len(m.event) != len(envelope)+1 {
			t.Errorf("message %d: attributes %v", i, slices.Sorted(maps.Keys(m.event)))
		}
		if e.Type == "reminder.due" {
			if m.subject != opts.SubjectPrefix+".reminders" {
				t.Errorf("a reminder on %s", m.subject)
			}
			wantData := map[string]any{"task_id": id, "title": "plan", "due_at": "2027-01-02T10:00:00Z", "user_id": user}
			for k, v := range wantData {
				if m.data[k] != v {
					t.Errorf("the reminder's %s is %v, want %v", k, m.data[k], v)
				}
			}
			if _, err := time.Parse(time.RFC3339, fmt.Sprint(m.data["remind_at"])); err != nil || len(m.data) != 5 {
				t.Errorf("the reminder's data: %v", m.data)
			}
			continue
		}
		if m.subject != opts.SubjectPrefix+".task-events" {
			t.Errorf("a task event on %s", m.subject)
		}
		if m.data["event_type"] != strings.TrimPrefix(e.Type, "task.") || m.data["task_id"] != id || m.data["user_id"] != user ||
			m.data["timestamp"] != e.Time.Format(time.RFC3339Nano) || len(m.data) != 5 {
			t.Errorf("message %d (%s): data %v", i, e.Type, m.data)
		}
		taskData, _ := json.Marshal(m.data["task_data"])
		if e.Type == "task.deleted" {
			if string(taskData) != "null" {
				t.Errorf("a deletion's task_data: %s", taskData)
			}
		} else if err := s.Client.CheckSchema("Task", taskData); err != nil {
			t.Errorf("message %d (%s): task_data is not a Task: %v\n%s", i, e.Type, err, taskData)
		}
	}
}

// A stream that already holds the subjects is used, whatever its name; a stream of the
// configured name gets the subjects it lacks; subjects held by another stream that cannot be
// joined are an error at once, not a wait.
func TestTheStreamIsFoundOrMade(t *testing.T) {
	t.Parallel()
	pool := testdb.New(t)
	ctx := context.Background()
	connect := func(opts publish.Options) (*publish.Publisher, error) {
		p, err := publish.Connect(ctx, pool, opts)
		if err == nil {
			t.Cleanup(p.Close)
		}
		return p, err
	}

	opts, js := names(t, natsURL())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: opts.Stream + "_WIDE", Subjects: []string{opts.SubjectPrefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	p, err := connect(opts)
	if err != nil {
		t.Fatal(err)
	}
	if p.StreamName() != opts.Stream+"_WIDE" {
		t.Errorf("a stream holding %s.> is there, yet the events go to %q", opts.SubjectPrefix, p.StreamName())
	}
	if _, err := js.Stream(ctx, opts.Stream); err == nil {
		t.Errorf("the stream %s was made although another holds the subjects", opts.Stream)
	}

	opts, js = names(t, natsURL())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: opts.Stream, Subjects: []string{opts.SubjectPrefix + ".audit"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := connect(opts); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, opts.Stream)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{opts.SubjectPrefix + ".audit", opts.SubjectPrefix + ".task-events", opts.SubjectPrefix + ".reminders"}
	if got := s.CachedInfo().Config.Subjects; !slices.Equal(got, want) {
		t.Errorf("the stream's subjects: %v, want %v", got, want)
	}

	opts, js = names(t, natsURL())
	if _, err := js.CreateStream(ctx, jetstream.StreamConfig{Name: opts.Stream + "_TASKS", Subjects: []string{opts.SubjectPrefix + ".task-events"}}); err != nil {
		t.Fatal(err)
	}
	opts.ConnectTimeout = time.Minute
	started := time.Now()
	if _, err := connect(opts); err == nil || !strings.Contains(err.Error(), opts.Stream) {
		t.Errorf("the subjects split over two streams: %v", err)
	}
	if waited := time.Since(started); waited > 10*time.Second {
		t.Errorf("a refusal took %s to report", waited)
	}
}

// NATS stops while changes are made; the service is killed (no shutdown) before it could
// publish them; NATS comes back, a replica starts: every event is in the stream, once.
func TestNothingIsLostWhenNATSOrTheServiceIsDown(t *testing.T) {
	t.Parallel()
	server := startNATS(t)
	opts, js := names(t, server.url)
	dbURL := testdb.URL(t)
	replica := func() *apitest.Process {
		return apitest.StartBinary(t, "DATABASE_URL="+dbURL, "BETTER_AUTH_SECRET="+string(apitest.Secret), "RATE_LIMIT_RPS=0",
			"NATS_URL="+server.url, "NATS_STREAM="+opts.Stream, "NATS_SUBJECT_PREFIX="+opts.SubjectPrefix)
	}
	first := replica()
	c := apitest.NewClient(t, first.BaseURL, apitest.Secret)
	token := c.Token("resilient")
	for i := range 5 {
		create(t, c, token, map[string]any{"title": fmt.Sprint("while up ", i)})
	}
	read(t, js, opts.Stream, 5, 5*time.Second)

	server.stop(t)
	for i := range 5 {
		create(t, c, token, map[string]any{"title": fmt.Sprint("while NATS is down ", i)})
	}
	if err := first.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-first.Exited
	server.start(t)
	second := replica()
	c = apitest.NewClient(t, second.BaseURL, apitest.Secret)
	create(t, c, token, map[string]any{"title": "after"})

	want := feed(t, c, token)
	msgs := read(t, js, opts.Stream, len(want), 10*time.Second)
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[fmt.Sprint(m.event["id"])] = true
	}
	for _, e := range want {
		if !seen[e.ID] {
			t.Errorf("event %s (%s) was not published", e.ID, e.Type)
		}
	}
	if len(seen) != len(msgs) || len(msgs) != 11 {
		t.Errorf("%d messages for %d events, %d distinct", len(msgs), len(want), len(seen))
	}
}

// natsServer is a NATS server of the test's own, which it can stop and start again (with the
// same storage).
type natsServer struct {
	url, dir string
	port     int
	cmd      *exec.Cmd
	exited   chan struct{}
}

func startNATS(t *testing.T) *natsServer {
	t.Helper()
	path, err := exec.LookPath("nats-server")
	if err != nil {
		for _, p := range []string{"/usr/sbin/nats-server", "/usr/bin/nats-server"} {
			if _, statErr := os.Stat(p); statErr == nil {
				path, err = p, nil
			}
		}
	}
	if err != nil {
		t.Fatalf("this test runs a NATS server of its own: install nats-server (Debian's package nats-server): %v", err)
	}
	s := &natsServer{dir: t.TempDir(), port: testdb.FreePort(t)}
	s.url = "nats://127.0.0.1:" + strconv.Itoa(s.port)
	s.cmd = exec.Command(path) // its arguments are set by start
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *natsServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.cmd.Path, "-a", "127.0.0.1", "-p", strconv.Itoa(s.port), "-js", "-sd", s.dir)
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	go func() { s.cmd.Wait(); close(s.exited) }()
	if err := testdb.WaitFor(10*time.Second, func() error {
		nc, err := nats.Connect(s.url)
		if err != nil {
			return err
		}
		defer nc.Close()
		js, err := jetstream.New(nc)
		if err != nil {
			return err
		}
		_, err = js.AccountInfo(context.Background())
		return err
	}); err != nil {
		t.Fatalf("nats-server: %v", err)
	}
}

func (s *natsServer) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		return
	default:
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}
