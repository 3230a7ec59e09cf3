package apitest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi"
	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/httpapi"
	"taskapi/internal/metrics"
	"taskapi/internal/ratelimit"
	"taskapi/internal/tasks"
	"taskapi/internal/testdb"
)

// Secret is the HS256 secret of the servers Start runs.
var Secret = []byte("apitest-secret-0123456789abcdef-0123456789")

// Options tune the server Start runs; the zero value is the production defaults.
type Options struct {
	Issuer, Audience string
	Leeway           time.Duration
	MaxBodyBytes     int64
	MaxHeaderBytes   int
	Limiter          ratelimit.Limiter
	CORSOrigins      []string
	NoMetrics        bool
	RequestTimeout   time.Duration
	// Logs receives the server's JSON log lines (discarded when nil).
	Logs io.Writer
}

// Server is the real stack (Echo, middleware, service, a fresh PostgreSQL database) behind
// a real HTTP listener.
type Server struct {
	*Client
	Pool *pgxpool.Pool
}

// Start runs the full stack for one test on its own database.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	pool := testdb.New(t)
	if opts.MaxBodyBytes == 0 {
		opts.MaxBodyBytes = 1 << 20
	}
	if opts.MaxHeaderBytes == 0 {
		opts.MaxHeaderBytes = 32 << 10
	}
	if opts.RequestTimeout == 0 {
		opts.RequestTimeout = 10 * time.Second
	}
	if opts.Logs == nil {
		opts.Logs = io.Discard
	}
	verifier, err := auth.NewVerifier(auth.Options{Secret: Secret, Issuer: opts.Issuer, Audience: opts.Audience, Leeway: opts.Leeway})
	if err != nil {
		t.Fatal(err)
	}
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	var m *metrics.Metrics
	if !opts.NoMetrics {
		m = metrics.New(pool)
	}
	handler, err := httpapi.New(httpapi.Deps{
		Tasks:          tasks.New(pool),
		Verifier:       verifier,
		Ping:           pool.Ping,
		Spec:           spec,
		SpecYAML:       taskapi.OpenAPIYAML,
		Logger:         slog.New(slog.NewJSONHandler(opts.Logs, nil)),
		MaxBodyBytes:   opts.MaxBodyBytes,
		MaxHeaderBytes: opts.MaxHeaderBytes,
		RequestTimeout: opts.RequestTimeout,
		Limiter:        opts.Limiter,
		CORSOrigins:    opts.CORSOrigins,
		Metrics:        m,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return &Server{Client: NewClient(t, srv.URL, Secret), Pool: pool}
}
