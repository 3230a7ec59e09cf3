package tasks

import (
	"time"

	"github.com/oapi-codegen/nullable"

	api "taskapi/gen/api"
	"taskapi/gen/db"
)

// toAPI is the one place where a stored task (db.Task) becomes a response (api.Task).
func toAPI(t db.Task) api.Task {
	return api.Task{
		Id:          t.ID,
		Title:       t.Title,
		Description: nullableOf(t.Description),
		Completed:   t.Completed,
		CompletedAt: nullableOf(utc(t.CompletedAt)),
		Priority:    api.Priority(t.Priority),
		DueDate:     nullableOf(utc(t.DueDate)),
		Tags:        t.Tags,
		CreatedAt:   t.CreatedAt.UTC(),
		UpdatedAt:   t.UpdatedAt.UTC(),
	}
}

// nullableOf makes a required, nullable response field: null for nil, never left out.
func nullableOf[T any](v *T) nullable.Nullable[T] {
	if v == nil {
		return nullable.NewNullNullable[T]()
	}
	return nullable.NewNullableWithValue(*v)
}

func utc(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}
