package tasks

import (
	"context"
	"errors"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"taskapi/gen/db"
	"taskapi/internal/recurrence"
)

// Completing an occurrence of a recurring task makes the next one, in the same transaction,
// whichever route completes it (PATCH, PUT, the toggles). A recurring task carries its upcoming
// due dates, worked out ahead (upcomingDates), so completing it on time is the same single
// statement as any other write (UpdateTask, ToggleTaskCompleted), which then also makes the
// next occurrence. When it cannot (the dates are not known, are all past, or the rule, due date
// or zone changes with the write), that statement writes nothing and the write goes through
// completing: it reads the task, works out in Go what the task becomes and when the next
// occurrence is due (internal/recurrence), and writes both in one statement
// (CompleteOccurrence), on the condition that the task is still the version it read; if another
// write came first, it reads again. The database makes sure completing occurrence n, however
// often, makes occurrence n + 1 at most once (tasks_series_occurrence).

// upcomingDates is how many due dates of a series are worked out ahead: about two months of a
// weekly task, so that completing occurrences one after the other only seldom takes the longer
// path.
const upcomingDates = 8

// written is a task as a write left it, and its next occurrence when the write completed an
// occurrence of a recurring task whose series goes on.
type written struct {
	row  *db.Task
	next *uuid.UUID
}

// link is the Link header that points at the next occurrence (RFC 8288), nil when none.
func (w written) link() *string {
	if w.next == nil {
		return nil
	}
	l := "<" + location(*w.next) + `>; rel="next-occurrence"`
	return &l
}

// update writes params (PATCH and PUT).
func (s *Service) update(ctx context.Context, params db.UpdateTaskParams) (written, error) {
	var err error
	if params.NextID, err = uuid.NewV7(); err != nil {
		return written{}, err
	}
	row, err := s.queries.UpdateTask(ctx, params)
	switch {
	case errors.Is(err, pgx.ErrNoRows) && params.Completed != nil && *params.Completed:
		return s.completing(ctx, params.UserID, params.ID, params.IfVersions, func(t *db.Task) { patch(t, params) })
	case errors.Is(err, pgx.ErrNoRows) && params.IfVersions != nil:
		return written{}, s.notFoundOrChanged(ctx, params.UserID, params.ID)
	case err != nil:
		return written{}, dbError(err)
	}
	return writtenOf((*db.CompleteOccurrenceRow)(row)), nil
}

// toggle flips completed (the Phase II toggles).
func (s *Service) toggle(ctx context.Context, user string, id uuid.UUID, versions []int64) (written, error) {
	next, err := uuid.NewV7()
	if err != nil {
		return written{}, err
	}
	row, err := s.queries.ToggleTaskCompleted(ctx, db.ToggleTaskCompletedParams{UserID: user, ID: id, IfVersions: versions, NextID: next})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return s.completing(ctx, user, id, versions, func(t *db.Task) { t.Completed = !t.Completed })
	case err != nil:
		return written{}, dbError(err)
	}
	return writtenOf((*db.CompleteOccurrenceRow)(row)), nil
}

// writtenOf reads a write's row: the task and the next occurrence it made or found.
func writtenOf(row *db.CompleteOccurrenceRow) written {
	w := written{row: taskOf(row), next: row.MadeID}
	if w.next == nil {
		w.next = row.EarlierID
	}
	return w
}

// patch applies an update to a task read from the database, as UpdateTask's SQL does.
func patch(t *db.Task, p db.UpdateTaskParams) {
	if p.Title != nil {
		t.Title = *p.Title
	}
	if p.SetDescription {
		t.Description = p.Description
	}
	if p.Completed != nil {
		t.Completed = *p.Completed
	}
	if p.Priority != nil {
		t.Priority = *p.Priority
	}
	if p.SetDueDate {
		t.DueDate = p.DueDate
	}
	if p.Tags != nil {
		t.Tags = p.Tags
	}
	if p.SetRecurrence {
		t.Recurrence = p.Recurrence
	}
	if p.Timezone != nil {
		t.Timezone = *p.Timezone
	}
	if p.SetRemindAt {
		t.RemindAt = p.RemindAt
	}
}

