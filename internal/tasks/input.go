package tasks

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/oapi-codegen/nullable"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/problem"
	"taskapi/internal/recurrence"
)

// The request validator has already enforced openapi.yaml (types, lengths, enums, unknown
// fields). What is left here are the rules a schema cannot say: titles and tags are trimmed
// and must not be blank afterwards, tags stay distinct after trimming, no text may hold a NUL
// character (PostgreSQL cannot store one), a recurrence must be a rule internal/recurrence
// understands, anchored on a due date it can repeat from, and a time zone must exist.

// input is a validated TaskInput with its defaults filled in.
type input struct {
	Title       string
	Description *string
	Completed   bool
	Priority    db.TaskPriority
	DueDate     *time.Time
	Tags        []string
	Recurrence  *string
	Timezone    string
	RemindAt    *time.Time
}

func readInput(body *api.TaskInput) (input, error) {
	if body == nil {
		return input{}, problem.New(problem.BadRequest, "request body is required")
	}
	var v validation
	in := input{
		Title:       v.title("title", body.Title),
		Description: v.text("description", nullableValue(body.Description)),
		Completed:   body.Completed != nil && *body.Completed,
		Priority:    db.TaskPriorityMedium,
		DueDate:     nullableValue(body.DueDate),
		Tags:        []string{},
	}
	if body.Priority != nil {
		in.Priority = db.TaskPriority(*body.Priority)
	}
	if body.Tags != nil {
		in.Tags = v.tags(*body.Tags)
	}
	in.Timezone = "UTC"
	if body.Timezone != nil {
		in.Timezone = *body.Timezone
	}
	loc := v.zone("timezone", in.Timezone)
	in.Recurrence = v.recurrence(nullableValue(body.Recurrence), in.DueDate, true, loc)
	in.RemindAt = nullableValue(body.RemindAt)
	return in, v.err()
}

func readPatch(body *api.TaskPatch, user string, id uuid.UUID) (db.UpdateTaskParams, error) {
	if body == nil {
		return db.UpdateTaskParams{}, problem.New(problem.BadRequest, "request body is required")
	}
	var v validation
	p := db.UpdateTaskParams{
		UserID:         user,
		ID:             id,
		Completed:      body.Completed,
		SetDescription: body.Description.IsSpecified(),
		Description:    v.text("description", nullableValue(body.Description)),
		SetDueDate:     body.DueDate.IsSpecified(),
		DueDate:        nullableValue(body.DueDate),
	}
	if body.Title != nil {
		title := v.title("title", *body.Title)
		p.Title = &title
	}
	if body.Priority != nil {
		priority := db.TaskPriority(*body.Priority)
		p.Priority = &priority
	}
	if body.Tags != nil {
		p.Tags = v.tags(*body.Tags)
	}
	var loc *time.Location // nil: the task's zone, unknown here
	if body.Timezone != nil {
		p.Timezone = body.Timezone
		loc = v.zone("timezone", *body.Timezone)
	}
	p.SetRecurrence = body.Recurrence.IsSpecified()
	// Whether the rule can repeat from the due date is checked when both are in the patch; a
	// rule set alone is anchored on the task's stored due date, which the database checks is
	// there (tasks_recurrence_needs_due_date).
	p.Recurrence = v.recurrence(nullableValue(body.Recurrence), p.DueDate, p.SetDueDate, loc)
	p.SetRemindAt = body.RemindAt.IsSpecified()
	p.RemindAt = nullableValue(body.RemindAt)
	return p, v.err()
}

// validation collects every broken rule of one body, so the client hears of all at once.
type validation []problem.FieldError

func (v *validation) add(field, message string) {
	*v = append(*v, problem.FieldError{Field: field, Message: message})
}

func (v validation) err() error {
	if len(v) == 0 {
		return nil
	}
	return problem.InvalidFields("the task is not valid", v...)
}

func (v *validation) title(field, s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		v.add(field, "must not be blank")
	}
	v.noNUL(field, s)
	return s
}

func (v *validation) text(field string, s *string) *string {
	if s != nil {
		v.noNUL(field, *s)
	}
	return s
}

func (v *validation) tags(tags []string) []string {
	out := make([]string, len(tags))
	seen := make(map[string]int, len(tags))
	for i, tag := range tags {
		field := fmt.Sprintf("tags[%d]", i)
		tag = strings.TrimSpace(tag)
		switch j, dup := seen[tag]; {
		case tag == "":
			v.add(field, "must not be blank")
		case dup:
			v.add(field, fmt.Sprintf("repeats tags[%d]", j))
		default:
			seen[tag] = i
		}
		v.noNUL(field, tag)
		out[i] = tag
	}
	return out
}

// zone is the time zone of the timezone field; nil (and a problem noted) when it does not
// exist.
func (v *validation) zone(field, name string) *time.Location {
	loc, err := recurrence.Zone(name)
	if err != nil {
		v.add(field, ruleMessage(err))
		return nil
	}
	return loc
}

// recurrence checks a rule and returns its canonical form. With dueKnown (a create, or a patch
// that sets due_date), a rule needs a due date and must repeat from it in loc.
func (v *validation) recurrence(rule *string, due *time.Time, dueKnown bool, loc *time.Location) *string {
	if rule == nil {
		return nil
	}
	r, err := recurrence.Parse(*rule)
	if err != nil {
		v.add("recurrence", ruleMessage(err))
		return nil
	}
	switch {
	case dueKnown && due == nil:
		v.add("due_date", "is required when the task has a recurrence (the rule repeats from it)")
	case due != nil && loc != nil:
		if err := r.CheckAnchored(*due, loc); err != nil {
			v.add("recurrence", ruleMessage(err))
		}
	}
	canonical := r.String()
	return &canonical
}

func ruleMessage(err error) string {
	if e, ok := errors.AsType[*recurrence.Error](err); ok {
		return e.Message
	}
	return "is not valid"
}

func (v *validation) noNUL(field, s string) {
	if strings.IndexByte(s, 0) >= 0 {
		v.add(field, "must not contain the NUL character")
	}
}

// nullableValue reads an optional, nullable field: nil when absent or null.
func nullableValue[T any](n nullable.Nullable[T]) *T {
	if !n.IsSpecified() || n.IsNull() {
		return nil
	}
	value, _ := n.Get() // cannot fail: specified and not null
	return &value
}
