package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime/debug"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"taskapi"
	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/config"
	"taskapi/internal/events"
	"taskapi/internal/httpapi"
	"taskapi/internal/mcp"
	"taskapi/internal/metrics"
	"taskapi/internal/postgres"
	"taskapi/internal/publish"
	"taskapi/internal/ratelimit"
	"taskapi/internal/replica"
	"taskapi/internal/tasks"
	"taskapi/internal/tracing"
)

const usage = `usage:
  taskapi [serve] [--dev]            migrate (unless MIGRATE_ON_START=false) and serve
  taskapi migrate up|up-by-one|down|status  manage the schema
  taskapi token --sub ID [--ttl 1h]  print a bearer token signed with BETTER_AUTH_SECRET
  taskapi healthcheck                exit 0 when the local server's /healthz answers 200

Configuration comes from the environment and a .env file; see README.md.
`

// run is the whole program; main only wires the process to it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	command := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		command, args = args[0], args[1:]
	}
	switch command {
	case "serve":
		return serveCommand(ctx, args, stdout, stderr)
	case "migrate":
		return migrateCommand(ctx, args, stdout, stderr)
	case "token":
		return tokenCommand(args, stdout, stderr)
	case "healthcheck":
		return healthcheckCommand(ctx, args, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", command)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

func serveCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("serve", stderr)
	dev := flags.Bool("dev", false, "development mode: generate a secret when none is set and print a token")
	if err := flags.Parse(args); err != nil {
		return err
	}
	cfg, logger, err := setUp(stderr, *dev)
	if err != nil {
		return err
	}
	if cfg.GCPercent > 0 {
		debug.SetGCPercent(cfg.GCPercent)
	}
	// Deferred first, so it runs last: the spans of the last requests are sent after the
	// server has stopped and the pool has closed.
	tracer, flushTraces, err := startTracing(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer flushTraces()
	pool, err := openPool(ctx, cfg, logger, cfg.DatabaseURL, "DATABASE_URL", tracer)
	if err != nil {
		return err
	}
	defer pool.Close()
	if cfg.MigrateOnStart {
		if err := migrateOnStart(ctx, cfg, logger, pool); err != nil {
			return err
		}
	}

	background, stopBackground := context.WithCancel(ctx)
	defer stopBackground()
	verifier, err := newVerifier(background, cfg, logger)
	if err != nil {
		return err
	}
	limiter, closeLimiter, err := newLimiter(cfg)
	if err != nil {
		return err
	}
	defer closeLimiter()
	spec, err := api.GetSwagger()
	if err != nil {
		return err
	}
	standby, err := openStandby(ctx, cfg, logger, tracer)
	if err != nil {
		return err
	}
	if standby != nil {
		defer standby.Close()
	}
	// The task list, the reminders and the change feed are read from the standby, if any, when
	// it is fresh enough for the caller; every other read, and the event streams' hub, from the
	// primary.
	reads := replica.New(pool, standby, replica.Options{Window: cfg.ReadAfterWriteWindow, Logger: logger})
	service := tasks.New(pool, reads)
	hub := events.NewHub(pool, logger, events.HubOptions{})
	// After a write, the writer's reads stay on the primary for the window, and the streams
	// (and NATS) learn of it at once; after the reminders' announcements (writes of many
	// users), everyone's streams.
	written := func(user string) { reads.Written(user); hub.Written(user) }
	announced := hub.Notify
	var publisher *publish.Publisher
	if cfg.NATS.URL != "" {
		// Before serving: /healthz answers once the events have a stream to go to.
		publisher, err = publish.Connect(ctx, pool, publish.Options{URL: cfg.NATS.URL, Stream: cfg.NATS.Stream,
			SubjectPrefix: cfg.NATS.SubjectPrefix, ConnectTimeout: cfg.DBConnectTimeout, Logger: logger})
		if err != nil {
			return err
		}
		defer publisher.Close()
		written = func(user string) { reads.Written(user); hub.Written(user); publisher.Notify() }
		announced = func() { hub.Notify(); publisher.Notify() }
	}
	var m *metrics.Metrics
	if cfg.Metrics {
		m = metrics.New(pool)
	}
	handler, err := httpapi.New(httpapi.Deps{
		Tasks:                handlers{service, events.NewFeed(pool, reads)},
		Verifier:             verifier,
		Ping:                 pool.Ping,
		Spec:                 spec,
		SpecYAML:             taskapi.OpenAPIYAML,
		Logger:               logger,
		MaxBodyBytes:         cfg.MaxBodyBytes,
		MaxHeaderBytes:       cfg.MaxHeaderBytes,
		RequestTimeout:       cfg.RequestTimeout,
		Limiter:              limiter,
		CORSOrigins:          cfg.CORSAllowedOrigins,
		Metrics:              m,
		Tracer:               tracer,
		Events:               hub.Stream,
		Written:              written,
		MCP:                  mcp.Transport(spec, logger),
		PublicURL:            cfg.PublicURL,
		AuthorizationServers: authorizationServers(cfg),
	})
	if err != nil {
		return err
	}

	listener, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return err
	}
	server := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
		// The hard cap, answered by net/http in plain text; MAX_HEADER_BYTES (smaller) is
		// enforced in the handler with a problem body.
		MaxHeaderBytes: 1 << 20,
		ErrorLog:       slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	// The event streams end as shutdown begins (their clients reconnect, to a replica that is
	// serving); they run on connections taken from net/http, so Shutdown does not wait for them
	// and hub.Wait below does.
	server.RegisterOnShutdown(hub.Close)
	authMode, _ := verifier.Mode()
	logger.Info("serving", "addr", listener.Addr().String(), "auth", authMode, "dev", cfg.Dev,
		"db_exec_mode", pool.Config().ConnConfig.DefaultQueryExecMode.String(), "rate_limit", limiterName(cfg),
		"tracing", tracingName(cfg), "nats_stream", publisher.StreamName(), "read_standby", standby != nil)
	if cfg.Dev {
		if err := printDevBanner(stdout, cfg, listener.Addr()); err != nil {
			return err
		}
	}

	go expireIdempotencyKeys(background, service, logger)
	go hub.Run(background)
	go reads.Run(background)
	go events.AnnounceReminders(background, pool, logger, time.Second, announced)
	if publisher != nil {
		go publisher.Run(background)
	}
	go events.Prune(background, pool, logger, cfg.EventsRetention, time.Hour)
	if cfg.PprofAddr != "" {
		go servePprof(background, cfg.PprofAddr, logger)
	}

	served := make(chan error, 1)
	go func() { served <- server.Serve(listener) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down", "grace", cfg.ShutdownTimeout.String())
	shutdownCtx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	// Shutdown stops accepting, then waits for the requests in flight; only after it returns
	// is the pool closed (deferred above), so no accepted request loses its database.
	if err := server.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	hub.Close()
	if err := hub.Wait(shutdownCtx); err != nil {
		return fmt.Errorf("shutdown: ending the event streams: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// handlers are the operations of openapi.yaml: the tasks, and the change feed.
type handlers struct {
	*tasks.Service
	*events.Feed
}

var _ api.StrictServerInterface = handlers{}

// setUp loads the configuration and makes the logger.
func setUp(stderr io.Writer, dev bool) (config.Config, *slog.Logger, error) {
	cfg, err := config.Load(".env", dev)
	if err != nil {
		return cfg, nil, err
	}
	return cfg, slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel})), nil
}

// openPool opens a pool on url, taken from the setting variable (named in its errors); with a
// tracer, its queries are traced.
func openPool(ctx context.Context, cfg config.Config, logger *slog.Logger, url, variable string, tracer trace.TracerProvider) (*pgxpool.Pool, error) {
	return postgres.Open(ctx, poolOptions(cfg, logger, url, variable, tracer))
}

// poolOptions are the settings every pool is opened with.
func poolOptions(cfg config.Config, logger *slog.Logger, url, variable string, tracer trace.TracerProvider) postgres.Options {
	opts := postgres.Options{
		URL:              url,
		URLVariable:      variable,
		Pooler:           cfg.DBPooler,
		CreateDatabase:   cfg.DatabaseIsDevDefault,
		ConnectTimeout:   cfg.DBConnectTimeout,
		QueryExecMode:    cfg.DBQueryExecMode,
		StatementTimeout: cfg.DBStatementTimeout,
		MaxConns:         cfg.DBMaxConns,
		Logger:           logger,
	}
	if tracer != nil {
		opts.QueryTracer = tracing.QueryTracer(tracer)
	}
	return opts
}

// openStandby opens the pool on DATABASE_READ_URL (nil when unset), as the primary's is opened
// (pooler, exec mode, statement timeout, retries), except that a standby still unreachable at
// DB_CONNECT_TIMEOUT does not stop the start: its pool connects when used, and until the
// standby answers every read goes to the primary.
func openStandby(ctx context.Context, cfg config.Config, logger *slog.Logger, tracer trace.TracerProvider) (*pgxpool.Pool, error) {
	if cfg.DatabaseReadURL == "" {
		return nil, nil
	}
	opts := poolOptions(cfg, logger, cfg.DatabaseReadURL, "DATABASE_READ_URL", tracer)
	opts.CreateDatabase, opts.Optional = false, true // a standby is read-only
	return postgres.Open(ctx, opts)
}

// migrateOnStart applies pending migrations on a pool of their own (openMigrationPool). When
// migrations run where the service's pool connects, that pool first asks whether any is
// pending: a restart with the schema up to date opens no second pool. (If it cannot tell, the
// migrations' pool asks again and reports the error.)
func migrateOnStart(ctx context.Context, cfg config.Config, logger *slog.Logger, servicePool *pgxpool.Pool) error {
	if direct, _ := migrationURL(cfg); direct == cfg.DatabaseURL {
		if m, err := postgres.NewMigrator(servicePool, logger); err == nil {
			pending, err := m.HasPending(ctx)
			m.Close()
			if err == nil && !pending {
				return nil
			}
		}
	}
	pool, err := openMigrationPool(ctx, cfg, logger)
	if err != nil {
		return fmt.Errorf("migrations' database: %w", err)
	}
	defer pool.Close()
	return migrate(ctx, pool, logger, "up", io.Discard)
}

// openMigrationPool opens the migrations' pool: over a direct connection (behind a pooler, such
// as Neon's -pooler host, that is a pool of its own) and without DB_STATEMENT_TIMEOUT, which is
// for requests: building an index concurrently on a large table takes minutes.
func openMigrationPool(ctx context.Context, cfg config.Config, logger *slog.Logger) (*pgxpool.Pool, error) {
	url, variable := migrationURL(cfg)
	cfg.DBStatementTimeout = 0
	return openPool(ctx, cfg, logger, url, variable, nil)
}

// migrationURL is where migrations run (see postgres.DirectURL) and the setting it comes from.
func migrationURL(cfg config.Config) (url, variable string) {
	variable = "DATABASE_URL"
	if cfg.MigrationDatabaseURL != "" {
		variable = "MIGRATION_DATABASE_URL"
	}
	return postgres.DirectURL(cfg.DatabaseURL, cfg.MigrationDatabaseURL), variable
}

// newVerifier sets up token verification: the shared secret, Better Auth's JWKS, or both.
// The key set is fetched now and kept fresh until ctx ends; if the auth server is down the
// service still starts, and /readyz says why tokens cannot be verified yet.
func newVerifier(ctx context.Context, cfg config.Config, logger *slog.Logger) (*auth.Verifier, error) {
	opts := auth.Options{
		Secret: cfg.Auth.Secret, Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, Leeway: cfg.Auth.Leeway,
		KeysIssuer: cfg.Auth.KeysIssuer, KeysAudience: cfg.Auth.KeysAudience,
	}
	if cfg.Auth.JWKSURL != "" {
		opts.Keys = auth.NewKeySet(auth.KeySetOptions{
			URL:          cfg.Auth.JWKSURL,
			Refresh:      cfg.Auth.JWKSRefresh,
			MinRefetch:   cfg.Auth.JWKSMinRefetch,
			FetchTimeout: cfg.Auth.JWKSFetchTimeout,
			Logger:       logger,
		})
		opts.Keys.Start(ctx)
	}
	return auth.NewVerifier(opts)
}

// newLimiter builds the per-user rate limiter: in Redis when REDIS_URL is set (shared by all
// instances), otherwise in memory; none when RATE_LIMIT_RPS is 0.
func newLimiter(cfg config.Config) (ratelimit.Limiter, func(), error) {
	if cfg.RateLimit.RPS == 0 {
		return nil, func() {}, nil
	}
	policy := ratelimit.Policy{Rate: cfg.RateLimit.RPS, Burst: cfg.RateLimit.Burst}
	if cfg.RedisURL == "" {
		return ratelimit.NewMemory(policy, nil), func() {}, nil
	}
	opts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return nil, nil, errors.New("REDIS_URL cannot be parsed") // its message may hold the password
	}
	client := redis.NewClient(opts)
	return ratelimit.NewRedis(client, policy, "taskapi:ratelimit:"), func() { client.Close() }, nil
}

// startTracing sets up tracing when an OTLP endpoint is configured. Otherwise it starts
// nothing and returns a nil tracer, so no middleware, query tracer or exporter exists.
// flush sends the spans still buffered; it is bounded, since the collector may be down.
func startTracing(ctx context.Context, cfg config.Config, logger *slog.Logger) (tracer trace.TracerProvider, flush func(), err error) {
	if cfg.Tracing.Endpoint == "" {
		return nil, func() {}, nil
	}
	provider, err := tracing.Setup(ctx, tracing.Options{
		Endpoint:    cfg.Tracing.Endpoint,
		ServiceName: cfg.Tracing.ServiceName,
		SampleRatio: cfg.Tracing.SampleRatio,
		Logger:      logger,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("tracing: %w", err)
	}
	return provider, func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := provider.Shutdown(ctx); err != nil {
			logger.Warn("sending the last traces failed", "err", err)
		}
	}, nil
}

func tracingName(cfg config.Config) string {
	if cfg.Tracing.Endpoint == "" {
		return "off"
	}
	return fmt.Sprintf("otlp to %s, sampling %g", cfg.Tracing.Endpoint, cfg.Tracing.SampleRatio)
}

func limiterName(cfg config.Config) string {
	switch {
	case cfg.RateLimit.RPS == 0:
		return "off"
	case cfg.RedisURL != "":
		return fmt.Sprintf("redis, %g/s burst %d per user", cfg.RateLimit.RPS, cfg.RateLimit.Burst)
	default:
		return fmt.Sprintf("memory, %g/s burst %d per user", cfg.RateLimit.RPS, cfg.RateLimit.Burst)
	}
}

// servePprof serves Go's profiler on its own address, away from the API's port.
func servePprof(ctx context.Context, addr string, logger *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	server := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { <-ctx.Done(); server.Close() }()
	logger.Info("serving pprof", "addr", addr)
	if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		logger.Warn("pprof server stopped", "err", err)
	}
}

