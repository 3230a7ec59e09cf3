package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	api "taskapi/gen/api"
	"taskapi/internal/auth"
	"taskapi/internal/config"
	"taskapi/internal/postgres"
	"taskapi/internal/tasks"
)

// floor serves the list scenario with the parts of taskapi that every request on this stack
// needs: net/http (with the server's timeouts), the server's pool (configured from the
// environment as the server configures it), and the service's own ListTasks (the sqlc query,
// the row scan, the page encoder). It leaves out Echo, the spec validation, JWT verification
// (the user is looked up from the tokens file instead), metrics and the other middleware. Its req/s on a machine is what any server built on this
// stack can reach there; the benchmark compares taskapi and the database ceiling with it.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:18090", "listen address")
	tokensFile := fs.String("tokens", "tokens.txt", `"user token" lines: the users a bearer token stands for`)
	_ = fs.Parse(args)
	tokens, err := readTokens(*tokensFile)
	if err != nil {
		return err
	}
	users := make(map[string]string, len(tokens))
	for _, t := range tokens {
		users["Bearer "+t.token] = t.user
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The server's own configuration, read from the same environment (DATABASE_URL,
	// BETTER_AUTH_SECRET and the bench's SERVER_ENV), so the pool is the server's pool.
	cfg, err := config.Load("", false)
	if err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	pool, err := postgres.Open(ctx, postgres.Options{
		URL:              cfg.DatabaseURL,
		URLVariable:      "DATABASE_URL",
		Pooler:           cfg.DBPooler,
		ConnectTimeout:   cfg.DBConnectTimeout,
		QueryExecMode:    cfg.DBQueryExecMode,
		StatementTimeout: cfg.DBStatementTimeout,
		MaxConns:         cfg.DBMaxConns,
		Logger:           logger,
	})
	if err != nil {
		return err
	}
	defer pool.Close()
	server := &http.Server{
		Addr:              *addr,
		Handler:           floorHandler(tasks.New(pool, nil), users),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      cfg.RequestTimeout + 5*time.Second,
		IdleTimeout:       2 * time.Minute,
	}
	go func() { <-ctx.Done(); server.Close() }()
	if err := server.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("floor: %w", err)
	}
	return nil
}

// floorHandler answers GET /api/tasks for the users of the bearer tokens in users (keyed by
// "Bearer <token>") as taskapi does, byte for byte, and GET /healthz.
func floorHandler(service *tasks.Service, users map[string]string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {})
	mux.HandleFunc("GET /api/tasks", func(w http.ResponseWriter, r *http.Request) {
		user, ok := users[r.Header.Get("Authorization")]
		if !ok {
			http.Error(w, "unknown token", http.StatusUnauthorized)
			return
		}
		var params api.ListTasksParams
		if s := r.URL.Query().Get("limit"); s != "" {
			limit, err := strconv.Atoi(s)
			if err != nil || limit < 1 || limit > 100 {
				http.Error(w, "bad limit", http.StatusBadRequest)
				return
			}
			params.Limit = &limit
		}
		answer, err := service.ListTasks(auth.WithUser(r.Context(), user), api.ListTasksRequestObject{Params: params})
		if err == nil {
			err = answer.VisitListTasksResponse(w)
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
		}
	})
	return mux
}
