// Package replica sends the reads that may be a moment old (the task list, the reminders, the
// change feed) to a hot standby when DATABASE_READ_URL names one, and keeps on the primary the
// reads of a user who has just written, and every read while the standby lags more than the
// window or cannot be reached.
//
// Staleness is measured, not guessed from clocks: every Window/4 the primary's WAL write
// position is sampled, then the standby's replay position. The standby holds every commit made
// before the latest sample it has replayed past, so "fresh as of" that sample's moment (this
// process's monotonic clock). A read goes to the standby only when that moment is within the
// window and the user's last write (Written, after its commit) is older than the window: the
// standby then holds the write, so a user always reads their own writes.
package replica

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/gen/db"
)

// DefaultWindow is READ_AFTER_WRITE_WINDOW's default.
const DefaultWindow = 5 * time.Second

// Options tune a Router.
type Options struct {
	// Window is how long after a user's write their reads stay on the primary, and the most
	// the standby may lag behind the primary and still be read (DefaultWindow when zero).
	Window time.Duration
	Logger *slog.Logger
}

// Router picks the server a read goes to. Without a standby every read goes to the primary
// and it keeps no state.
type Router struct {
	primary, standby *db.Queries
	window, interval time.Duration
	logger           *slog.Logger
	epoch            time.Time

	// freshAsOf is when (since epoch) the standby was last known to hold every commit;
	// never when it has not been checked yet, or failed a read since its last check.
	freshAsOf atomic.Int64

	mu sync.Mutex
	// wrote is when (since epoch) each user last wrote, for the users who wrote within the
	// window (older ones are forgotten at each check).
	wrote map[string]int64
}

const never = math.MinInt64 / 2 // far in the past, yet safe to subtract from

// New returns a Router over primary and standby (nil: no standby, every read on primary).
// Run checks the standby; until its first check, reads stay on the primary.
func New(primary, standby *pgxpool.Pool, opts Options) *Router {
	if opts.Window <= 0 {
		opts.Window = DefaultWindow
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	r := &Router{primary: db.New(primary), window: opts.Window, logger: opts.Logger, epoch: time.Now(), wrote: map[string]int64{}}
	// Four checks per window: a standby that keeps up is never judged further behind than
	// a quarter of it, whatever the primary's load.
	r.interval = min(max(opts.Window/4, 10*time.Millisecond), time.Second)
	r.freshAsOf.Store(never)
	if standby != nil {
		r.standby = db.New(standby)
	}
	return r
}

// Primary is the primary's queries, for the reads that must see the latest commit.
func (r *Router) Primary() *db.Queries { return r.primary }

func (r *Router) now() int64 { return int64(time.Since(r.epoch)) }

// Written records that user's write has committed (httpapi's Written hook, which runs before
// the response is complete): their reads stay on the primary for the window.
func (r *Router) Written(user string) {
	if r.standby == nil {
		return
	}
	now := r.now()
	r.mu.Lock()
	r.wrote[user] = now
	r.mu.Unlock()
}

// onStandby reports whether user's read may go to the standby now.
func (r *Router) onStandby(user string) bool {
	if r.standby == nil {
		return false
	}
	now, window := r.now(), int64(r.window)
	if now-r.freshAsOf.Load() > window {
		return false
	}
	r.mu.Lock()
	wrote, ok := r.wrote[user]
	r.mu.Unlock()
	return !ok || now-wrote >= window
}

// Read runs read on the standby when user's reads may go there, else on the primary. A read
// the standby fails is run again on the primary, and the standby is left alone until its next
// check succeeds: a standby down, or a query cancelled by replay, must not fail a request.
// read must only read, and all of it runs on one server (so a page and the checks made on it
// see the same history).
func Read[T any](ctx context.Context, r *Router, user string, read func(*db.Queries) (T, error)) (T, error) {
	if !r.onStandby(user) {
		return read(r.primary)
	}
	v, err := read(r.standby)
	if err == nil || ctx.Err() != nil {
		return v, err
	}
	r.freshAsOf.Store(never)
	r.logger.WarnContext(ctx, "a read on the standby failed: reading the primary until the standby's next check", "err", err)
	return read(r.primary)
}

// Run checks the standby's replay against the primary every quarter window until ctx ends;
// without a standby it returns at once.
func (r *Router) Run(ctx context.Context) {
	if r.standby == nil {
		return
	}
	ticker := time.NewTicker(r.interval)
	defer ticker.Stop()
	var c checker
	for {
		r.check(ctx, &c)
		r.forget()
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// checker is Run's state between checks.
type checker struct {
	// samples are the primary's WAL positions the standby had not replayed at the last check,
	// oldest first.
	samples []sample
	// usable is whether the last check found the standby within the window (for the log).
	usable bool
	// problem is the last check's failure, logged once until it changes.
	problem string
}

type sample struct {
	at      int64 // since epoch, taken before the position was read
	written int64
}

// maxSamples bounds the samples kept while the standby stands still: dropping the oldest only
// makes it look staler than it is.
const maxSamples = 64

func (r *Router) check(ctx context.Context, c *checker) {
	ctx, cancel := context.WithTimeout(ctx, max(r.interval, time.Second))
	defer cancel()
	at := r.now()
	written, err := r.primary.WrittenWAL(ctx)
	if err != nil {
		r.failed(ctx, c, "reading the primary's WAL position failed", err)
		return
	}
	if len(c.samples) == maxSamples {
		c.samples = c.samples[1:]
	}
	c.samples = append(c.samples, sample{at: at, written: written})
	replayed, err := r.standby.ReplayedWAL(ctx)
	switch {
	case err != nil:
		r.failed(ctx, c, "the standby cannot be read", err)
		return
	case replayed < 0:
		r.failed(ctx, c, "DATABASE_READ_URL is not a standby in recovery (a primary, or a promoted standby)", nil)
		return
	}
	fresh, i := int64(never), 0
	for ; i < len(c.samples) && c.samples[i].written <= replayed; i++ {
		fresh = c.samples[i].at
	}
	c.samples = c.samples[i:]
	if fresh != never {
		r.freshAsOf.Store(fresh)
	}
	lag := time.Duration(r.now() - r.freshAsOf.Load())
	usable := lag <= r.window
	if usable != c.usable || c.problem != "" {
		if usable {
			r.logger.InfoContext(ctx, "reading from the standby", "window", r.window.String())
		} else {
			r.logger.WarnContext(ctx, "the standby lags more than the window: reading the primary", "lag_at_least", lag.Round(time.Millisecond).String(), "window", r.window.String())
		}
	}
	c.usable, c.problem = usable, ""
}

func (r *Router) failed(ctx context.Context, c *checker, problem string, err error) {
	r.freshAsOf.Store(never)
	if errors.Is(err, context.Canceled) { // Run is ending
		return
	}
	if problem != c.problem {
		r.logger.WarnContext(ctx, problem+": reading the primary", "err", err)
	}
	c.usable, c.problem = false, problem
}

// forget drops the writes older than the window: they no longer keep anyone on the primary.
func (r *Router) forget() {
	now, window := r.now(), int64(r.window)
	r.mu.Lock()
	defer r.mu.Unlock()
	for user, at := range r.wrote {
		if now-at >= window {
			delete(r.wrote, user)
		}
	}
}
