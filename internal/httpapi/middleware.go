package httpapi

import (
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"regexp"
	"time"

	"github.com/labstack/echo/v4"

	"taskapi/internal/auth"
	"taskapi/internal/metrics"
)

// A client's own X-Request-ID is kept when it is a short token, so calls can be traced across
// services; anything else (long, or with characters that could forge log lines) is replaced.
var clientRequestID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,64}$`)

func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !clientRequestID.MatchString(id) {
			id = rand.Text()
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

// requestIDOf reads the id back from the response's header, its one home (a copy in Echo's
// context store would cost every request a map).
func requestIDOf(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}

// observe writes one structured line per request and counts it in the metrics. It logs the
// route template, not the URL, so query text (which can be personal: q=...) stays out of the
// logs, and of the token only the user id.
func observe(logger *slog.Logger, m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err) // write the response now, so its status is what gets logged
			}
			took := time.Since(start)
			route := c.Path()
			if route == "" {
				route = "unmatched" // keeps arbitrary URLs out of the metrics' labels
			}
			if m != nil {
				m.ObserveRequest(route, c.Request().Method, c.Response().Status, took)
			}
			if !logger.Enabled(c.Request().Context(), slog.LevelInfo) {
				return nil
			}
			attrs := []slog.Attr{
				slog.String("request_id", requestIDOf(c)),
				slog.String("method", c.Request().Method),
				slog.String("route", route),
				slog.Int("status", c.Response().Status),
				slog.Int64("bytes", c.Response().Size),
				slog.Duration("duration", took),
			}
			if user, ok := auth.UserID(c.Request().Context()); ok {
				attrs = append(attrs, slog.String("user_id", user))
			}
			logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
			return nil
		}
	}
}

func encodeJSON(w io.Writer, v any) error {
	return json.NewEncoder(w).Encode(v)
}