// expireIdempotencyKeys deletes keys past their 24 hours, now and then every hour.
func expireIdempotencyKeys(ctx context.Context, service *tasks.Service, logger *slog.Logger) {
	ticker := time.NewTicker(time.Hour)
	defer ticker.Stop()
	for {
		if n, err := service.DeleteExpiredIdempotencyKeys(ctx); err != nil && ctx.Err() == nil {
			logger.Warn("deleting expired idempotency keys failed", "err", err)
		} else if n > 0 {
			logger.Info("deleted expired idempotency keys", "count", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// printDevBanner tells a newcomer how to reach a 200 in Swagger UI right away.
func printDevBanner(w io.Writer, cfg config.Config, addr net.Addr) error {
	token, err := auth.Mint(cfg.Auth.Secret, auth.Claims{
		Subject: "dev-user", Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience,
		IssuedAt: time.Now(), TTL: 24 * time.Hour,
	})
	if err != nil {
		return err
	}
	port := addr.(*net.TCPAddr).Port
	secretNote := "BETTER_AUTH_SECRET from the environment"
	if cfg.Auth.SecretGenerated {
		secretNote = "a secret generated for this run (set BETTER_AUTH_SECRET to keep tokens valid across restarts)"
	}
	_, err = fmt.Fprintf(w, `
taskapi is running in development mode.
  Swagger UI:  http://localhost:%d/docs   (Authorize, paste the token below)
  ReDoc:       http://localhost:%d/redoc
  Signed with: %s
  Bearer token for user "dev-user", valid 24h:

%s

  curl -H "Authorization: Bearer $TOKEN" http://localhost:%d/api/tasks

`, port, port, secretNote, token, port)
	return err
}

func migrateCommand(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) != 1 || (args[0] != "up" && args[0] != "up-by-one" && args[0] != "down" && args[0] != "status") {
		fmt.Fprint(stderr, usage)
		return errors.New("migrate needs one of up, up-by-one, down, status")
	}
	cfg, logger, err := setUp(stderr, true) // dev: migrating needs no secret
	if err != nil {
		return err
	}
	pool, err := openMigrationPool(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrate(ctx, pool, logger, args[0], stdout)
}

func migrate(ctx context.Context, pool *pgxpool.Pool, logger *slog.Logger, direction string, stdout io.Writer) error {
	m, err := postgres.NewMigrator(pool, logger)
	if err != nil {
		return err
	}
	defer m.Close()
	switch direction {
	case "up":
		err = m.Up(ctx)
	case "up-by-one":
		err = m.UpByOne(ctx)
	case "down":
		err = m.Down(ctx)
	default:
		err = m.Status(ctx, stdout)
	}
	if err != nil {
		return fmt.Errorf("migrate %s: %w", direction, err)
	}
	return nil
}

func tokenCommand(args []string, stdout, stderr io.Writer) error {
	flags := newFlags("token", stderr)
	sub := flags.String("sub", "", "the user id (the token's sub claim); required")
	ttl := flags.Duration("ttl", time.Hour, "how long the token stays valid")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *sub == "" || *ttl <= 0 {
		flags.Usage()
		return errors.New("token needs --sub and a positive --ttl")
	}
	cfg, err := config.Load(".env", false)
	if err != nil {
		return err
	}
	token, err := auth.Mint(cfg.Auth.Secret, auth.Claims{
		Subject: *sub, Issuer: cfg.Auth.Issuer, Audience: cfg.Auth.Audience, IssuedAt: time.Now(), TTL: *ttl,
	})
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(stdout, token)
	return err
}

// healthcheckCommand is the container healthcheck: the final image has no curl.
func healthcheckCommand(ctx context.Context, args []string, stderr io.Writer) error {
	flags := newFlags("healthcheck", stderr)
	url := flags.String("url", "", "the URL to check (default: /healthz on ADDR's port)")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if *url == "" {
		cfg, err := config.Load(".env", true)
		if err != nil {
			return err
		}
		_, port, _ := net.SplitHostPort(cfg.Addr)
		*url = "http://127.0.0.1:" + port + "/healthz"
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	return nil
}

// authorizationServers are where the API's tokens come from, for the metadata MCP clients read:
// Better Auth, when it is configured.
func authorizationServers(cfg config.Config) []string {
	if cfg.Auth.BetterAuthURL == "" {
		return nil
	}
	return []string{cfg.Auth.BetterAuthURL}
}
