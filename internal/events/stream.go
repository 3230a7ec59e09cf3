package events

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"

	"taskapi/gen/db"
	"taskapi/internal/auth"
)

// catchUpPage is how many events a stream reads from the outbox at a time when it resumes.
const catchUpPage = 500

// Stream serves GET /api/events: the caller's events as server-sent events, from the cursor in
// Last-Event-ID or since (or from now), then live from the hub, until the client goes or the
// server shuts down (the client resumes with Last-Event-ID: no event is lost or repeated).
//
// Once the request has passed every check, the stream leaves net/http: the connection is
// hijacked and served by one small goroutine, without the per-request buffers, the request's
// goroutine and the connection's reader that an open answer would keep. A stream is then a
// few kilobytes, so thousands fit in a small container. A stream that falls behind the hub
// reads what it missed from the outbox; one whose client stops reading ends at the next write's
// deadline. Either way its memory stays bounded.
func (h *Hub) Stream(c echo.Context) error {
	ctx := c.Request().Context()
	user, ok := auth.UserID(ctx)
	if !ok {
		return errors.New("events: no authenticated user on the context")
	}
	after, err := h.resumeFrom(c, user)
	if err != nil {
		return err
	}
	s, err := h.subscribe(ctx, user)
	if errors.Is(err, errTooManyStreams) {
		c.Response().Header().Set(echo.HeaderRetryAfter, "5")
	}
	if err != nil {
		return err
	}
	// The middleware's headers (X-Request-ID, CORS, Warning...), as they are now: the stream
	// writes them after the middleware has moved on.
	header := c.Response().Header().Clone()
	header.Set(echo.HeaderContentType, "text/event-stream")
	header.Set(echo.HeaderCacheControl, "no-cache")
	header.Set("X-Accel-Buffering", "no") // a proxy must not hold events back
	conn, _, err := http.NewResponseController(c.Response().Writer).Hijack()
	if err != nil { // HTTP/2: streams need HTTP/1.1 between the client (or proxy) and taskapi
		h.unsubscribe(user, s)
		return fmt.Errorf("events: taking over the connection: %w", err)
	}
	c.Response().Committed = true // nothing else may write: the connection is the stream's
	if sc, ok := conn.(syscall.Conn); !ok || h.attach(s, sc) != nil {
		conn.Close()
		h.unsubscribe(user, s)
		return nil
	}
	go func() {
		defer h.unsubscribe(user, s)
		w := &chunkedConn{conn: conn, timeout: h.opts.WriteTimeout}
		defer w.Close()
		if w.start(header) != nil {
			return
		}
		// The request has been answered as far as net/http knows; what the stream logs keeps
		// its request id.
		h.serve(context.WithoutCancel(ctx), w, s, user, after)
	}()
	return nil
}

// serve sends the stream's events until it ends; the events after after first, from the
// outbox, then the hub's, minus those sent already.
func (h *Hub) serve(ctx context.Context, w *chunkedConn, s *stream, user string, after int64) {
	if w.send([]byte(": taskapi events\n\n")) != nil {
		return
	}
	// The catch-up reads the primary (the hub's queries), never a standby: the hub hands this
	// stream live events read on the primary, so a catch-up from a lagging standby could end
	// short of events the hub has already moved past, and the next live event would skip them.
	catchUp := func() bool {
		for {
			qctx, cancel := context.WithTimeout(ctx, h.opts.WriteTimeout)
			rows, err := h.queries.ListChanges(qctx, db.ListChangesParams{UserID: user, After: after, PageSize: catchUpPage})
			cancel()
			if err != nil {
				h.logger.WarnContext(ctx, "catching up an event stream failed", "err", err)
				return false // the client reconnects
			}
			for _, r := range rows {
				f, err := encode(row(*r))
				if err != nil || w.send(f.text) != nil {
					return false
				}
				after = f.id
			}
			if len(rows) < catchUpPage {
				return true
			}
		}
	}
	if !catchUp() {
		return
	}
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case f := <-s.events:
			if f.id <= after {
				continue
			}
			if w.send(f.text) != nil {
				return
			}
			after = f.id
		case <-s.behind:
			if !catchUp() {
				return
			}
		case <-heartbeat.C:
			if w.send([]byte(": keep-alive\n\n")) != nil {
				return
			}
		case <-h.done:
			w.end()
			return
		case <-s.gone:
			return
		}
	}
}

// resumeFrom is the cursor the stream starts after: Last-Event-ID, or since, or now.
func (h *Hub) resumeFrom(c echo.Context, user string) (int64, error) {
	ctx := c.Request().Context()
	field, cursor := "Last-Event-ID", c.Request().Header.Get("Last-Event-ID")
	if cursor == "" {
		field, cursor = "since", c.QueryParam("since")
	}
	if cursor == "" {
		now, err := h.queries.ChangesNow(ctx, user)
		return now, dbError(err)
	}
	after, err := parseCursor(field, cursor)
	if err != nil {
		return 0, err
	}
	through, err := h.queries.PrunedThrough(ctx)
	if err != nil {
		return 0, dbError(err)
	}
	if after < through {
		return 0, errGone
	}
	return after, nil
}

// chunkedConn is a hijacked connection answering with a chunked HTTP/1.1 response.
type chunkedConn struct {
	conn    net.Conn
	timeout time.Duration
	buf     []byte
}

// start writes the status line and the header.
func (w *chunkedConn) start(header http.Header) error {
	b := append(w.buf[:0], "HTTP/1.1 200 OK\r\n"...)
	header.Del("Content-Length")
	header.Set("Transfer-Encoding", "chunked")
	header.Set("Date", time.Now().UTC().Format(http.TimeFormat))
	for _, k := range slices.Sorted(maps.Keys(header)) {
		for _, v := range header[k] {
			b = append(append(append(append(b, k...), ": "...), v...), "\r\n"...)
		}
	}
	w.buf = append(b, "\r\n"...)
	return w.write()
}

// send writes b as one chunk, within the write timeout: a client that stops reading loses its
// stream when it passes.
func (w *chunkedConn) send(b []byte) error {
	w.buf = strconv.AppendInt(w.buf[:0], int64(len(b)), 16)
	w.buf = append(append(append(w.buf, "\r\n"...), b...), "\r\n"...)
	return w.write()
}

// end finishes the response: the client sees a complete answer, then the connection close.
func (w *chunkedConn) end() {
	w.buf = append(w.buf[:0], "0\r\n\r\n"...)
	_ = w.write()
}

func (w *chunkedConn) write() error {
	_ = w.conn.SetWriteDeadline(time.Now().Add(w.timeout))
	_, err := w.conn.Write(w.buf)
	if cap(w.buf) > 4096 { // a large event's buffer is not kept for the stream's lifetime
		w.buf = nil
	}
	return err
}

func (w *chunkedConn) Close() error { return w.conn.Close() }
