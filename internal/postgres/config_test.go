package postgres

import (
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/trace/noop"

	"taskapi/internal/tracing"
)

func TestPoolConfigForNeon(t *testing.T) {
	const pooled = "postgres://alex:pw@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require"
	const direct = "postgres://alex:pw@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require&channel_binding=require"
	for _, tc := range []struct {
		url, pooler, mode string
		wantMode          pgx.QueryExecMode
		wantStatementT    string
	}{
		{url: pooled, wantMode: pgx.QueryExecModeExec}, // no prepared statements through PgBouncer
		{url: direct, wantMode: pgx.QueryExecModeCacheStatement, wantStatementT: "5000"},
		{url: pooled, mode: "simple_protocol", wantMode: pgx.QueryExecModeSimpleProtocol},
		{url: direct, mode: "describe_exec", wantMode: pgx.QueryExecModeDescribeExec, wantStatementT: "5000"},
		{url: direct, pooler: "transaction", wantMode: pgx.QueryExecModeExec}, // Supabase's 6543, a private name
		{url: direct, pooler: "transaction", mode: "describe_exec", wantMode: pgx.QueryExecModeDescribeExec},
		{url: pooled, pooler: "none", wantMode: pgx.QueryExecModeCacheStatement, wantStatementT: "5000"},
		{url: pooled, pooler: "auto", wantMode: pgx.QueryExecModeExec},
	} {
		cfg, err := poolConfig(Options{URL: tc.url, Pooler: tc.pooler, QueryExecMode: tc.mode, StatementTimeout: 5 * time.Second})
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if cfg.ConnConfig.DefaultQueryExecMode != tc.wantMode || cfg.ConnConfig.RuntimeParams["statement_timeout"] != tc.wantStatementT {
			t.Errorf("%s %q %q: mode %v, statement_timeout %q", tc.url, tc.pooler, tc.mode,
				cfg.ConnConfig.DefaultQueryExecMode, cfg.ConnConfig.RuntimeParams["statement_timeout"])
		}
		if cfg.ConnConfig.TLSConfig == nil {
			t.Errorf("%s: sslmode=require without TLS", tc.url)
		}
		if cfg.MaxConnIdleTime >= 5*time.Minute {
			t.Errorf("idle connections outlive Neon's 5-minute suspend: %s", cfg.MaxConnIdleTime)
		}
	}
	if got := DirectURL(pooled, ""); got != direct {
		t.Errorf("DirectURL(pooled) = %s", got)
	}
	if got := DirectURL(direct, ""); got != direct {
		t.Errorf("DirectURL(direct) = %s", got)
	}
	if got := DirectURL(pooled, "postgres://explicit/db"); got != "postgres://explicit/db" {
		t.Errorf("an explicit MIGRATION_DATABASE_URL is not used: %s", got)
	}
	if _, err := poolConfig(Options{URL: "postgres://u:secret@[::1", URLVariable: "DATABASE_URL"}); err == nil ||
		strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Errorf("bad URL: %v", err)
	}
	if _, err := poolConfig(Options{URL: direct, Pooler: "session"}); err == nil {
		t.Error("an unknown pooler is accepted")
	}
}

// Tracing off must cost nothing: no tracer on the connections unless one is given.
func TestPoolConfigTracesOnlyWhenAsked(t *testing.T) {
	const url = "postgres://postgres@127.0.0.1:5432/taskapi"
	cfg, err := poolConfig(Options{URL: url})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ConnConfig.Tracer != nil {
		t.Errorf("a tracer without tracing: %T", cfg.ConnConfig.Tracer)
	}
	tracer := tracing.QueryTracer(noop.NewTracerProvider())
	if cfg, err = poolConfig(Options{URL: url, QueryTracer: tracer}); err != nil || cfg.ConnConfig.Tracer != tracer {
		t.Errorf("the given tracer is not used: %T, %v", cfg.ConnConfig.Tracer, err)
	}
}
