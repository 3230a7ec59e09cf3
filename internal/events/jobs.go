package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/gen/db"
)

// AnnounceReminders makes a reminder.due event for every open task whose reminder has come,
// every interval until ctx ends. Every replica runs it; each reminder is claimed by one of them
// in the database, and one that fell due while no replica ran is announced at the next start.
func AnnounceReminders(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, interval time.Duration, announced func()) {
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		n, err := AnnounceDue(ctx, pool)
		if err != nil && ctx.Err() == nil {
			logger.WarnContext(ctx, "announcing due reminders failed", "err", err)
		}
		if n > 0 && announced != nil {
			announced()
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// AnnounceDue makes the reminder.due events of the reminders due now, and says how many.
func AnnounceDue(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	const batch = 500
	q := db.New(pool)
	var total int64
	for {
		n, err := q.SweepDueReminders(ctx, batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
	}
}

// Prune deletes the events older than retention, now and every interval until ctx ends, and
// marks how far it went: a change-feed cursor below that mark is too old (410).
func Prune(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, retention, interval time.Duration) {
	q := db.New(pool)
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		var total int64
		for {
			res, err := q.SweepOldEvents(ctx, db.SweepOldEventsParams{Before: time.Now().Add(-retention), Batch: 10000})
			if err != nil {
				if ctx.Err() == nil {
					logger.WarnContext(ctx, "pruning old events failed", "err", err)
				}
				break
			}
			total += res.Deleted
			if res.Deleted < 10000 {
				break
			}
		}
		if total > 0 {
			logger.InfoContext(ctx, "pruned old events", "count", total)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}
