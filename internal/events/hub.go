package events

import (
	"context"
	"encoding/json"
	"log/slog"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi/gen/db"
)

// Hub delivers each user's events to that user's open streams on this replica. It reads the
// outbox for all of them in one query every PollInterval: a change made on any replica
// reaches every stream within about that, through any pooler (LISTEN/NOTIFY would not survive
// a transaction-mode one). Each event is encoded once, whatever the number of streams.
type Hub struct {
	queries *db.Queries
	logger  *slog.Logger
	opts    HubOptions

	mu     sync.Mutex
	users  map[string]*listeners
	closed bool
	done   chan struct{} // closed by Close: every stream ends
	wake   chan struct{}
	// wrote are the users with streams here who wrote since the last read, and everyone
	// whether all users' events should be read then (see Written and Notify).
	wrote    map[string]struct{}
	everyone bool
	// streaming counts the streams being served (on connections taken from net/http, whose
	// Shutdown does not wait for them: Wait does).
	streaming sync.WaitGroup
}

// HubOptions tune a Hub; the zero value is the production defaults.
type HubOptions struct {
	// PollInterval is how often the outbox is read (100 ms).
	PollInterval time.Duration
	// Heartbeat is how often an idle stream gets a comment line (10 s).
	Heartbeat time.Duration
	// WriteTimeout bounds each write to a client; one that does not read for that long loses
	// its stream (10 s).
	WriteTimeout time.Duration
	// Buffer is how many events a stream may have waiting; a stream further behind than that
	// reads what it missed from the outbox instead, so its memory stays bounded (16).
	Buffer int
	// MaxPerUser is how many streams a user may have open on this replica (32): a browser tab
	// each, with room to spare.
	MaxPerUser int
}

// listeners are a user's streams and the last event read for them.
type listeners struct {
	after   int64
	streams map[*stream]struct{}
}

// stream is one open event stream: the events waiting for it, and a signal that some did not
// fit (the stream then reads them from the outbox).
type stream struct {
	events chan frame
	behind chan struct{}
	// conn is the client's connection once the stream has it; gone is closed when the client
	// has closed it (see reap).
	conn syscall.RawConn
	gone chan struct{}
}

// frame is one event, ready to send.
type frame struct {
	id   int64
	text []byte // id:, event: and data: lines and the blank line after them
}

// minGap is the least time between two reads of the outbox.
const minGap = 20 * time.Millisecond

// maxEventsPerPoll bounds one read of the outbox; a poll that reads that many polls again.
const maxEventsPerPoll = 1000

// NewHub returns a hub over pool; Run it.
func NewHub(pool *pgxpool.Pool, logger *slog.Logger, opts HubOptions) *Hub {
	if opts.PollInterval == 0 {
		opts.PollInterval = 100 * time.Millisecond
	}
	if opts.Heartbeat == 0 {
		opts.Heartbeat = 10 * time.Second
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = 10 * time.Second
	}
	if opts.Buffer == 0 {
		opts.Buffer = 16
	}
	if opts.MaxPerUser == 0 {
		opts.MaxPerUser = 32
	}
	return &Hub{queries: db.New(pool), logger: logger, opts: opts, users: map[string]*listeners{},
		done: make(chan struct{}), wake: make(chan struct{}, 1), wrote: map[string]struct{}{}}
}

// Run reads the outbox for the connected users, and notices the clients that left, until ctx
// ends. Every PollInterval it reads every connected user's events (the changes made on other
// replicas); after a write on this replica, only the writer's, at once.
func (h *Hub) Run(ctx context.Context) {
	go h.reap(ctx)
	ticker := time.NewTicker(h.opts.PollInterval)
	defer ticker.Stop()
	var last time.Time
	for {
		all := false
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-ticker.C:
			all = true
		case <-h.wake:
			// One read serves the writes made meanwhile: under load, a read at most every
			// minGap.
			if wait := minGap - time.Since(last); wait > 0 {
				select {
				case <-ctx.Done():
					return
				case <-h.done:
					return
				case <-time.After(wait):
				}
			}
		}
		last = time.Now()
		h.mu.Lock()
		only := h.wrote
		all = all || h.everyone
		h.wrote, h.everyone = make(map[string]struct{}, len(only)), false
		h.mu.Unlock()
		if all {
			only = nil
		}
		for {
			n, err := h.poll(ctx, only)
			if err != nil && ctx.Err() == nil {
				h.logger.WarnContext(ctx, "reading events for the streams failed", "err", err)
			}
			if n < maxEventsPerPoll {
				break
			}
		}
	}
}

// attach gives the stream its client's connection, for reap to watch.
func (h *Hub) attach(s *stream, conn syscall.Conn) error {
	rc, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	s.conn = rc
	return nil
}

