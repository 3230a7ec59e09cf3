package apitest

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"taskapi"
	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/events"
	"taskapi/internal/httpapi"
	"taskapi/internal/mcp"
	"taskapi/internal/metrics"
	"taskapi/internal/ratelimit"
	"taskapi/internal/replica"
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
	// Events tunes the event streams' hub (internal/events); zero: the production defaults.
	Events events.HubOptions
	// PublicURL and AuthorizationServers are the protected resource metadata's (httpapi.Deps).
	PublicURL            string
	AuthorizationServers []string
	// ConnTimeout is the listener's ReadTimeout and WriteTimeout, as cmd/taskapi sets them
	// (none when zero).
	ConnTimeout time.Duration
	// Pool is the database served (nil: a new one from testdb.New), and Standby a hot standby
	// of it that the lists are read from (internal/replica), with ReadAfterWriteWindow its
	// window (replica.DefaultWindow when zero).
	Pool                 *pgxpool.Pool
	Standby              *pgxpool.Pool
	ReadAfterWriteWindow time.Duration
}

// Server is the real stack (Echo, middleware, service, a fresh PostgreSQL database) behind
// a real HTTP listener, with the event streams' hub running.
type Server struct {
	*Client
	Pool *pgxpool.Pool
	Hub  *events.Hub
	URL  string
}

// handlers are the operations of openapi.yaml, as cmd/taskapi puts them together.
type handlers struct {
	*tasks.Service
	*events.Feed
}

// Start runs the full stack for one test on its own database.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	pool := opts.Pool
	if pool == nil {
		pool = testdb.New(t)
	}
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
	logger := slog.New(slog.NewJSONHandler(opts.Logs, nil))
	hub := events.NewHub(pool, logger, opts.Events)
	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go hub.Run(ctx)
	reads := replica.New(pool, opts.Standby, replica.Options{Window: opts.ReadAfterWriteWindow, Logger: logger})
	go reads.Run(ctx)
	handler, err := httpapi.New(httpapi.Deps{
		Tasks:                handlers{tasks.New(pool, reads), events.NewFeed(pool, reads)},
		Verifier:             verifier,
		Ping:                 pool.Ping,
		Spec:                 spec,
		SpecYAML:             taskapi.OpenAPIYAML,
		Logger:               logger,
		MaxBodyBytes:         opts.MaxBodyBytes,
		MaxHeaderBytes:       opts.MaxHeaderBytes,
		RequestTimeout:       opts.RequestTimeout,
		Limiter:              opts.Limiter,
		CORSOrigins:          opts.CORSOrigins,
		Metrics:              m,
		Events:               hub.Stream,
		Written:              func(user string) { reads.Written(user); hub.Written(user) },
		MCP:                  mcp.Transport(spec, logger),
		PublicURL:            opts.PublicURL,
		AuthorizationServers: opts.AuthorizationServers,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(handler)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = opts.ConnTimeout, opts.ConnTimeout
	srv.Config.RegisterOnShutdown(hub.Close)
	srv.Start()
	t.Cleanup(func() {
		hub.Close()
		srv.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := hub.Wait(ctx); err != nil {
			t.Errorf("apitest: the event streams did not end: %v", err)
		}
	})
	return &Server{Client: NewClient(t, srv.URL, Secret), Pool: pool, Hub: hub, URL: srv.URL}
}
