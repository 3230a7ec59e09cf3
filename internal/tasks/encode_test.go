package tasks

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

// encodingJSON is the reference: encoding/json of the api.TaskPage that ToAPI makes of p.
func encodingJSON(t testing.TB, p page) []byte {
	ref := api.TaskPage{Items: make([]api.Task, 0, len(p.rows)), NextCursor: p.next}
	for _, row := range p.rows {
		ref.Items = append(ref.Items, ToAPI(row))
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
		task.Timezone = "UTC"
		if i%2 == 1 { // a recurring one, with odd text in its rule and zone too
			rule, series := "FREQ=WEEKLY;BYDAY=MO "+s, uuid.New()
			task.Recurrence, task.SeriesID, task.RemindAt, task.Timezone = &rule, &series, &due, s
		}
		rows = append(rows, task)
	}
	for _, row := range rows {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(ToAPI(row)); err != nil {
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

func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "a", "\"\\", "<>&", "\u2028", "\xff", "\x00", "日本"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := page{rows: []*db.Task{{Title: s, Tags: []string{s}, Priority: db.TaskPriority(s), Recurrence: &s, Timezone: s}}}
		if got, want := appendPage(nil, p), encodingJSON(t, p); !bytes.Equal(got, want) {
			t.Errorf("%q: appendPage %s, encoding/json %s", s, got, want)
		}
	})
}
