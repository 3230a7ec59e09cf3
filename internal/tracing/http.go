package tracing

import (
	"net/http"
	"strconv"
	"strings"
	"sync"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// Middleware starts a server span for each request, as a child of the caller's W3C
// traceparent when there is one, and puts it on the request's context so the database spans
// below it are its children. Install it first: the span then covers the whole request and
// sees the status the error handler wrote.
//
// The span is named for the route template ("GET /api/tasks/{id}"), which is also its only
// trace of the URL: paths hold ids (the older routes' hold the user's) and query strings hold
// search text.
func Middleware(tp trace.TracerProvider) echo.MiddlewareFunc {
	tracer := tp.Tracer(scope)
	var propagator propagation.TraceContext
	var templates sync.Map // Echo route -> its template; routes are few and fixed
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			method := methodName(req.Method)
			name := method
			if method == "_OTHER" {
				name = "HTTP"
			}
			cached, ok := templates.Load(c.Path())
			if !ok {
				cached, _ = templates.LoadOrStore(c.Path(), routeTemplate(c.Path()))
			}
			route := cached.(string)
			if route != "" {
				name += " " + route
			}
			ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer))
			if !span.IsRecording() {
				// Not sampled: nothing will be sent, so the request goes on untouched (and its
				// queries, finding no recording span, make none either).
				return next(c)
			}
			defer span.End()
			span.SetAttributes(semconv.HTTPRequestMethodKey.String(method))
			if route != "" {
				span.SetAttributes(semconv.HTTPRoute(route), semconv.URLPath(route))
			}
			c.SetRequest(req.WithContext(ctx))

			if err := next(c); err != nil {
				c.Error(err) // write the response now, so the span records the status sent
			}
			status := c.Response().Status
			span.SetAttributes(semconv.HTTPResponseStatusCode(status))
			if status >= http.StatusInternalServerError { // a 4xx is the client's error, not the server's
				span.SetAttributes(semconv.ErrorTypeKey.String(strconv.Itoa(status)))
				span.SetStatus(codes.Error, "")
			}
			return nil
		}
	}
}

// methodName is the method as OpenTelemetry records it: any but the standard ones is _OTHER,
// so a client cannot make up span names.
func methodName(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "_OTHER"
}

// routeTemplate turns Echo's route ("/api/tasks/:id") into OpenAPI's and OpenTelemetry's
// notation ("/api/tasks/{id}"); "" (no route matched) stays "".
func routeTemplate(path string) string {
	if !strings.Contains(path, ":") {
		return path
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		if name, ok := strings.CutPrefix(s, ":"); ok {
			segments[i] = "{" + name + "}"
		}
	}
	return strings.Join(segments, "/")
}