// maxRereads bounds how often a completion reads the task again after another write came
// first; each time round, that other write has finished.
const maxRereads = 10

// completing performs a write the fast path refused, which may complete an occurrence of a
// recurring task: change turns the task as read into the task as written. Only a write that
// completes the task (it was open) makes the next occurrence: of concurrent completions, the
// others find it completed.
func (s *Service) completing(ctx context.Context, user string, id uuid.UUID, versions []int64, change func(*db.Task)) (written, error) {
	for range maxRereads {
		cur, err := s.get(ctx, user, id)
		if err != nil {
			return written{}, err
		}
		if versions != nil && !slices.Contains(versions, cur.Version) {
			return written{}, errTaskChanged
		}
		t := *cur
		change(&t)
		params := db.CompleteOccurrenceParams{
			UserID: user, ID: id, Version: cur.Version,
			Title: t.Title, Description: t.Description, Completed: t.Completed, Priority: t.Priority, DueDate: t.DueDate,
			Tags: t.Tags, Recurrence: t.Recurrence, Timezone: t.Timezone, RemindAt: t.RemindAt,
		}
		if !cur.Completed && t.Completed {
			params.NextDue, params.NextRemindAt, params.NextUpcoming = nextOccurrence(&t, cur.Occurrence, time.Now())
		}
		if params.NextID, err = uuid.NewV7(); err != nil {
			return written{}, err
		}
		row, err := s.queries.CompleteOccurrence(ctx, params)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // another write came first: read again
		}
		if err != nil {
			return written{}, dbError(err)
		}
		return writtenOf(row), nil
	}
	return written{}, errTaskChanged
}

// nextOccurrence is when the occurrence after t (number n, completed now) is due, when it
// reminds and its own upcoming due dates, or nil when t does not repeat or its series is over.
func nextOccurrence(t *db.Task, n int32, now time.Time) (due, remind *time.Time, upcoming []time.Time) {
	rule, loc, ok := ruleOf(t.Recurrence, t.Timezone)
	if !ok || t.DueDate == nil {
		return nil, nil, nil
	}
	next, ok := rule.Next(*t.DueDate, loc, int(n), now)
	if !ok {
		return nil, nil, nil
	}
	if t.RemindAt != nil { // the reminder keeps its distance from the due date
		r := next.Add(t.RemindAt.Sub(*t.DueDate))
		remind = &r
	}
	return &next, remind, rule.Upcoming(next, loc, int(n)+1, upcomingDates)
}

// upcoming is the due dates that follow a new recurring task's (occurrence 1), nil for a task
// that does not repeat.
func upcoming(rule *string, zone string, due *time.Time) []time.Time {
	r, loc, ok := ruleOf(rule, zone)
	if !ok || due == nil {
		return nil
	}
	return r.Upcoming(*due, loc, 1, upcomingDates)
}

// ruleOf reads a stored rule and zone. One that no longer parses ends its series rather than
// failing the request.
func ruleOf(rule *string, zone string) (recurrence.Rule, *time.Location, bool) {
	if rule == nil {
		return recurrence.Rule{}, nil, false
	}
	r, err := recurrence.Parse(*rule)
	if err != nil {
		return recurrence.Rule{}, nil, false
	}
	loc, err := recurrence.Zone(zone)
	if err != nil {
		return recurrence.Rule{}, nil, false
	}
	return r, loc, true
}

// taskOf is the task part of CompleteOccurrence's row.
func taskOf(r *db.CompleteOccurrenceRow) *db.Task {
	return &db.Task{
		ID: r.ID, UserID: r.UserID, Title: r.Title, Description: r.Description, Completed: r.Completed,
		CompletedAt: r.CompletedAt, Priority: r.Priority, DueDate: r.DueDate, Tags: r.Tags, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, Version: r.Version, Recurrence: r.Recurrence, Timezone: r.Timezone,
		SeriesID: r.SeriesID, Occurrence: r.Occurrence, RemindAt: r.RemindAt, Upcoming: r.Upcoming, ReminderOpen: r.ReminderOpen,
		RemindedAt: r.RemindedAt,
	}
}
