package tracing

import (
	"cmp"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

// recorder returns a provider that keeps every span it ends, for the test to read.
func recorder(t *testing.T) (*sdktrace.TracerProvider, *tracetest.SpanRecorder) {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { _ = tp.Shutdown(t.Context()) })
	return tp, spans
}

func attributes(s sdktrace.ReadOnlySpan) map[attribute.Key]attribute.Value {
	m := map[attribute.Key]attribute.Value{}
	for _, kv := range s.Attributes() {
		m[kv.Key] = kv.Value
	}
	return m
}

func TestMiddleware(t *testing.T) {
	const (
		traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
		parent  = "00f067aa0ba902b7"
	)
	tp, spans := recorder(t)
	e := echo.New()
	e.Use(Middleware(tp))
	var handlerSpan trace.SpanContext
	e.GET("/api/tasks/:id", func(c echo.Context) error {
		handlerSpan = trace.SpanContextFromContext(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})
	e.GET("/boom", func(echo.Context) error { return errors.New("boom") })
	e.GET("/missing", func(echo.Context) error { return echo.ErrNotFound })

	for _, tc := range []struct {
		method, target, traceparent string
		wantName, wantRoute         string
		wantMethod                  string // "" for method
		wantStatus                  int
		wantError                   bool
	}{
		{method: "GET", target: "/api/tasks/0b5a7c1e-secret-id?q=private+words", traceparent: "00-" + traceID + "-" + parent + "-01",
			wantName: "GET /api/tasks/{id}", wantRoute: "/api/tasks/{id}", wantStatus: 204},
		{method: "GET", target: "/boom", wantName: "GET /boom", wantRoute: "/boom", wantStatus: 500, wantError: true},
		{method: "GET", target: "/missing", wantName: "GET /missing", wantRoute: "/missing", wantStatus: 404}, // a 4xx is not the server's error
		{method: "GET", target: "/no/such/route/private", wantName: "GET", wantStatus: 404},
		{method: "BREW", target: "/boom", wantName: "HTTP /boom", wantRoute: "/boom", wantMethod: "_OTHER", wantStatus: 405}, // a made-up method is _OTHER
	} {
		spans.Reset()
		req := httptest.NewRequest(tc.method, tc.target, nil)
		if tc.traceparent != "" {
			req.Header.Set("traceparent", tc.traceparent)
		}
		e.ServeHTTP(httptest.NewRecorder(), req)

		ended := spans.Ended()
		if len(ended) != 1 {
			t.Errorf("%s %s: %d spans", tc.method, tc.target, len(ended))
			continue
		}
		s, attrs := ended[0], attributes(ended[0])
		if s.Name() != tc.wantName || s.SpanKind() != trace.SpanKindServer {
			t.Errorf("%s %s: span %q, kind %v", tc.method, tc.target, s.Name(), s.SpanKind())
		}
		if got, want := attrs["http.request.method"].AsString(), cmp.Or(tc.wantMethod, tc.method); got != want {
			t.Errorf("%s %s: http.request.method %q, want %q", tc.method, tc.target, got, want)
		}
		if got := attrs["http.response.status_code"].AsInt64(); got != int64(tc.wantStatus) {
			t.Errorf("%s %s: http.response.status_code %d, want %d", tc.method, tc.target, got, tc.wantStatus)
		}
		if got := attrs["http.route"].AsString(); got != tc.wantRoute || attrs["url.path"].AsString() != tc.wantRoute {
			t.Errorf("%s %s: http.route %q, url.path %q, want %q", tc.method, tc.target, got, attrs["url.path"].AsString(), tc.wantRoute)
		}
		if (s.Status().Code == codes.Error) != tc.wantError {
			t.Errorf("%s %s: status %v", tc.method, tc.target, s.Status())
		}
		for _, kv := range s.Attributes() {
			if v := kv.Value.Emit(); strings.Contains(v, "secret") || strings.Contains(v, "private") {
				t.Errorf("%s %s: %s = %q holds a part of the URL", tc.method, tc.target, kv.Key, v)
			}
		}
		if tc.traceparent != "" {
			if s.SpanContext().TraceID().String() != traceID || s.Parent().SpanID().String() != parent || !s.Parent().IsRemote() {
				t.Errorf("not a child of the traceparent: trace %s, parent %s", s.SpanContext().TraceID(), s.Parent().SpanID())
			}
			if !handlerSpan.Equal(s.SpanContext()) {
				t.Errorf("the handler's context has span %v, not the server span %v", handlerSpan.SpanID(), s.SpanContext().SpanID())
			}
		}
	}
}

// A request that is not sampled (here the caller's traceparent says so) records nothing, and
// its context carries no span for the query tracer to make children of.
func TestMiddlewareLeavesUnsampledRequestsAlone(t *testing.T) {
	tp, spans := recorder(t)
	e := echo.New()
	e.Use(Middleware(tp))
	var recording bool
	e.GET("/api/tasks/:id", func(c echo.Context) error {
		recording = trace.SpanFromContext(c.Request().Context()).IsRecording()
		return c.NoContent(http.StatusNoContent)
	})
	req := httptest.NewRequest("GET", "/api/tasks/1", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00")
	w := httptest.NewRecorder()
	e.ServeHTTP(w, req)
	if w.Code != http.StatusNoContent || recording || len(spans.Ended()) != 0 || len(spans.Started()) != 0 {
		t.Errorf("status %d, handler's span recording %v, %d spans started, %d ended; want none", w.Code, recording, len(spans.Started()), len(spans.Ended()))
	}
}

func TestRouteTemplate(t *testing.T) {
	for path, want := range map[string]string{
		"":                                 "",
		"/api/tasks":                       "/api/tasks",
		"/api/tasks/:id":                   "/api/tasks/{id}",
		"/api/:user_id/tasks/:id/complete": "/api/{user_id}/tasks/{id}/complete",
		"/docs/:asset":                     "/docs/{asset}",
	} {
		if got := routeTemplate(path); got != want {
			t.Errorf("routeTemplate(%q) = %q, want %q", path, got, want)
		}
	}
}
