package tasks

import (
	"encoding/json"
	"fmt"
	"time"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

// Snapshot is a task as an outbox event recorded it (to_jsonb of its row, whose keys are the
// columns' names, as db.Task's JSON tags are), as the API shows it.
func Snapshot(data []byte) (api.Task, error) {
	var t db.Task
	if err := json.Unmarshal(data, &t); err != nil {
		return api.Task{}, fmt.Errorf("an event's task: %w", err)
	}
	return ToAPI(&t), nil
}

// ToAPI is the one place where a stored task (db.Task) becomes a response (api.Task): the
// service's answers and the events' snapshots alike.
func ToAPI(t *db.Task) api.Task {
	return api.Task{
		Id:          t.ID,
		Title:       t.Title,
		Description: t.Description,
		Completed:   t.Completed,
		CompletedAt: utc(t.CompletedAt),
		Priority:    api.Priority(t.Priority),
		DueDate:     utc(t.DueDate),
		Tags:        t.Tags,
		Recurrence:  t.Recurrence,
		Timezone:    t.Timezone,
		SeriesId:    t.SeriesID,
		RemindAt:    utc(t.RemindAt),
		CreatedAt:   t.CreatedAt.UTC(),
		UpdatedAt:   t.UpdatedAt.UTC(),
	}
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
