package main

import (
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"

	"taskapi/internal/apitest"
	"taskapi/internal/config"
	"taskapi/internal/testdb"
)

// collector is an OTLP/HTTP receiver: it keeps what is posted to /v1/traces as protobuf.
type collector struct {
	t        *testing.T
	mu       sync.Mutex
	received []*coltracepb.ExportTraceServiceRequest
}

func (c *collector) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if r.Method != http.MethodPost || r.URL.Path != "/v1/traces" || r.Header.Get("Content-Type") != "application/x-protobuf" || err != nil {
		c.t.Errorf("collector: %s %s (%s), %v", r.Method, r.URL.Path, r.Header.Get("Content-Type"), err)
		http.Error(w, "not an OTLP/HTTP protobuf export", http.StatusBadRequest)
		return
	}
	var req coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(body, &req); err != nil {
		c.t.Errorf("collector: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	c.mu.Lock()
	c.received = append(c.received, &req)
	c.mu.Unlock()
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	_, _ = w.Write(resp)
}

// exported is what the collector received: every span, and every attribute value and name
// (resource's and spans') as text.
func (c *collector) exported() (spans []*tracepb.Span, text []string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	addAttrs := func(attrs []*commonpb.KeyValue) {
		for _, kv := range attrs {
			text = append(text, kv.Key+"="+kv.Value.String())
		}
	}
	for _, req := range c.received {
		for _, rs := range req.ResourceSpans {
			addAttrs(rs.Resource.GetAttributes())
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					spans = append(spans, s)
					text = append(text, s.Name, s.Status.GetMessage())
					addAttrs(s.Attributes)
					for _, e := range s.Events {
						text = append(text, e.Name)
						addAttrs(e.Attributes)
					}
				}
			}
		}
	}
	return spans, text
}

func attr(s *tracepb.Span, key string) *commonpb.AnyValue {
	for _, kv := range s.Attributes {
		if kv.Key == key {
			return kv.Value
		}
	}
	return nil
}

// The real program with OTEL_EXPORTER_OTLP_ENDPOINT set exports, to a real OTLP/HTTP
// receiver, a server span that continues the caller's trace and a span for the query under it.
func TestTracingEndToEnd(t *testing.T) {
	otlp := &collector{t: t}
	receiver := httptest.NewServer(otlp)
	defer receiver.Close()
	t.Setenv("DATABASE_URL", testdb.URL(t))
	t.Setenv("BETTER_AUTH_SECRET", secret)
	t.Setenv("OTEL_EXPORTER_OTLP_ENDPOINT", receiver.URL) // the generic one: /v1/traces is appended
	t.Setenv("OTEL_SERVICE_NAME", "taskapi-e2e")
	baseURL, _, stderr, stop := start(t)

	const (
		user     = "user-e2e-tracing-5c1d"
		traceID  = "5b8efff798038103d269b633813fc60c"
		parentID = "eee19b7ec3c1b174"
	)
	c := apitest.NewClient(t, baseURL, []byte(secret))
	token := c.Token(user)
	r := c.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Token: token, Body: map[string]any{"title": "traced"}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.Status, r.Body)
	}
	var task struct{ ID string }
	r.JSON(t, &task)
	r = c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/" + task.ID, Token: token,
		Header: http.Header{"Traceparent": {"00-" + traceID + "-" + parentID + "-01"}}})
	if r.Status != http.StatusOK {
		t.Fatalf("get: %d %s", r.Status, r.Body)
	}
	// The older routes carry the user id in the path; their spans must not.
	if r := c.Do(apitest.Request{Method: http.MethodGet, Path: "/api/" + user + "/tasks", Token: token}); r.Status != http.StatusOK {
		t.Fatalf("compat list: %d %s", r.Status, r.Body)
	}
	if err := stop(); err != nil { // the spans still buffered are sent on the way out
		t.Fatal(err)
	}

	spans, text := otlp.exported()
	var server *tracepb.Span
	for _, s := range spans {
		if hex.EncodeToString(s.TraceId) == traceID && s.Kind == tracepb.Span_SPAN_KIND_SERVER {
			server = s
		}
	}
	if server == nil {
		t.Fatalf("no server span in the caller's trace among %d spans; log:\n%s", len(spans), stderr.String())
	}
	if got := hex.EncodeToString(server.ParentSpanId); got != parentID {
		t.Errorf("the server span's parent is %s, want the caller's %s", got, parentID)
	}
	if server.Name != "GET /api/tasks/{id}" || attr(server, "http.route").GetStringValue() != "/api/tasks/{id}" ||
		attr(server, "http.request.method").GetStringValue() != "GET" || attr(server, "http.response.status_code").GetIntValue() != 200 {
		t.Errorf("server span %q, attributes %v", server.Name, server.Attributes)
	}
	var query *tracepb.Span
	for _, s := range spans {
		if string(s.ParentSpanId) == string(server.SpanId) && s.Name == "GetTask" {
			query = s
		}
	}
	if query == nil {
		t.Errorf("no GetTask span under the server span")
	} else if hex.EncodeToString(query.TraceId) != traceID || query.Kind != tracepb.Span_SPAN_KIND_CLIENT ||
		attr(query, "db.system.name").GetStringValue() != "postgresql" || attr(query, "db.operation.name").GetStringValue() != "SELECT" {
		t.Errorf("query span %q (%v), attributes %v", query.Name, query.Kind, query.Attributes)
	}

	if !slices.ContainsFunc(spans, func(s *tracepb.Span) bool { return s.Name == "GET /api/{user_id}/tasks" }) {
		t.Errorf("no span for the compat list")
	}
	for _, s := range text {
		if strings.Contains(s, user) || strings.Contains(s, token) {
			t.Errorf("a span holds the user id or the token: %s", s)
		}
	}
	if !strings.Contains(strings.Join(text, "\n"), `service.name=string_value:"taskapi-e2e"`) {
		t.Errorf("no service.name taskapi-e2e among the resource attributes")
	}
	if want := `"tracing":"otlp to ` + receiver.URL + `/v1/traces, sampling 1"`; !strings.Contains(stderr.String(), want) {
		t.Errorf("the start-up log lacks %s", want)
	}
}

// Unconfigured, tracing starts nothing: no provider (so no exporter goroutines), hence no
// middleware in httpapi.New and no tracer on the pool.
func TestTracingOffStartsNothing(t *testing.T) {
	tracer, flush, err := startTracing(t.Context(), config.Config{Tracing: config.Tracing{ServiceName: "taskapi", SampleRatio: 1}}, nil)
	if err != nil || tracer != nil {
		t.Fatalf("tracer %v, err %v", tracer, err)
	}
	flush()
}
