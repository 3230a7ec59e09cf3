// Package events is what changed, as it happens: the outbox that every change to a task
// writes in its own transaction (the trigger of migration 7), read as a change feed
// (GET /api/changes), as server-sent events (GET /api/events), and announced when a reminder
// falls due. Events of one user are in commit order: their ids are taken at commit, under a
// lock on the user.
package events

import (
	"strconv"
	"time"

	"github.com/google/uuid"

	api "taskapi/gen/api"
	"taskapi/internal/problem"
	"taskapi/internal/tasks"
)

// row is an event as stored.
type row struct {
	ID     int64
	Type   string
	TaskID uuid.UUID
	Task   []byte // to_jsonb of the task's row; nil for task.deleted
	At     time.Time
}

// toAPI is the event as the API shows it: the task snapshot through the same mapping as every
// task answer.
func (r row) toAPI() (api.Event, error) {
	e := api.Event{Id: strconv.FormatInt(r.ID, 10), Type: api.EventType(r.Type), TaskId: r.TaskID, Time: r.At.UTC()}
	if r.Task != nil {
		task, err := tasks.Snapshot(r.Task)
		if err != nil {
			return api.Event{}, err
		}
		e.Task = &task
	}
	return e, nil
}

// parseCursor reads a cursor; the spec's pattern has let only digits through.
func parseCursor(field, s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, &problem.Error{Kind: problem.BadRequest, Detail: field + " is not a cursor this API issued",
			Fields: []problem.FieldError{{Field: field, Message: "is not a cursor this API issued"}}}
	}
	return n, nil
}

var errGone = problem.New(problem.Gone, "the events after this cursor are no longer kept; read the list again and start over")

var errTooManyStreams = problem.New(problem.TooManyRequests, "too many event streams are open for this user; close one, or retry in 5 s")

var errClosing = problem.New(problem.Unavailable, "the server is shutting down; reconnect")
