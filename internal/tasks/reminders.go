package tasks

import (
	"context"
	"time"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/replica"
)

// ListReminders returns a page of the caller's open tasks whose reminder is due by until
// (default: now), oldest reminder first.
func (s *Service) ListReminders(ctx context.Context, req api.ListRemindersRequestObject) (api.ListRemindersResponseObject, error) {
	user, err := userID(ctx)
	if err != nil {
		return nil, err
	}
	pageSize := defaultPageSize
	if req.Params.Limit != nil {
		pageSize = *req.Params.Limit
	}
	params := db.ListRemindersParams{UserID: user, Until: time.Now(), PageSize: int32(pageSize) + 1}
	// Without until, each page is "due now", at the moment it is asked for: the cursor is for
	// "now", whatever moment that is.
	fingerprint := fingerprintOf(user, "reminders", optionalTime(req.Params.Until))
	if req.Params.Until != nil {
		params.Until = *req.Params.Until
	}
	if req.Params.Cursor != nil {
		c, err := decodeCursor(*req.Params.Cursor, fingerprint)
		if err != nil {
			return nil, badParam("cursor", err.Error())
		}
		if !validTimeKey(c.Key) {
			return nil, badParam("cursor", errCursorMalformed.Error())
		}
		params.AfterKey, params.AfterID = c.Key, &c.ID
	}
	rows, err := replica.Read(ctx, s.reads, user, func(q *db.Queries) ([]*db.Task, error) {
		return retryRead(ctx, func() ([]*db.Task, error) { return q.ListReminders(ctx, params) })
	})
	if err != nil {
		return nil, dbError(err)
	}
	p := page{rows: rows}
	if len(rows) > pageSize {
		p.rows = rows[:pageSize]
		last := p.rows[pageSize-1]
		next := cursor{Version: cursorVersion, Fingerprint: fingerprint, Key: timeKey(*last.RemindAt), ID: last.ID}
		p.next = new(next.encode())
	}
	return pageJSON(p), nil
}
