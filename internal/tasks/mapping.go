package tasks

import (
	"time"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

// toAPI is the one place where a stored task (db.Task) becomes a response (api.Task).
func toAPI(t *db.Task) api.Task {
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
