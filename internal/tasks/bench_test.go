package tasks

import (
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

func samplePage() []*db.Task {
	now := time.Now().UTC()
	desc := "Two litres of semi-skimmed milk from the shop round the corner"
	rows := make([]*db.Task, 20)
	for i := range rows {
		due := now.Add(time.Duration(i) * time.Hour)
		rows[i] = &db.Task{
			ID: uuid.Must(uuid.NewV7()), UserID: "user-1", Title: "Buy milk and bread for the week", Description: &desc,
			Priority: db.TaskPriorityHigh, DueDate: &due, Tags: []string{"shopping", "errands"},
			CreatedAt: now, UpdatedAt: now, Version: 1,
		}
	}
	return rows
}

// Encoding one page of 20 tasks as the list endpoint does (and, for comparison, mapping
// them to api.Task and encoding/json through the generated response type).
func BenchmarkEncodePage(b *testing.B) {
	rows := samplePage()
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		if err := (pageJSON{rows: rows}).VisitListTasksResponse(w); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkEncodePageWithEncodingJSON(b *testing.B) {
	rows := samplePage()
	b.ReportAllocs()
	for b.Loop() {
		page := api.TaskPage{Items: make([]api.Task, 0, len(rows))}
		for _, row := range rows {
			page.Items = append(page.Items, ToAPI(row))
		}
		if err := (api.ListTasks200JSONResponse{Body: page}).VisitListTasksResponse(httptest.NewRecorder()); err != nil {
			b.Fatal(err)
		}
	}
}

// A cursor made from the last row of a page and read back, as the next request does.
func BenchmarkCursorRoundTrip(b *testing.B) {
	row := samplePage()[19]
	ord := orders[defaultSort]
	fingerprint := fingerprintOf("user-1", string(defaultSort), "all", "\x01", "\x01", "", "", "\x01")
	b.ReportAllocs()
	for b.Loop() {
		s := cursor{Version: cursorVersion, Fingerprint: fingerprint, Key: ord.key(row), ID: row.ID}.encode()
		c, err := decodeCursor(s, fingerprintOf("user-1", string(defaultSort), "all", "\x01", "\x01", "", "", "\x01"))
		if err != nil || !ord.validKey(c.Key) {
			b.Fatal(err)
		}
	}
}
