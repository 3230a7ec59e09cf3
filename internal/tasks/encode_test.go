package tasks

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
)

func encodingJSON(t testing.TB, p api.TaskPage) []byte {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(p); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestPageEncodingMatchesEncodingJSON(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 123456000, time.UTC)
	odd := []string{"", "plain", `quote " backslash \ slash /`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
		"\x00\x01\x1f\x7f", "é 日本 😀 e\u0301", "\u2028\u2029", "\xff\xfe invalid", "\u202eRTL"}
	var items []api.Task
	for i, s := range odd {
		due := now.Add(time.Duration(i) * time.Hour)
		desc := s
		task := api.Task{Id: uuid.New(), Title: s, Description: &desc, Completed: i%2 == 0, Priority: api.Priority("high"),
			DueDate: &due, Tags: []string{s, "x"}, CreatedAt: now, UpdatedAt: now.Add(time.Second)}
		if i%3 == 0 {
			task.Description, task.DueDate, task.Tags = nil, nil, []string{}
		}
		if task.Completed {
			task.CompletedAt = &now
		}
		items = append(items, task)
	}
	cursor := "eyJ2IjoxfQ"
	for _, p := range []api.TaskPage{{Items: items, NextCursor: &cursor}, {Items: []api.Task{}}, {Items: items[:1]}} {
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
		p := api.TaskPage{Items: []api.Task{{Title: s, Tags: []string{s}, Priority: api.Priority(s)}}}
		if got, want := appendPage(nil, p), encodingJSON(t, p); !bytes.Equal(got, want) {
			t.Errorf("%q: appendPage %s, encoding/json %s", s, got, want)
		}
	})
}
