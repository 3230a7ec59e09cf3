package events

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/auth"
	"taskapi/internal/replica"
	"taskapi/internal/tasks"
)

// Feed serves the change feed, GET /api/changes (a method of the generated strict interface).
//
// A page may be read from a standby (see internal/replica): a standby replays the primary's
// commits in commit order, and each user's events take their ids in commit order, so a standby
// that lags holds a prefix of every user's events. A page from it may end earlier than the
// primary's would, and its cursor then asks for the rest next time; it never jumps past an
// event. The cursor for "now" (no since) is read on the primary: a lagging standby's would be
// older than the moment it was asked for, and could already be pruned on the primary.
type Feed struct {
	reads *replica.Router
}

// NewFeed returns the change feed over pool, whose pages are read where reads says (nil: on
// pool).
func NewFeed(pool *pgxpool.Pool, reads *replica.Router) *Feed {
	if reads == nil {
		reads = replica.New(pool, nil, replica.Options{})
	}
	return &Feed{reads: reads}
}

const defaultChanges = 100

// ListChanges returns the caller's events after since, in commit order.
func (f *Feed) ListChanges(ctx context.Context, req api.ListChangesRequestObject) (api.ListChangesResponseObject, error) {
	user, ok := auth.UserID(ctx)
	if !ok {
		return nil, errors.New("events: no authenticated user on the context")
	}
	if req.Params.Since == nil {
		now, err := f.reads.Primary().ChangesNow(ctx, user)
		if err != nil {
			return nil, dbError(err)
		}
		return api.ListChanges200JSONResponse{Body: api.EventPage{Items: []api.Event{}, NextCursor: strconv.FormatInt(now, 10)}}, nil
	}
	since, err := parseCursor("since", *req.Params.Since)
	if err != nil {
		return nil, err
	}
	limit := defaultChanges
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	read, err := replica.Read(ctx, f.reads, user, func(q *db.Queries) (changes, error) {
		return readChanges(ctx, q, db.ListChangesParams{UserID: user, After: since, PageSize: int32(limit)})
	})
	if err != nil {
		return nil, dbError(err)
	}
	if since < read.prunedThrough {
		return nil, errGone
	}
	page := api.EventPage{Items: make([]api.Event, 0, len(read.rows)), NextCursor: *req.Params.Since}
	for _, r := range read.rows {
		e, err := row(*r).toAPI()
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, e)
		page.NextCursor = e.Id
	}
	return api.ListChanges200JSONResponse{Body: page}, nil
}

// changes are a page of events and the pruning's mark read after it.
type changes struct {
	rows          []*db.ListChangesRow
	prunedThrough int64
}

// readChanges reads the page, then the mark, on one server. In that order: a pruning that
// deleted events the page should have had is committed before the mark is read, so the mark
// shows it and the page is refused (410) rather than served with a gap. (Reading the mark
// first would miss a pruning committed between the two reads.)
func readChanges(ctx context.Context, q *db.Queries, p db.ListChangesParams) (changes, error) {
	rows, err := q.ListChanges(ctx, p)
	if err != nil {
		return changes{}, err
	}
	through, err := q.PrunedThrough(ctx)
	return changes{rows: rows, prunedThrough: through}, err
}

func dbError(err error) error { return tasks.ErrorFromDB(err) }
