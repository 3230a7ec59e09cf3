// Package httpapi is the HTTP face of taskapi: the Echo instance and its middleware chain (in
// New, in the order a request meets them), the validation of every request against
// openapi.yaml, the one error handler that writes RFC 9457 problems, and the ops and docs
// routes. Authentication (internal/auth) and rate limits (internal/ratelimit) are links of the
// chain that live with their own jobs.
package httpapi

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"go.opentelemetry.io/otel/trace"

	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/metrics"
	"taskapi/internal/problem"
	"taskapi/internal/ratelimit"
	"taskapi/internal/tracing"
)

// Deps is everything the HTTP layer needs.
type Deps struct {
	// Tasks implements the task operations (internal/tasks in production).
	Tasks api.StrictServerInterface
	// Verifier checks bearer tokens.
	Verifier *auth.Verifier
	// Ping reports whether the database answers, for /readyz.
	Ping func(context.Context) error
	// Spec is the parsed openapi.yaml and SpecYAML its bytes as committed.
	Spec     *openapi3.T
	SpecYAML []byte
	Logger   *slog.Logger
	// MaxBodyBytes caps request bodies (413 beyond) and MaxHeaderBytes their header fields
	// (431 beyond).
	MaxBodyBytes   int64
	MaxHeaderBytes int
	// RequestTimeout bounds each request's work, database queries included.
	RequestTimeout time.Duration
	// Limiter rate-limits each user's requests; nil means no limit.
	Limiter ratelimit.Limiter
	// CORSOrigins are the browser origins allowed to call the API; none disables CORS.
	CORSOrigins []string
	// Metrics records requests and authentication failures and serves /metrics; nil: none.
	Metrics *metrics.Metrics
	// Tracer traces every request (internal/tracing); nil: no tracing middleware at all.
	Tracer trace.TracerProvider
	// Events serves the event stream, GET /api/events (internal/events).
	Events echo.HandlerFunc
	// Written, when set, hears of every write that succeeded, after its commit, with the
	// writer's user id (the event streams read the outbox at once rather than at their next
	// tick).
	Written func(user string)
	// MCP, when set, makes the MCP endpoint's transport (internal/mcp) from the REST API's
	// handler, which its tool calls are requests to.
	MCP func(api http.Handler) (http.Handler, error)
	// PublicURL is where clients reach the API (https://api.example.com), for the protected
	// resource metadata; empty: each request's own host.
	PublicURL string
	// AuthorizationServers issue the API's tokens (Better Auth's URL), for the same metadata.
	AuthorizationServers []string
}

// New returns the complete HTTP handler.
func New(d Deps) (*echo.Echo, error) {
	contract := newContract(d.Spec, d.MaxBodyBytes)
	docs, err := newDocs(d.Spec, d.SpecYAML)
	if err != nil {
		return nil, err
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = errorHandler(d.Logger, func(c echo.Context) string { return baseURL(c, d.PublicURL) + metadataPath })

	if d.Tracer != nil {
		e.Use(tracing.Middleware(d.Tracer))
	}
	e.Use(
		requestID,
		observe(d.Logger, d.Metrics),
		limitHeaders(d.MaxHeaderBytes),
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				d.Logger.ErrorContext(c.Request().Context(), "panic", "request_id", requestIDOf(c), "err", err, "stack", string(stack))
				return err
			},
		}),
		timeout(d.RequestTimeout, contract.streams),
	)
	if len(d.CORSOrigins) > 0 {
		e.Use(cors(d.CORSOrigins))
	}
	// Authentication comes before anything reads the request's parameters or body, so an
	// anonymous caller learns nothing about them; the rate limit counts per user, so after it.
	secured := func(c echo.Context) bool { return contract.secured(c) || outsideSpec[c.Request().Method+" "+c.Path()] }
	authOptions := auth.MiddlewareOptions{Required: secured}
	if d.Metrics != nil {
		authOptions.Refused = d.Metrics.AuthFailure
	}
	e.Use(contract.wholeSegments, auth.Middleware(d.Verifier, authOptions))
	if d.Limiter != nil {
		e.Use(ratelimit.Middleware(d.Limiter, d.Logger))
	}
	e.Use(contract.validate)
	if d.Written != nil {
		e.Use(written(d.Written))
	}

	api.RegisterHandlers(e, api.NewStrictHandler(d.Tasks, nil))
	e.GET("/api/events", d.Events)
	ops := ops{ping: d.Ping, authStatus: d.Verifier.Mode, logger: d.Logger}
	e.GET("/healthz", ops.health)
	e.GET("/readyz", ops.ready)
	if d.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(d.Metrics.Handler()))
	}
	docs.register(e)
	e.GET(metadataPath, resourceMetadata(d.PublicURL, d.AuthorizationServers))
	if d.MCP != nil {
		transport, err := d.MCP(e)
		if err != nil {
			return nil, err
		}
		e.POST(mcpPath, mcpRoute(transport, d.MaxBodyBytes))
	}

	// Every route is in the spec or on the short list of routes kept out of it on purpose;
	// anything else would be served undocumented and unvalidated, so the server refuses to
	// start instead.
	if missing := contract.undocumented(e.Routes()); len(missing) > 0 {
		return nil, fmt.Errorf("httpapi: routes not in openapi.yaml: %s", strings.Join(missing, ", "))
	}
	return e, nil
}

