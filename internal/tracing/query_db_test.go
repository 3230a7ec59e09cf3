package tracing_test

import (
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"taskapi/gen/db"
	"taskapi/internal/testdb"
	"taskapi/internal/tracing"
)

// The query tracer on a real PostgreSQL: a span per query under the request's span, named for
// the sqlc query; none outside a request; errors recorded by SQLSTATE without their text.
func TestQueryTracer(t *testing.T) {
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	cfg, err := pgxpool.ParseConfig(testdb.URL(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.Tracer = tracing.QueryTracer(tp)
	pool, err := pgxpool.NewWithConfig(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	queries := db.New(pool)
	const user = "user-query-tracer-7f3a"

	if _, err := queries.TaskExists(t.Context(), db.TaskExistsParams{UserID: user, ID: uuid.New()}); err != nil {
		t.Fatal(err)
	}
	if n := len(spans.Ended()); n != 0 {
		t.Fatalf("%d spans for a query outside any trace", n)
	}
	unsampled := trace.ContextWithSpanContext(t.Context(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: trace.TraceID{1}, SpanID: trace.SpanID{1}})) // valid, not sampled
	if _, err := queries.TaskExists(unsampled, db.TaskExistsParams{UserID: user, ID: uuid.New()}); err != nil {
		t.Fatal(err)
	}
	if n := len(spans.Started()); n != 0 {
		t.Fatalf("%d spans for a query of an unsampled request", n)
	}

	ctx, request := tp.Tracer("test").Start(t.Context(), "request")
	if _, err := queries.TaskExists(ctx, db.TaskExistsParams{UserID: user, ID: uuid.New()}); err != nil {
		t.Fatal(err)
	}
	var n int
	divideErr := pool.QueryRow(ctx, "SELECT 1 / $1::int", 0).Scan(&n)
	// PostgreSQL's message for this one quotes the value: invalid input syntax for type uuid: "...".
	uuidErr := pool.QueryRow(ctx, "SELECT $1::uuid", "not-a-uuid "+user).Scan(&n)
	request.End()
	if divideErr == nil || uuidErr == nil || !strings.Contains(uuidErr.Error(), user) {
		t.Fatalf("the failing queries: %v, %v", divideErr, uuidErr)
	}

	ended := spans.Ended()
	if len(ended) != 4 {
		t.Fatalf("%d spans, want 3 queries and the request", len(ended))
	}
	for i, want := range []struct {
		name, operation, errorType string
	}{
		{"TaskExists", "SELECT", ""},
		{"db.query", "SELECT", "22012"}, // division_by_zero
		{"db.query", "SELECT", "22P02"}, // invalid_text_representation
	} {
		s := ended[i]
		attrs := map[attribute.Key]string{}
		for _, kv := range s.Attributes() {
			attrs[kv.Key] = kv.Value.Emit()
			if strings.Contains(kv.Value.Emit(), user) {
				t.Errorf("%s: attribute %s holds a query argument: %s", s.Name(), kv.Key, kv.Value.Emit())
			}
		}
		if s.Name() != want.name || s.SpanKind() != trace.SpanKindClient || s.Parent().SpanID() != request.SpanContext().SpanID() {
			t.Errorf("span %d: %q, kind %v, parent %v; want %q under the request", i, s.Name(), s.SpanKind(), s.Parent().SpanID(), want.name)
		}
		if attrs["db.system.name"] != "postgresql" || attrs["db.operation.name"] != want.operation ||
			attrs["error.type"] != want.errorType || attrs["db.response.status_code"] != want.errorType {
			t.Errorf("%s: attributes %v", s.Name(), attrs)
		}
		if (s.Status().Code == codes.Error) != (want.errorType != "") || strings.Contains(s.Status().Description, user) {
			t.Errorf("%s: status %+v", s.Name(), s.Status())
		}
		if len(s.Events()) != 0 {
			t.Errorf("%s: events %v (an exception event would carry the error's text)", s.Name(), s.Events())
		}
	}
}
