package tasks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

// encodingJSON is the reference: encoding/json of the api.TaskPage that toAPI makes of p.
func encodingJSON(t testing.TB, p page) []byte {
	ref := api.TaskPage{Items: make([]api.Task, 0, len(p.rows)), NextCursor: p.next}
	for _, row := range p.rows {
		ref.Items = append(ref.Items, toAPI(row))
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(ref); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPageEncodingMatchesEncodingJSON(t *testing.T) {
	// Times as pgx returns them, in the process's zone: here one far from UTC.
	zone := time.FixedZone("UTC+5:30", 5*3600+1800)
	now := time.Date(2026, 11, 26, 12, 0, 0, 123456000, zone)
	odd := []string{"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
		"\x00\x01\x1f\x7f", "é 日本 😀 e\u0301", "\u2028\u2029", "\xff\xfe invalid", "\u202eRTL"}
	var rows []*db.Task
	for i, s := range odd {
		due := now.Add(time.Duration(i) * time.Hour)
		desc := s
		task := &db.Task{ID: uuid.New(), UserID: "user-1", Title: s, Description: &desc, Completed: i%2 == 0,
			Priority: db.TaskPriorityHigh, DueDate: &due, Tags: []string{s, "x"}, CreatedAt: now, UpdatedAt: now.Add(time.Second).UTC(), Version: int64(i)}
		if i%3 == 0 {
			task.Description, task.DueDate, task.Tags = nil, nil, []string{}
		}
		if task.Completed {
			task.CompletedAt = &now
		}
		rows = append(rows, task)
	}
	for _, row := range rows {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(toAPI(row)); err != nil {
			t.Fatal(err)
		}
		if got := append(appendTask(nil, row), '\n'); !bytes.Equal(got, want.Bytes()) {
			t.Errorf("appendTask differs from encoding/json:\n got %s\nwant %s", got, want.Bytes())
		}
	}
	cursor := "eyJ2IjoxfQ"
	for _, p := range []page{{rows: rows, next: &cursor}, {rows: []*db.Task{}}, {rows: rows[:1]}, {rows: rows[3:4]}} {
		if got, want := appendPage(nil, p), encodingJSON(t, p); !bytes.Equal(got, want) {
			t.Errorf("appendPage differs from encoding/json:\n got %s\nwant %s", got, want)
		}
	}
}

// TestTaskAnswersMatchGenerated checks the hand-encoded single-task answers against the
// generated responses for the same task: status, every header but Content-Length (which only
// ours sets) and body.
func TestTaskAnswersMatchGenerated(t *testing.T) {
	due := time.Date(2027, 1, 2, 3, 4, 5, 600000000, time.FixedZone("UTC-3", -3*3600))
	desc := "<b>é</b>"
	row := &db.Task{ID: uuid.New(), UserID: "user-1", Title: "a \"title\"", Description: &desc, Priority: db.TaskPriorityLow,
		DueDate: &due, Tags: []string{"x", "y"}, CreatedAt: due, UpdatedAt: due, Version: 7}
	tag := etag(row.Version)
	location := "/api/tasks/" + row.ID.String()
	for _, c := range []struct {
		name      string
		ours, ref func(http.ResponseWriter) error
	}{
		{"get", taskJSON{row: row, etag: tag}.VisitGetTaskResponse,
			api.GetTask200JSONResponse{Body: toAPI(row), Headers: api.GetTask200ResponseHeaders{ETag: tag}}.VisitGetTaskResponse},
		{"create", createdJSON(row).VisitCreateTaskResponse,
			created(toAPI(row), tag, nil).VisitCreateTaskResponse},
		{"compat create", createdJSON(row).VisitCompatCreateTaskResponse,
			api.CompatCreateTask201JSONResponse{Body: toAPI(row), Headers: api.CompatCreateTask201ResponseHeaders{Location: location, ETag: tag}}.VisitCompatCreateTaskResponse},
	} {
		got, want := httptest.NewRecorder(), httptest.NewRecorder()
		if err := c.ours(got); err != nil {
			t.Fatal(err)
		}
		if err := c.ref(want); err != nil {
			t.Fatal(err)
		}
		if got.Code != want.Code {
			t.Errorf("%s: status %d, generated %d", c.name, got.Code, want.Code)
		}
		if cl := got.Header().Get("Content-Length"); cl != strconv.Itoa(got.Body.Len()) {
			t.Errorf("%s: Content-Length %q for %d bytes", c.name, cl, got.Body.Len())
		}
		got.Header().Del("Content-Length")
		if g, w := fmt.Sprint(got.Header()), fmt.Sprint(want.Header()); g != w {
			t.Errorf("%s: headers\n got %s\nwant %s", c.name, g, w)
		}
		if !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("%s: body\n got %s\nwant %s", c.name, got.Body, want.Body)
		}
	}
}

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "<>&", "\u2028", "\xff", "\x00", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := page{rows: []*db.Task{{Title: s, Tags: []string{s}, Priority: db.TaskPriority(s)}}}
		if got, want := appendPage(nil, p), encodingJSON(t, p); !bytes.Equal(got, want) {
			t.Errorf("%q: appendPage %s, encoding/json %s", s, got, want)
		}
	})
}
