package tracing_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"taskapi/internal/apitest"
	"taskapi/internal/tracing"
)

// A collector that refuses the spans is reported in the service's log, not by OpenTelemetry's
// global handler on plain stderr.
func TestFailedExportsAreLogged(t *testing.T) {
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		http.Error(w, "no", http.StatusBadRequest) // not retried by the exporter
	}))
	defer collector.Close()
	var logs apitest.LogBuffer
	tp, err := tracing.Setup(t.Context(), tracing.Options{
		Endpoint: collector.URL + "/v1/traces", ServiceName: "taskapi", SampleRatio: 1,
		Logger: slog.New(slog.NewJSONHandler(&logs, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	_, span := tp.Tracer("test").Start(t.Context(), "refused")
	span.End()
	if err := tp.Shutdown(t.Context()); err != nil {
		t.Errorf("shutdown: %v", err)
	}
	if !strings.Contains(logs.String(), `"msg":"exporting traces failed; the spans are dropped","spans":1`) {
		t.Errorf("the log: %s", logs.String())
	}
}
