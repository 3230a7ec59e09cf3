package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	api "taskapi/gen/api"
)

// ops serves liveness and readiness. They are not behind authentication (the spec gives them
// `security: []`) and never say more than whether each dependency works.
type ops struct {
	ping     func(context.Context) error
	authMode string
	logger   *slog.Logger
}

func (o ops) health(c echo.Context) error {
	return c.JSON(http.StatusOK, api.Health{Status: api.Ok})
}

func (o ops) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	checks := api.Checks{Database: "ok", Auth: o.authMode}
	if err := o.ping(ctx); err != nil {
		// The cause is for the logs; the body only says which dependency failed.
		o.logger.WarnContext(ctx, "not ready", "request_id", requestIDOf(c), "err", err)
		checks.Database = "unreachable"
		c.Response().Header().Set(echo.HeaderRetryAfter, "1")
		c.Response().Header().Set(echo.HeaderContentType, problemJSON)
		c.Response().WriteHeader(http.StatusServiceUnavailable)
		return encodeJSON(c.Response(), api.NotReadyProblem{
			Type:      "urn:taskapi:problem:unavailable",
			Title:     http.StatusText(http.StatusServiceUnavailable),
			Status:    http.StatusServiceUnavailable,
			Detail:    "not ready: the database is unreachable",
			Instance:  new(c.Request().URL.Path),
			RequestId: new(requestIDOf(c)),
			Checks:    checks,
		})
	}
	return c.JSON(http.StatusOK, api.Readiness{Status: api.Ready, Checks: checks})
}
