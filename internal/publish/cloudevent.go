package publish

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/tasks"
)

// envelope is a CloudEvent 1.0 in the structured JSON format
// (https://github.com/cloudevents/spec/blob/v1.0.2/cloudevents/formats/json-format.md).
type envelope struct {
	SpecVersion     string    `json:"specversion"`
	ID              string    `json:"id"`
	Source          string    `json:"source"`
	Type            string    `json:"type"`
	Subject         string    `json:"subject"`
	Time            time.Time `json:"time"`
	DataContentType string    `json:"datacontenttype"`
	Data            any       `json:"data"`
}

// taskEvent is Phase V's task event.
type taskEvent struct {
	EventType string    `json:"event_type"` // created, updated, completed or deleted
	TaskID    uuid.UUID `json:"task_id"`
	TaskData  *api.Task `json:"task_data"` // null when deleted
	UserID    string    `json:"user_id"`
	Timestamp time.Time `json:"timestamp"`
}

// reminder is Phase V's reminder event.
type reminder struct {
	TaskID   uuid.UUID  `json:"task_id"`
	Title    string     `json:"title"`
	DueAt    *time.Time `json:"due_at"`
	RemindAt *time.Time `json:"remind_at"`
	UserID   string     `json:"user_id"`
}

// cloudEvent encodes an outbox event as the CloudEvent Phase V's consumers read.
func cloudEvent(r *db.SweepUnpublishedRow) ([]byte, error) {
	e := envelope{
		SpecVersion: "1.0", ID: strconv.FormatInt(r.ID, 10), Source: "taskapi", Type: "taskapi." + r.Type,
		Subject: r.TaskID.String(), Time: r.At.UTC(), DataContentType: "application/json",
	}
	var task *api.Task
	if r.Task != nil {
		t, err := tasks.Snapshot(r.Task)
		if err != nil {
			return nil, err
		}
		task = &t
	}
	if r.Type == "reminder.due" {
		if task == nil {
			return nil, fmt.Errorf("event %d: a reminder without its task", r.ID)
		}
		e.Data = reminder{TaskID: r.TaskID, Title: task.Title, DueAt: task.DueDate, RemindAt: task.RemindAt, UserID: r.UserID}
	} else {
		e.Data = taskEvent{EventType: strings.TrimPrefix(r.Type, "task."), TaskID: r.TaskID, TaskData: task, UserID: r.UserID, Timestamp: e.Time}
	}
	return json.Marshal(e)
}
