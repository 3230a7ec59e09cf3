package auth

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"taskapi/internal/problem"
)

// MiddlewareOptions configure Middleware.
type MiddlewareOptions struct {
	// Required reports whether the request's route needs a token; routes that do not (health,
	// the documents, an unknown path) pass through without one, and without a user.
	Required func(c echo.Context) bool
	// Refused, when set, hears the reason for every token refused (one of the Reason
	// constants, or "unavailable" when the signing keys could not be had), for metrics.
	Refused func(reason string)
}

// Middleware authenticates every request whose route needs it, before anything else reads
// the request: it is the only code that reads Authorization and the only place that puts the
// user on the request's context. A refused token ends the request with a *problem.Error
// (Unauthorized, or Unavailable when the key set cannot be fetched).
func Middleware(v *Verifier, opts MiddlewareOptions) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !opts.Required(c) {
				return next(c)
			}
			req := c.Request()
			user, err := v.Verify(req.Context(), bearerToken(req))
			if err != nil {
				if opts.Refused != nil {
					opts.Refused(refusal(err))
				}
				return err
			}
			c.SetRequest(req.WithContext(WithUser(req.Context(), user)))
			return next(c)
		}
	}
}

func refusal(err error) string {
	if p, ok := errors.AsType[*problem.Error](err); ok && p.Kind == problem.Unauthorized {
		return p.Detail
	}
	return "unavailable"
}

// bearerToken reads the Authorization header. Only the header counts: a token in the query
// string would end up in logs and browser history, so it is never looked for.
func bearerToken(r *http.Request) string {
	scheme, token, ok := strings.Cut(r.Header.Get(echo.HeaderAuthorization), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(token)
}

// OnBehalf gives a request made in-process on behalf of another (an MCP tool call, which is a
// REST request served inside the MCP request) that request's credentials; the middleware
// verifies them again, so the user still comes from it alone.
func OnBehalf(inner *http.Request, outer http.Header) {
	inner.Header.Set(echo.HeaderAuthorization, outer.Get(echo.HeaderAuthorization))
}
