package tracing

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"go.opentelemetry.io/otel/codes"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"
)

// QueryTracer returns a pgx tracer (for ConnConfig.Tracer) that makes a client span per query,
// named after its sqlc query ("GetTask"). Queries made outside a recorded request span get
// none: those of unsampled requests would not be recorded either (and are spared the work),
// and the others (migrations, the hourly clean-up) would be root spans of one query each.
func QueryTracer(tp trace.TracerProvider) pgx.QueryTracer {
	return queryTracer{tracer: tp.Tracer(scope)}
}

type queryTracer struct {
	tracer trace.Tracer
}

// querySpanKey holds the query's own span, so that TraceQueryEnd can never end the request's.
type querySpanKey struct{}

func (t queryTracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	if !trace.SpanFromContext(ctx).IsRecording() {
		return ctx
	}
	name, operation := describe(data.SQL)
	// Neither the SQL's arguments nor its text are recorded: the arguments are user data and
	// the name identifies the text.
	ctx, span := t.tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
		semconv.DBSystemNamePostgreSQL, semconv.DBOperationName(operation)))
	return context.WithValue(ctx, querySpanKey{}, span)
}

func (t queryTracer) TraceQueryEnd(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryEndData) {
	span, ok := ctx.Value(querySpanKey{}).(trace.Span)
	if !ok {
		return
	}
	if data.Err != nil {
		kind := errorType(data.Err)
		span.SetAttributes(semconv.ErrorTypeKey.String(kind))
		if pgErr, ok := errors.AsType[*pgconn.PgError](data.Err); ok {
			span.SetAttributes(semconv.DBResponseStatusCode(pgErr.Code))
		}
		span.SetStatus(codes.Error, kind)
	}
	span.End()
}

// errorType names an error without its message, which can quote values: PostgreSQL's
// (invalid input syntax for type ...: "<the value>") and pgx's (unable to encode <the value>).
func errorType(err error) string {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code // the SQLSTATE
	}
	switch {
	case errors.Is(err, context.Canceled):
		return "context.Canceled"
	case errors.Is(err, context.DeadlineExceeded):
		return "context.DeadlineExceeded"
	}
	return fmt.Sprintf("%T", err)
}

// describe reads the span name and operation from the SQL: sqlc starts each query with
// "-- name: ListTasksNewestFirst :many", and the statement's first word is its operation.
// SQL that is not sqlc's (begin, commit, migrations) is "db.query".
func describe(sql string) (name, operation string) {
	name = "db.query"
	if rest, ok := strings.CutPrefix(sql, "-- name: "); ok {
		line, _, _ := strings.Cut(rest, "\n")
		if n, _, _ := strings.Cut(line, " "); n != "" {
			name = n
		}
	}
	sql = strings.TrimSpace(sql)
	for strings.HasPrefix(sql, "--") {
		_, sql, _ = strings.Cut(sql, "\n")
		sql = strings.TrimSpace(sql)
	}
	end := strings.IndexAny(sql, " \t\r\n(;")
	if end < 0 {
		end = len(sql)
	}
	return name, sql[:end]
}