// reap ends, every second, the streams whose clients have closed their connections. A stream
// writes only when it has something to send, so without this a closed tab would hold its
// stream (and its place among the user's MaxPerUser) until the next heartbeat found it gone.
func (h *Hub) reap(ctx context.Context) {
	ticker := time.NewTicker(time.Second)
	defer ticker.Stop()
	var watched []*stream
	for {
		select {
		case <-ctx.Done():
			return
		case <-h.done:
			return
		case <-ticker.C:
		}
		watched = watched[:0]
		h.mu.Lock()
		for _, l := range h.users {
			for s := range l.streams {
				if s.conn != nil {
					watched = append(watched, s)
				}
			}
		}
		h.mu.Unlock()
		for _, s := range watched {
			select {
			case <-s.gone:
			default:
				if closedByPeer(s.conn) {
					close(s.gone)
				}
			}
		}
	}
}

// Written tells the hub that user's write has committed on this replica: their streams here get
// its events now rather than at the next tick.
func (h *Hub) Written(user string) {
	h.mu.Lock()
	_, listening := h.users[user]
	if listening {
		h.wrote[user] = struct{}{}
	}
	h.mu.Unlock()
	if listening {
		h.signal()
	}
}

// Notify makes the hub read every connected user's events now rather than at its next tick
// (after writes of many users, such as the reminders' announcements).
func (h *Hub) Notify() {
	h.mu.Lock()
	h.everyone = true
	h.mu.Unlock()
	h.signal()
}

func (h *Hub) signal() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// Close ends every stream (at shutdown: the clients reconnect, to another replica).
func (h *Hub) Close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.closed {
		h.closed = true
		close(h.done)
	}
}

// Wait waits, until ctx ends, for the streams to finish after Close.
func (h *Hub) Wait(ctx context.Context) error {
	finished := make(chan struct{})
	go func() { h.streaming.Wait(); close(finished) }()
	select {
	case <-finished:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// poll reads the events of the users in only (every connected user when nil) and hands them to
// their streams; it returns how many it read.
func (h *Hub) poll(ctx context.Context, only map[string]struct{}) (int, error) {
	h.mu.Lock()
	users := make([]string, 0, len(h.users))
	after := make([]int64, 0, len(h.users))
	for u, l := range h.users {
		if _, wrote := only[u]; only == nil || wrote {
			users = append(users, u)
			after = append(after, l.after)
		}
	}
	h.mu.Unlock()
	if len(users) == 0 {
		return 0, nil
	}
	rows, err := h.queries.ListEventsOfUsers(ctx, db.ListEventsOfUsersParams{UserIds: users, AfterIds: after, MaxEvents: maxEventsPerPoll})
	if err != nil {
		return 0, err
	}
	frames := make([]frame, len(rows))
	for i, r := range rows {
		if frames[i], err = encode(row{ID: r.ID, Type: r.Type, TaskID: r.TaskID, Task: r.Task, At: r.At}); err != nil {
			return 0, err
		}
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for i, r := range rows { // in id order, so each user's in commit order
		l := h.users[r.UserID]
		if l == nil || r.ID <= l.after {
			continue
		}
		l.after = r.ID
		for s := range l.streams {
			select {
			case s.events <- frames[i]:
			default:
				select {
				case s.behind <- struct{}{}:
				default:
				}
			}
		}
	}
	return len(rows), nil
}

// subscribe opens a stream of the user's events; those after now (ChangesNow when the user has
// no stream yet) are sent to it.
func (h *Hub) subscribe(ctx context.Context, user string) (*stream, error) {
	h.mu.Lock()
	_, known := h.users[user]
	h.mu.Unlock()
	var now int64
	if !known {
		var err error
		if now, err = h.queries.ChangesNow(ctx, user); err != nil {
			return nil, dbError(err)
		}
	}
	s := &stream{events: make(chan frame, h.opts.Buffer), behind: make(chan struct{}, 1), gone: make(chan struct{})}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errClosing
	}
	l := h.users[user]
	if l != nil && len(l.streams) >= h.opts.MaxPerUser {
		return nil, errTooManyStreams
	}
	if l == nil {
		l = &listeners{after: now, streams: map[*stream]struct{}{}}
		h.users[user] = l
	}
	l.streams[s] = struct{}{}
	h.streaming.Add(1) // under the lock that Close takes: no stream begins after Close
	return s, nil
}

func (h *Hub) unsubscribe(user string, s *stream) {
	defer h.streaming.Done()
	h.mu.Lock()
	defer h.mu.Unlock()
	if l := h.users[user]; l != nil {
		delete(l.streams, s)
		if len(l.streams) == 0 {
			delete(h.users, user)
		}
	}
}

// Streams counts the streams open on this replica.
func (h *Hub) Streams() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, l := range h.users {
		n += len(l.streams)
	}
	return n
}

// encode writes an event as a server-sent event: its id, its type as the event name, and the
// Event as JSON on one data line.
func encode(r row) (frame, error) {
	e, err := r.toAPI()
	if err != nil {
		return frame{}, err
	}
	data, err := json.Marshal(e)
	if err != nil {
		return frame{}, err
	}
	b := make([]byte, 0, len(data)+64)
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, r.ID, 10)
	b = append(b, "\nevent: "...)
	b = append(b, r.Type...)
	b = append(b, "\ndata: "...)
	b = append(b, data...)
	b = append(b, "\n\n"...)
	return frame{id: r.ID, text: b}, nil
}
