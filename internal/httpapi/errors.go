package httpapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/problem"
)

const problemJSON = "application/problem+json"

// statusClientClosedRequest records a request whose client left before the answer.
const statusClientClosedRequest = 499

// kinds maps the problem vocabulary to HTTP: the one table of statuses.
var kinds = map[problem.Kind]struct {
	status int
	slug   string
}{
	problem.Internal:             {http.StatusInternalServerError, "internal"},
	problem.BadRequest:           {http.StatusBadRequest, "bad-request"},
	problem.Unauthorized:         {http.StatusUnauthorized, "unauthorized"},
	problem.NotFound:             {http.StatusNotFound, "not-found"},
	problem.MethodNotAllowed:     {http.StatusMethodNotAllowed, "method-not-allowed"},
	problem.PreconditionFailed:   {http.StatusPreconditionFailed, "precondition-failed"},
	problem.TooLarge:             {http.StatusRequestEntityTooLarge, "payload-too-large"},
	problem.UnsupportedMediaType: {http.StatusUnsupportedMediaType, "unsupported-media-type"},
	problem.Invalid:              {http.StatusUnprocessableEntity, "validation-failed"},
	problem.TooManyRequests:      {http.StatusTooManyRequests, "too-many-requests"},
	problem.HeadersTooLarge:      {http.StatusRequestHeaderFieldsTooLarge, "headers-too-large"},
	problem.Unavailable:          {http.StatusServiceUnavailable, "unavailable"},
	problem.Gone:                 {http.StatusGone, "gone"},
}

// Echo's own errors (unknown route, wrong method, a parameter the generated wrapper could not
// bind) arrive as *echo.HTTPError; these are the kinds they become.
var echoKinds = map[int]problem.Kind{
	http.StatusBadRequest:            problem.BadRequest,
	http.StatusNotFound:              problem.NotFound,
	http.StatusMethodNotAllowed:      problem.MethodNotAllowed,
	http.StatusRequestEntityTooLarge: problem.TooLarge,
	http.StatusUnsupportedMediaType:  problem.UnsupportedMediaType,
	http.StatusServiceUnavailable:    problem.Unavailable,
}

const internalDetail = "something went wrong on our side; quote the request id when reporting it"

// errorHandler is Echo's HTTPErrorHandler: every error of every route ends here and leaves as
// application/problem+json. Server faults are logged with the request id and answered with
// nothing more than that id.
func errorHandler(logger *slog.Logger, metadataURL func(echo.Context) string) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		if errors.Is(err, context.Canceled) && c.Request().Context().Err() != nil {
			// The client hung up: nobody reads an answer. 499 (nginx's "client closed
			// request") goes to the log and the metrics, not a 500.
			c.Response().Status = statusClientClosedRequest
			return
		}
		status, body := toProblem(err, c)
		if status >= 500 {
			// A fault of ours is an error; a dependency that is down (503) is a warning.
			level := slog.LevelError
			if status == http.StatusServiceUnavailable {
				level = slog.LevelWarn
			}
			logger.Log(c.Request().Context(), level, "request failed",
				"request_id", requestIDOf(c), "method", c.Request().Method, "route", c.Path(), "status", status, "err", err)
		}
		h := c.Response().Header()
		switch status {
		case http.StatusUnauthorized:
			h.Set(echo.HeaderWWWAuthenticate, challenge(err, body.Detail, metadataURL(c)))
		case http.StatusServiceUnavailable:
			h.Set(echo.HeaderRetryAfter, "1")
		}
		h.Set(echo.HeaderContentType, problemJSON)
		c.Response().WriteHeader(status)
		if c.Request().Method != http.MethodHead {
			_ = encodeJSON(c.Response(), body)
		}
	}
}

func toProblem(err error, c echo.Context) (int, api.Problem) {
	p, ok := errors.AsType[*problem.Error](err)
	if !ok {
		p = &problem.Error{Kind: problem.Internal, Err: err}
		if echoErr, isEcho := errors.AsType[*echo.HTTPError](err); isEcho {
			p = fromEcho(echoErr, c)
		} else if errors.Is(err, context.DeadlineExceeded) {
			p = problem.Wrap(problem.Unavailable, "the request took too long; retry shortly", err)
		}
	}
	k := kinds[p.Kind]
	detail := p.Detail
	if p.Kind == problem.Internal {
		detail = internalDetail
	}
	body := api.Problem{
		Type:      "urn:taskapi:problem:" + k.slug,
		Title:     http.StatusText(k.status),
		Status:    k.status,
		Detail:    detail,
		Instance:  new(c.Request().URL.Path),
		RequestId: new(requestIDOf(c)),
	}
	if len(p.Fields) > 0 {
		fields := make([]api.FieldError, len(p.Fields))
		for i, f := range p.Fields {
			fields[i] = api.FieldError{Field: f.Field, Message: f.Message}
		}
		body.Errors = &fields
	}
	return k.status, body
}

func fromEcho(e *echo.HTTPError, c echo.Context) *problem.Error {
	switch e.Code {
	case http.StatusNotFound:
		return problem.New(problem.NotFound, "there is nothing at "+c.Request().URL.Path)
	case http.StatusMethodNotAllowed:
		return problem.New(problem.MethodNotAllowed, fmt.Sprintf("%s is not allowed on %s", c.Request().Method, c.Request().URL.Path))
	}
	kind, ok := echoKinds[e.Code]
	if !ok {
		return &problem.Error{Kind: problem.Internal, Err: e}
	}
	// Echo's messages can quote Go types and the input; keep them for the logs only.
	return problem.Wrap(kind, http.StatusText(e.Code), e)
}

// challenge is the RFC 6750 WWW-Authenticate value, with where the metadata of the resource is
// (RFC 9728: how an MCP client finds where to sign in). A request without a token gets no
// error; a bad token gets error="invalid_token" and the reason.
func challenge(err error, reason, metadataURL string) string {
	c := fmt.Sprintf(`Bearer realm="taskapi", resource_metadata=%q`, metadataURL)
	if errors.Is(err, auth.ErrMissingToken) {
		return c
	}
	return c + fmt.Sprintf(`, error="invalid_token", error_description=%q`, reason)
}
