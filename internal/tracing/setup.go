// Package tracing is taskapi's OpenTelemetry tracing: an OTLP/HTTP exporter, a server span
// per request and a client span per SQL query. It is used only when an OTLP endpoint is
// configured; otherwise none of it is constructed, so tracing costs nothing when off.
//
// Spans carry route templates and sqlc query names, never URLs with their values, query
// arguments, tokens or user ids.
package tracing

import (
	"context"
	"log/slog"

	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
)

// scope is the instrumentation scope of taskapi's spans.
const scope = "taskapi"

// Options configure Setup.
type Options struct {
	// Endpoint is the OTLP/HTTP URL spans are posted to, path included (".../v1/traces").
	Endpoint    string
	ServiceName string
	// SampleRatio is the share of new traces recorded; a caller's sampled flag wins.
	SampleRatio float64
	Logger      *slog.Logger
}

// Setup returns a tracer provider that batches spans and posts them to opts.Endpoint as
// protobuf. Its Shutdown sends what is still buffered; call it once the server has stopped.
// The OpenTelemetry globals are left alone: the provider is passed to whoever traces.
func Setup(ctx context.Context, opts Options) (*sdktrace.TracerProvider, error) {
	// The endpoint and encoding are given explicitly, so that they are what internal/config
	// read rather than whatever the exporter finds in the environment.
	exporter, err := otlptracehttp.New(ctx,
		otlptracehttp.WithEndpointURL(opts.Endpoint),
		otlptracehttp.WithEncoding(otlptracehttp.EncodingProtobuf))
	if err != nil {
		return nil, err
	}
	return sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(loggedExporter{SpanExporter: exporter, logger: opts.Logger}),
		sdktrace.WithResource(resource.NewWithAttributes(semconv.SchemaURL, semconv.ServiceName(opts.ServiceName))),
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.TraceIDRatioBased(opts.SampleRatio))),
	), nil
}

// loggedExporter reports failed exports in the service's own JSON log. Returned to the SDK,
// the error would go to OpenTelemetry's global handler, which prints plain text to stderr.
type loggedExporter struct {
	sdktrace.SpanExporter
	logger *slog.Logger
}

func (e loggedExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	if err := e.SpanExporter.ExportSpans(ctx, spans); err != nil {
		e.logger.WarnContext(ctx, "exporting traces failed; the spans are dropped", "spans", len(spans), "err", err)
	}
	return nil
}
