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
	ping       func(context.Context) error
	authStatus func() (string, bool)
	logger     *slog.Logger
}

func (o ops) health(c echo.Context) error {
	return c.JSON(http.StatusOK, api.Health{Status: api.Ok})
}

func (o ops) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	authStatus, authOK := o.authStatus()
	checks := api.Checks{Database: "ok", Auth: authStatus}
	dbErr := o.ping(ctx)
	if dbErr != nil {
		// The cause is for the logs; the body only says which dependency failed.
		o.logger.WarnContext(ctx, "not ready", "request_id", requestIDOf(c), "err", dbErr)
		checks.Database = "unreachable"
	}
	if dbErr != nil || !authOK {
		c.Response().Header().Set(echo.HeaderRetryAfter, "1")
		c.Response().Header().Set(echo.HeaderContentType, problemJSON)
		c.Response().WriteHeader(http.StatusServiceUnavailable)
		return encodeJSON(c.Response(), api.NotReadyProblem{
			Type:      "urn:taskapi:problem:unavailable",
			Title:     http.StatusText(http.StatusServiceUnavailable),
			Status:    http.StatusServiceUnavailable,
			Detail:    notReady(dbErr != nil, !authOK),
			Instance:  new(c.Request().URL.Path),
			RequestId: new(requestIDOf(c)),
			Checks:    checks,
		})
	}
	return c.JSON(http.StatusOK, api.Readiness{Status: api.Ready, Checks: checks})
}

func notReady(database, auth bool) string {
	switch {
	case database && auth:
		return "not ready: the database is unreachable and no token can be verified yet"
	case database:
		return "not ready: the database is unreachable"
	default:
		return "not ready: no token can be verified yet (see checks.auth)"
	}
}