// undocumented lists the routes that are neither operations of the spec nor on outsideSpec.
func (k *contract) undocumented(routes []*echo.Route) []string {
	var missing []string
	for _, r := range routes {
		if _, outside := outsideSpec[r.Method+" "+r.Path]; k.operation(r.Method, r.Path) == nil && !outside {
			missing = append(missing, r.Method+" "+r.Path)
		}
	}
	return missing
}

// outsideSpec are the routes the server answers that openapi.yaml leaves out because they are
// not operations of its REST API (as FastAPI keeps /docs out of its schema): the documentation
// pages and their assets, the MCP endpoint (JSON-RPC, described by its tools' schemas, which
// are made of the spec's) and its protected resource metadata. The value says whether the
// route needs a token. CORS preflights are not routes; Echo and the CORS middleware answer
// OPTIONS on every path.
var outsideSpec = map[string]bool{
	"GET /docs":                     false,
	"GET /docs/:asset":              false,
	"GET /redoc":                    false,
	"GET /redoc/:asset":             false,
	"GET " + metadataPath:           false,
	http.MethodPost + " " + mcpPath: true,
}

// OutsideSpec reports whether a request is for a route that openapi.yaml leaves out on
// purpose (outsideSpec, or a CORS preflight), so that tests checking every response against
// the spec know which ones it cannot describe.
func OutsideSpec(method, path string) bool {
	if method == http.MethodOptions {
		return true
	}
	for route := range outsideSpec {
		routeMethod, template, _ := strings.Cut(route, " ")
		if routeMethod == method && matchesTemplate(template, path) {
			return true
		}
	}
	return false
}

// matchesTemplate matches a path against an Echo route template, :name standing for one
// non-empty segment.
func matchesTemplate(template, path string) bool {
	want, got := strings.Split(template, "/"), strings.Split(path, "/")
	if len(want) != len(got) {
		return false
	}
	for i, w := range want {
		if strings.HasPrefix(w, ":") {
			if got[i] == "" {
				return false
			}
		} else if w != got[i] {
			return false
		}
	}
	return true
}

// timeout bounds the request's context, so a slow query is cancelled rather than left to run;
// an answer that stays open (unbounded) has no deadline.
func timeout(d time.Duration, unbounded func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if unbounded(c) {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(c.Request().Context(), d)
			defer cancel()
			c.SetRequest(c.Request().WithContext(ctx))
			return next(c)
		}
	}
}

// written tells fn of every write (a method other than GET or HEAD) of a user that succeeded.
func written(fn func(user string)) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			err := next(c)
			if m := c.Request().Method; err == nil && m != http.MethodGet && m != http.MethodHead && c.Response().Status < 300 {
				if user, ok := auth.UserID(c.Request().Context()); ok {
					fn(user)
				}
			}
			return err
		}
	}
}

// cors answers browsers from the allowed origins, with credentials, and lets their scripts
// read the headers this API's clients need.
func cors(origins []string) echo.MiddlewareFunc {
	return middleware.CORSWithConfig(middleware.CORSConfig{
		AllowOrigins:     origins,
		AllowCredentials: true,
		AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "If-Match", "If-None-Match",
			"Idempotency-Key", echo.HeaderXRequestID, "Prefer", "Last-Event-ID"},
		ExposeHeaders: []string{"ETag", echo.HeaderLocation, "Idempotent-Replayed", echo.HeaderXRequestID,
			echo.HeaderRetryAfter, "RateLimit", "RateLimit-Policy", echo.HeaderWWWAuthenticate,
			"Warning", "Preference-Applied", "Link"},
		MaxAge: 600,
	})
}

// limitHeaders refuses requests whose header fields are over max bytes with a 431 problem.
// (net/http's own, larger cap answers in plain text; this one keeps to problem+json.)
func limitHeaders(max int) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			size := 0
			for name, values := range c.Request().Header {
				for _, v := range values {
					size += len(name) + len(v) + 4 // ": " and CRLF
				}
			}
			if size > max {
				return problem.New(problem.HeadersTooLarge, fmt.Sprintf("the request headers are larger than %d bytes", max))
			}
			return next(c)
		}
	}
}
