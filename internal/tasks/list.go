package tasks

import (
	"context"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/problem"
	"taskapi/internal/replica"
)

const (
	defaultPageSize = 20
	defaultSort     = api.SortOrderMinusCreatedAt
)

// listParams is the parameter list that every ListTasksBy* query shares (sqlc makes one
// struct type per query; they are identical, so they convert into each other).
type listParams = db.ListTasksByCreatedAtDescParams

// order is one sort order: the query that reads a page in that order, and the sort key of a
// row, written as the text that query casts back to the column's type.
type order struct {
	query func(context.Context, *db.Queries, listParams) ([]*db.Task, error)
	key   func(*db.Task) *string
	// validKey checks a key read from a client's cursor before it reaches SQL.
	validKey func(*string) bool
}

var orders = map[api.SortOrder]order{
	api.SortOrderCreatedAt: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByCreatedAtAsc(ctx, db.ListTasksByCreatedAtAscParams(p))
	}, createdKey, validTimeKey},
	api.SortOrderMinusCreatedAt: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByCreatedAtDesc(ctx, p)
	}, createdKey, validTimeKey},
	api.SortOrderUpdatedAt: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByUpdatedAtAsc(ctx, db.ListTasksByUpdatedAtAscParams(p))
	}, updatedKey, validTimeKey},
	api.SortOrderMinusUpdatedAt: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByUpdatedAtDesc(ctx, db.ListTasksByUpdatedAtDescParams(p))
	}, updatedKey, validTimeKey},
	api.SortOrderTitle: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByTitleAsc(ctx, db.ListTasksByTitleAscParams(p))
	}, titleKey, validTitleKey},
	api.SortOrderMinusTitle: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByTitleDesc(ctx, db.ListTasksByTitleDescParams(p))
	}, titleKey, validTitleKey},
	api.SortOrderPriority: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByPriorityAsc(ctx, db.ListTasksByPriorityAscParams(p))
	}, priorityKey, validPriorityKey},
	api.SortOrderMinusPriority: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByPriorityDesc(ctx, db.ListTasksByPriorityDescParams(p))
	}, priorityKey, validPriorityKey},
	api.SortOrderDueDate: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByDueDateAsc(ctx, db.ListTasksByDueDateAscParams(p))
	}, dueKey, validDueKey},
	api.SortOrderMinusDueDate: {func(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
		return q.ListTasksByDueDateDesc(ctx, db.ListTasksByDueDateDescParams(p))
	}, dueKey, validDueKey},
}

// phaseIISorts are the sort names of the hackathon's Phase II spec that are not already ours:
// its UIs show "created" as newest first. The alias is resolved before anything else, so a
// cursor made under one name works under the other.
var phaseIISorts = map[api.SortOrder]api.SortOrder{api.SortOrderCreated: api.SortOrderMinusCreatedAt}

// keyTime is how a timestamp key is written: microseconds, PostgreSQL's precision, so the
// key reads back as exactly the stored value.
const keyTime = "2006-01-02T15:04:05.000000Z07:00"

func timeKey(t time.Time) *string {
	s := t.UTC().Format(keyTime)
	return &s
}

func createdKey(t *db.Task) *string  { return timeKey(t.CreatedAt) }
func updatedKey(t *db.Task) *string  { return timeKey(t.UpdatedAt) }
func titleKey(t *db.Task) *string    { return &t.Title }
func priorityKey(t *db.Task) *string { s := string(t.Priority); return &s }
func dueKey(t *db.Task) *string {
	if t.DueDate == nil {
		return nil
	}
	return timeKey(*t.DueDate)
}

func validTimeKey(k *string) bool {
	if k == nil {
		return false
	}
	_, err := time.Parse(keyTime, *k)
	return err == nil
}

func validTitleKey(k *string) bool {
	return k != nil && utf8.ValidString(*k) && !strings.ContainsRune(*k, 0) && utf8.RuneCountInString(*k) <= 200
}

func validPriorityKey(k *string) bool { return k != nil && db.TaskPriority(*k).Valid() }

func validDueKey(k *string) bool { return k == nil || validTimeKey(k) }

// page is one page of a list: its rows, in order, and the cursor of the next page, if any.
type page struct {
	rows []*db.Task
	next *string
}

