package events_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"taskapi/internal/apitest"
)

// event is an Event as the tests read it.
type event struct {
	ID     string          `json:"id"`
	Type   string          `json:"type"`
	TaskID string          `json:"task_id"`
	Task   json.RawMessage `json:"task"`
	Time   time.Time       `json:"time"`
}

type eventPage struct {
	Items      []event `json:"items"`
	NextCursor string  `json:"next_cursor"`
}

type task struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Completed bool   `json:"completed"`
}

func (e event) task(t *testing.T) task {
	t.Helper()
	var tk task
	if err := json.Unmarshal(e.Task, &tk); err != nil {
		t.Fatalf("event %s: task %s: %v", e.ID, e.Task, err)
	}
	return tk
}

func do(t *testing.T, c *apitest.Client, req apitest.Request, want int) *apitest.Response {
	t.Helper()
	r := c.For(t).Do(req)
	if r.Status != want {
		t.Fatalf("%s %s: %d, want %d: %s", req.Method, req.Path, r.Status, want, r.Body)
	}
	return r
}

func create(t *testing.T, c *apitest.Client, token string, body map[string]any) task {
	t.Helper()
	var tk task
	do(t, c, apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: body}, http.StatusCreated).JSON(t, &tk)
	return tk
}

// now is the feed's cursor for now.
func now(t *testing.T, c *apitest.Client, token string) string {
	t.Helper()
	var p eventPage
	do(t, c, apitest.Request{Method: http.MethodGet, Path: "/api/changes", Token: token}, http.StatusOK).JSON(t, &p)
	if len(p.Items) != 0 || p.NextCursor == "" {
		t.Fatalf("the feed without since: %+v", p)
	}
	return p.NextCursor
}

// changes reads every event after since, page by page, and the cursor after them.
func changes(t *testing.T, c *apitest.Client, token, since string) ([]event, string) {
	t.Helper()
	var all []event
	for {
		var p eventPage
		do(t, c, apitest.Request{Method: http.MethodGet, Path: "/api/changes?limit=7&since=" + url.QueryEscape(since), Token: token}, http.StatusOK).JSON(t, &p)
		all = append(all, p.Items...)
		if len(p.Items) == 0 {
			return all, p.NextCursor
		}
		since = p.NextCursor
	}
}

func types(es []event) string {
	var ts []string
	for _, e := range es {
		ts = append(ts, e.Type)
	}
	return strings.Join(ts, " ")
}

// sse is a client of GET /api/events.
type sse struct {
	c      *apitest.Client
	resp   *http.Response
	lines  *bufio.Scanner
	cancel context.CancelFunc
	// comments counts the comment lines read so far.
	comments int
	// err is why the stream ended, once it has: nil for a clean end.
	err error
}

// subscribe opens an event stream; header adds Last-Event-ID and the like.
func subscribe(t *testing.T, c *apitest.Client, token, query string, header http.Header) *sse {
	t.Helper()
	resp, cancel := open(t, c, token, query, header)
	if resp.StatusCode != http.StatusOK {
		cancel()
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET /api/events%s: %d %s", query, resp.StatusCode, body)
	}
	s := &sse{c: c, resp: resp, lines: bufio.NewScanner(resp.Body), cancel: cancel}
	t.Cleanup(s.close)
	return s
}

// open sends GET /api/events and returns the answer, whatever it is.
func open(t *testing.T, c *apitest.Client, token, query string, header http.Header) (*http.Response, context.CancelFunc) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.BaseURL+"/api/events"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "text/event-stream")
	for k, v := range header {
		req.Header[k] = v
	}
	return c.For(t).Open(req), cancel
}

func (s *sse) close() { s.cancel(); s.resp.Body.Close() }

// message is one server-sent event as it came: its id and event lines and its data, decoded.
type message struct {
	id, name string
	data     event
}

// next reads the next event (skipping comments), failing when none comes within wait.
func (s *sse) next(t *testing.T, wait time.Duration) message {
	t.Helper()
	m, ok := s.read(t, wait)
	if !ok {
		t.Fatalf("no event within %s (stream ended: %v)", wait, s.err)
	}
	return m
}

// read reads the next event; false when the stream ended (s.err says how) or nothing came
// within wait (the stream is closed then).
func (s *sse) read(t *testing.T, wait time.Duration) (message, bool) {
	t.Helper()
	got := make(chan message, 1)
	ended := make(chan struct{})
	go func() {
		var m message
		for s.lines.Scan() {
			line := s.lines.Text()
			switch {
			case line == "" && m.id != "":
				got <- m
				return
			case strings.HasPrefix(line, ":"):
				s.comments++
			case strings.HasPrefix(line, "id: "):
				m.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				m.name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				data := []byte(strings.TrimPrefix(line, "data: "))
				if err := s.c.CheckSchema("Event", data); err != nil {
					t.Errorf("an event's data does not match openapi.yaml's Event: %v\n%s", err, data)
				}
				if err := json.Unmarshal(data, &m.data); err != nil {
					t.Errorf("data %q: %v", line, err)
				}
			case line != "":
				t.Errorf("a line server-sent events do not have: %q", line)
			}
		}
		s.err = s.lines.Err()
		close(ended)
	}()
	select {
	case m := <-got:
		if m.id != m.data.ID || m.name != m.data.Type {
			t.Errorf("id: %s, event: %s, data: %+v", m.id, m.name, m.data)
		}
		return m, true
	case <-ended:
		return message{}, false
	case <-time.After(wait):
		s.close() // stops the reader
		<-ended
		return message{}, false
	}
}
