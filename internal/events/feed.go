package events

import (
	"context"
	"errors"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/auth"
	"taskapi/internal/tasks"
)

// Feed serves the change feed, GET /api/changes (a method of the generated strict interface).
type Feed struct {
	queries *db.Queries
}

// NewFeed returns the change feed over pool.
func NewFeed(pool *pgxpool.Pool) *Feed { return &Feed{queries: db.New(pool)} }

const defaultChanges = 100

// ListChanges returns the caller's events after since, in commit order.
func (f *Feed) ListChanges(ctx context.Context, req api.ListChangesRequestObject) (api.ListChangesResponseObject, error) {
	user, ok := auth.UserID(ctx)
	if !ok {
		return nil, errors.New("events: no authenticated user on the context")
	}
	if req.Params.Since == nil {
		now, err := f.queries.ChangesNow(ctx, user)
		if err != nil {
			return nil, dbError(err)
		}
		return api.ListChanges200JSONResponse{Body: api.EventPage{Items: []api.Event{}, NextCursor: strconv.FormatInt(now, 10)}}, nil
	}
	since, err := parseCursor("since", *req.Params.Since)
	if err != nil {
		return nil, err
	}
	if err := f.kept(ctx, since); err != nil {
		return nil, err
	}
	limit := defaultChanges
	if req.Params.Limit != nil {
		limit = *req.Params.Limit
	}
	rows, err := f.queries.ListChanges(ctx, db.ListChangesParams{UserID: user, After: since, PageSize: int32(limit)})
	if err != nil {
		return nil, dbError(err)
	}
	page := api.EventPage{Items: make([]api.Event, 0, len(rows)), NextCursor: *req.Params.Since}
	for _, r := range rows {
		e, err := row(*r).toAPI()
		if err != nil {
			return nil, err
		}
		page.Items = append(page.Items, e)
		page.NextCursor = e.Id
	}
	return api.ListChanges200JSONResponse{Body: page}, nil
}

// kept fails with 410 when events after since may have been pruned.
func (f *Feed) kept(ctx context.Context, since int64) error {
	through, err := f.queries.PrunedThrough(ctx)
	if err != nil {
		return dbError(err)
	}
	if since < through {
		return errGone
	}
	return nil
}

func dbError(err error) error { return tasks.ErrorFromDB(err) }