func (s *Service) list(ctx context.Context, user string, p api.ListTasksParams) (page, error) {
	sort := defaultSort
	if p.Sort != nil {
		sort = *p.Sort
	}
	if alias, ok := phaseIISorts[sort]; ok {
		sort = alias
	}
	ord, ok := orders[sort]
	if !ok { // the request validator only lets the spec's sort orders through
		return page{}, badParam("sort", "is not a known sort order")
	}
	pageSize := defaultPageSize
	if p.Limit != nil {
		pageSize = *p.Limit
	}

	params := listParams{UserID: user, PageSize: int32(pageSize) + 1} // one more says whether a next page exists
	status := api.All
	if p.Status != nil {
		status = *p.Status
	}
	switch status {
	case api.Pending:
		params.Completed = new(false)
	case api.Completed:
		params.Completed = new(true)
	}
	if p.Priority != nil {
		params.Priority = new(db.TaskPriority(*p.Priority))
	}
	params.Tag = p.Tag
	params.DueBefore = p.DueBefore
	params.DueAfter = p.DueAfter
	if p.Q != nil && *p.Q != "" {
		params.Pattern = new("%" + escapeLike(*p.Q) + "%")
	}
	params.Recurring = p.Recurring
	params.RemindBefore = p.RemindBefore

	fingerprint := fingerprintOf(user, string(sort), string(status), optional(p.Priority), optional(p.Tag),
		optionalTime(p.DueBefore), optionalTime(p.DueAfter), optional(params.Pattern), optionalBool(p.Recurring),
		optionalTime(p.RemindBefore))
	if p.Cursor != nil {
		c, err := decodeCursor(*p.Cursor, fingerprint)
		if err != nil {
			return page{}, badParam("cursor", err.Error())
		}
		if !ord.validKey(c.Key) {
			return page{}, badParam("cursor", errCursorMalformed.Error())
		}
		params.AfterKey, params.AfterID = c.Key, &c.ID
	}

	query := ord.query
	if sort == defaultSort && unfiltered(params) {
		query = newestFirst
	}
	rows, err := replica.Read(ctx, s.reads, user, func(q *db.Queries) ([]*db.Task, error) {
		return retryRead(ctx, func() ([]*db.Task, error) { return query(ctx, q, params) })
	})
	if err != nil {
		return page{}, dbError(err)
	}
	if len(rows) <= pageSize {
		return page{rows: rows}, nil
	}
	rows = rows[:pageSize]
	last := rows[pageSize-1]
	next := cursor{Version: cursorVersion, Fingerprint: fingerprint, Key: ord.key(last), ID: last.ID}
	return page{rows: rows, next: new(next.encode())}, nil
}

// unfiltered reports whether a list asks for no filter at all.
func unfiltered(p listParams) bool {
	return p.Completed == nil && p.Priority == nil && p.Tag == nil && p.DueBefore == nil && p.DueAfter == nil &&
		p.Pattern == nil && p.Recurring == nil && p.RemindBefore == nil
}

// newestFirst is the default order's query for a list without filters: the same rows as
// ListTasksByCreatedAtDesc, from statements whose cached plan is an index range scan.
func newestFirst(ctx context.Context, q *db.Queries, p listParams) ([]*db.Task, error) {
	if p.AfterID == nil {
		return q.ListTasksNewestFirst(ctx, db.ListTasksNewestFirstParams{UserID: p.UserID, PageSize: p.PageSize})
	}
	return q.ListTasksNewestAfter(ctx, db.ListTasksNewestAfterParams{
		UserID: p.UserID, AfterKey: *p.AfterKey, AfterID: *p.AfterID, PageSize: p.PageSize,
	})
}

// escapeLike makes q match literally inside an ILIKE pattern (backslash is the default escape).
func escapeLike(q string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
}

func badParam(name, message string) error {
	return &problem.Error{
		Kind:   problem.BadRequest,
		Detail: "query parameter " + strconv.Quote(name) + ": " + message,
		Fields: []problem.FieldError{{Field: name, Message: message}},
	}
}

func optional[T ~string](v *T) string {
	if v == nil {
		return "\x01" // distinct from every value, including ""
	}
	return string(*v)
}

func optionalBool(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func optionalTime(t *time.Time) string {
	if t == nil {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
