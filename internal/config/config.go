// Package config reads taskapi's settings from the environment (and a .env file), once, at
// start. Every bad or missing value is reported together, so one failed start shows them all.
package config

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/joho/godotenv"
	"github.com/kelseyhightower/envconfig"
)

// DevDatabaseURL is the database used when DATABASE_URL is not set: the local PostgreSQL
// that a fresh development machine has, with a database of our own (created if missing).
const DevDatabaseURL = "postgres://postgres@127.0.0.1:5432/taskapi?sslmode=disable"

// DefaultGCPercent replaces Go's GOGC=100 when GOGC is not set. The service keeps a small
// live heap (about 4 MiB) and allocates about 17 KiB per list request, so at 100 it collected
// some 40 times a second under load. 150 collects a third less often for a few MiB more peak
// RSS; 200 saved little more CPU and took the peak RSS to 47 MiB, near the 50 MB budget (bench,
// README's Performance). GOGC, read by the Go runtime itself, still decides when it is set.
const DefaultGCPercent = 150

// MinSecretBytes is the shortest BETTER_AUTH_SECRET accepted: HS256 with a shorter key is
// brute-forceable.
const MinSecretBytes = 32

// Config is every setting the service uses.
type Config struct {
	// DatabaseURL is a PostgreSQL URL or key=value string.
	DatabaseURL string
	// DatabaseIsDevDefault is true when DATABASE_URL was unset and DevDatabaseURL is used;
	// only then may the service create its database.
	DatabaseIsDevDefault bool
	// MigrationDatabaseURL is where migrations run: a direct (unpooled) connection, since
	// they take a session advisory lock that a transaction-mode pooler cannot keep.
	MigrationDatabaseURL string
	// MigrateOnStart runs the migrations before serving.
	MigrateOnStart bool
	// DBConnectTimeout bounds how long start-up keeps retrying an unreachable database.
	DBConnectTimeout time.Duration
	// DBQueryExecMode is pgx's query exec mode ("" picks one from the URL: see postgres.Open).
	DBQueryExecMode string
	// DBStatementTimeout is PostgreSQL's statement_timeout for the pool's sessions.
	DBStatementTimeout time.Duration
	// DBMaxConns caps the pool (0: four per CPU).
	DBMaxConns int32
	// DBPooler is auto, none or transaction: whether the database is behind a transaction pooler.
	DBPooler string

	Auth Auth

	Addr            string
	LogLevel        slog.Level
	MaxBodyBytes    int64
	MaxHeaderBytes  int
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration

	// RateLimit is each user's token bucket; a zero Rate turns limiting off.
	RateLimit RateLimit
	// RedisURL, when set, keeps the rate-limit buckets in Redis, shared by every instance.
	RedisURL string
	// CORSAllowedOrigins are the exact origins browsers may call the API from.
	CORSAllowedOrigins []string
	// Metrics serves /metrics and records what it reports.
	Metrics bool
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) there; keep it on localhost.
	PprofAddr string
	// GCPercent is the garbage collector's target (debug.SetGCPercent) when GOGC is unset;
	// 0 when it is set, the Go runtime having applied it already.
	GCPercent int
	// Tracing exports OpenTelemetry traces; off unless an OTLP endpoint is set.
	Tracing Tracing

	// Dev is the development mode (--dev or TASKAPI_ENV=development).
	Dev bool
}

// Auth is how bearer tokens are verified: with the shared Secret (HS256), with the keys at
// JWKSURL (Better Auth's jwt plugin), or both.
type Auth struct {
	Secret Secret
	// SecretGenerated is true when --dev made up a secret for this run.
	SecretGenerated bool
	// Issuer and Audience are JWT_ISSUER and JWT_AUDIENCE: checked on every token when set.
	Issuer   string
	Audience string
	Leeway   time.Duration

	// JWKSURL is JWKS_URL, or BETTER_AUTH_URL + /api/auth/jwks; "" means no JWKS mode.
	JWKSURL string
	// KeysIssuer and KeysAudience are what JWKS-signed tokens must carry: JWT_ISSUER and
	// JWT_AUDIENCE when set, else BETTER_AUTH_URL (Better Auth's defaults).
	KeysIssuer   string
	KeysAudience string
	// JWKSRefresh, JWKSMinRefetch and JWKSFetchTimeout tune the key cache.
	JWKSRefresh      time.Duration
	JWKSMinRefetch   time.Duration
	JWKSFetchTimeout time.Duration
}

// Tracing is OpenTelemetry tracing, from the standard OTEL_* variables.
type Tracing struct {
	// Endpoint is the OTLP/HTTP URL spans are posted to (".../v1/traces"); "" means no tracing.
	Endpoint string
	// ServiceName is the service.name the traces are reported under.
	ServiceName string
	// SampleRatio is the share of traces started here that are recorded; a request with a
	// traceparent follows its caller's decision instead.
	SampleRatio float64
}

// RateLimit is a token bucket per user: Burst requests at once, refilled at RPS per second.
type RateLimit struct {
	RPS   float64
	Burst int
}

// Secret is key material. It never prints, so it cannot leak into a log by accident.
type Secret []byte

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// env is the raw environment. Everything is read as text and converted in Load, so that a
// bad value does not hide the ones after it.
type env struct {
	DatabaseURL          string `envconfig:"DATABASE_URL"`
	MigrationDatabaseURL string `envconfig:"MIGRATION_DATABASE_URL"`
	MigrateOnStart       string `envconfig:"MIGRATE_ON_START" default:"true"`
	DBConnectTimeout     string `envconfig:"DB_CONNECT_TIMEOUT" default:"30s"`
	DBQueryExecMode      string `envconfig:"DB_QUERY_EXEC_MODE"`
	DBStatementTimeout   string `envconfig:"DB_STATEMENT_TIMEOUT" default:"5s"`
	DBMaxConns           string `envconfig:"DB_MAX_CONNS" default:"0"`
	DBPooler             string `envconfig:"DB_POOLER" default:"auto"`
	Secret               string `envconfig:"BETTER_AUTH_SECRET"`
	BetterAuthURL        string `envconfig:"BETTER_AUTH_URL"`
	JWKSURL              string `envconfig:"JWKS_URL"`
	JWKSRefresh          string `envconfig:"JWKS_REFRESH_INTERVAL" default:"5m"`
	JWKSMinRefetch       string `envconfig:"JWKS_MIN_REFETCH_INTERVAL" default:"10s"`
	JWKSFetchTimeout     string `envconfig:"JWKS_FETCH_TIMEOUT" default:"5s"`
	Issuer               string `envconfig:"JWT_ISSUER"`
	Audience             string `envconfig:"JWT_AUDIENCE"`
	Leeway               string `envconfig:"JWT_LEEWAY" default:"30s"`
	Addr                 string `envconfig:"ADDR" default:":8080"`
	LogLevel             string `envconfig:"LOG_LEVEL" default:"info"`
	MaxBodyBytes         string `envconfig:"MAX_BODY_BYTES" default:"1048576"`
	MaxHeaderBytes       string `envconfig:"MAX_HEADER_BYTES" default:"32768"`
	RateLimitRPS         string `envconfig:"RATE_LIMIT_RPS" default:"20"`
	RateLimitBurst       string `envconfig:"RATE_LIMIT_BURST" default:"40"`
	RedisURL             string `envconfig:"REDIS_URL"`
	CORSOrigins          string `envconfig:"CORS_ALLOWED_ORIGINS"`
	Metrics              string `envconfig:"METRICS_ENABLED" default:"true"`
	PprofAddr            string `envconfig:"PPROF_ADDR"`
	GOGC                 string `envconfig:"GOGC"`
	RequestTimeout       string `envconfig:"REQUEST_TIMEOUT" default:"10s"`
	ShutdownTimeout      string `envconfig:"SHUTDOWN_TIMEOUT" default:"15s"`
	Environment          string `envconfig:"TASKAPI_ENV" default:"production"`
	OTLPEndpoint         string `envconfig:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	OTLPTracesEndpoint   string `envconfig:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"`
	ServiceName          string `envconfig:"OTEL_SERVICE_NAME" default:"taskapi"`
	TracesSampler        string `envconfig:"OTEL_TRACES_SAMPLER"`
	TracesSamplerArg     string `envconfig:"OTEL_TRACES_SAMPLER_ARG" default:"1.0"`
}

// Load reads dotenvPath if it exists (variables already set win), then the environment.
// dev forces development mode, as --dev does.
func Load(dotenvPath string, dev bool) (Config, error) {
	if dotenvPath != "" {
		if err := godotenv.Load(dotenvPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("reading %s: %w", dotenvPath, err)
		}
	}
	var raw env
	if err := envconfig.Process("", &raw); err != nil {
		return Config{}, fmt.Errorf("reading the environment: %w", err)
	}
	return parse(raw, dev)
}

func parse(raw env, dev bool) (Config, error) {
	var p problems
	cfg := Config{
		DatabaseURL: raw.DatabaseURL,
		Addr:        raw.Addr,
		Auth:        Auth{Issuer: raw.Issuer, Audience: raw.Audience},
	}

	switch strings.ToLower(raw.Environment) {
	case "development", "dev":
		cfg.Dev = true
	case "production", "prod", "":
	default:
		p.addf("TASKAPI_ENV must be development or production, not %q", raw.Environment)
	}
	cfg.Dev = cfg.Dev || dev

	if cfg.DatabaseURL == "" {
		cfg.DatabaseURL, cfg.DatabaseIsDevDefault = DevDatabaseURL, true
	} else if _, err := pgconn.ParseConfig(cfg.DatabaseURL); err != nil {
		// pgconn's message can quote the URL, password included, so it is not repeated.
		p.addf("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	cfg.MigrationDatabaseURL = raw.MigrationDatabaseURL
	if cfg.MigrationDatabaseURL != "" {
		if _, err := pgconn.ParseConfig(cfg.MigrationDatabaseURL); err != nil {
			p.addf("MIGRATION_DATABASE_URL is not a valid PostgreSQL connection string")
		}
	}
	cfg.MigrateOnStart = p.bool("MIGRATE_ON_START", raw.MigrateOnStart)
	cfg.DBConnectTimeout = p.duration("DB_CONNECT_TIMEOUT", raw.DBConnectTimeout)
	switch raw.DBQueryExecMode {
	case "", "cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol":
		cfg.DBQueryExecMode = raw.DBQueryExecMode
	default:
		p.addf("DB_QUERY_EXEC_MODE must be cache_statement, cache_describe, describe_exec, exec or simple_protocol, not %q", raw.DBQueryExecMode)
	}
	cfg.DBStatementTimeout = p.durationOrZero("DB_STATEMENT_TIMEOUT", raw.DBStatementTimeout)
	cfg.DBMaxConns = int32(p.count("DB_MAX_CONNS", raw.DBMaxConns, 0, 10000))
	switch raw.DBPooler {
	case "auto", "none", "transaction":
		cfg.DBPooler = raw.DBPooler
	default:
		p.addf("DB_POOLER must be auto, none or transaction, not %q", raw.DBPooler)
	}

	betterAuth := strings.TrimRight(raw.BetterAuthURL, "/")
	if betterAuth != "" && !isHTTPURL(betterAuth) {
		p.addf("BETTER_AUTH_URL must be the http(s) base URL of Better Auth, not %q", raw.BetterAuthURL)
	}
	cfg.Auth.JWKSURL = raw.JWKSURL
	if cfg.Auth.JWKSURL == "" && betterAuth != "" {
		cfg.Auth.JWKSURL = betterAuth + "/api/auth/jwks"
	}
	if raw.JWKSURL != "" && !isHTTPURL(raw.JWKSURL) {
		p.addf("JWKS_URL must be an http(s) URL, not %q", raw.JWKSURL)
	}
	cfg.Auth.KeysIssuer, cfg.Auth.KeysAudience = firstOf(raw.Issuer, betterAuth), firstOf(raw.Audience, betterAuth)
	cfg.Auth.JWKSRefresh = p.duration("JWKS_REFRESH_INTERVAL", raw.JWKSRefresh)
	cfg.Auth.JWKSMinRefetch = p.durationOrZero("JWKS_MIN_REFETCH_INTERVAL", raw.JWKSMinRefetch)
	cfg.Auth.JWKSFetchTimeout = p.duration("JWKS_FETCH_TIMEOUT", raw.JWKSFetchTimeout)

	switch {
	case raw.Secret != "":
		cfg.Auth.Secret = Secret(raw.Secret)
		if len(cfg.Auth.Secret) < MinSecretBytes {
			p.addf("BETTER_AUTH_SECRET must be at least %d bytes, it has %d", MinSecretBytes, len(cfg.Auth.Secret))
		}
	case cfg.Auth.JWKSURL != "": // asymmetric keys only
	case cfg.Dev:
		cfg.Auth.Secret, cfg.Auth.SecretGenerated = randomSecret(), true
	default:
		p.addf("BETTER_AUTH_SECRET (at least %d bytes) or BETTER_AUTH_URL is required (or run with --dev to generate a secret)", MinSecretBytes)
	}
	cfg.Auth.Leeway = p.durationOrZero("JWT_LEEWAY", raw.Leeway)

	if _, _, err := net.SplitHostPort(cfg.Addr); err != nil {
		p.addf("ADDR must be host:port or :port, not %q", cfg.Addr)
	}
	if err := cfg.LogLevel.UnmarshalText([]byte(raw.LogLevel)); err != nil {
		p.addf("LOG_LEVEL must be debug, info, warn or error, not %q", raw.LogLevel)
	}
	if n, err := strconv.ParseInt(raw.MaxBodyBytes, 10, 64); err != nil || n <= 0 {
		p.addf("MAX_BODY_BYTES must be a positive number of bytes, not %q", raw.MaxBodyBytes)
	} else {
		cfg.MaxBodyBytes = n
	}
	cfg.MaxHeaderBytes = p.count("MAX_HEADER_BYTES", raw.MaxHeaderBytes, 1024, 1<<20)
	cfg.RequestTimeout = p.duration("REQUEST_TIMEOUT", raw.RequestTimeout)
	cfg.ShutdownTimeout = p.duration("SHUTDOWN_TIMEOUT", raw.ShutdownTimeout)

	if rps, err := strconv.ParseFloat(raw.RateLimitRPS, 64); err != nil || rps < 0 || math.IsInf(rps, 0) || math.IsNaN(rps) {
		p.addf("RATE_LIMIT_RPS must be a number of requests per second (0 turns limiting off), not %q", raw.RateLimitRPS)
	} else {
		cfg.RateLimit.RPS = rps
	}
	cfg.RateLimit.Burst = p.count("RATE_LIMIT_BURST", raw.RateLimitBurst, 1, 1_000_000)
	cfg.Metrics = p.bool("METRICS_ENABLED", raw.Metrics)
	if raw.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(raw.PprofAddr); err != nil {
			p.addf("PPROF_ADDR must be host:port, not %q", raw.PprofAddr)
		}
		cfg.PprofAddr = raw.PprofAddr
	}
	if raw.GOGC == "" {
		cfg.GCPercent = DefaultGCPercent
	}
	if raw.RedisURL != "" {
		if _, err := url.Parse(raw.RedisURL); err != nil || !strings.HasPrefix(raw.RedisURL, "redis") {
			p.addf("REDIS_URL must be a redis:// or rediss:// URL")
		}
		cfg.RedisURL = raw.RedisURL
	}
	for _, origin := range strings.Split(raw.CORSOrigins, ",") {
		origin = strings.TrimSpace(origin)
		if origin == "" {
			continue
		}
		if u, err := url.Parse(origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			p.addf("CORS_ALLOWED_ORIGINS must list origins such as https://app.example.com, not %q", origin)
			continue
		}
		cfg.CORSAllowedOrigins = append(cfg.CORSAllowedOrigins, origin)
	}
	cfg.Tracing = p.tracing(raw)

	if len(p) > 0 {
		return Config{}, p
	}
	return cfg, nil
}

// tracing reads the OpenTelemetry variables as the OTel specification defines them: an empty
// value is the same as unset, the traces endpoint is used as is, and the generic endpoint is a
// base to which /v1/traces is appended. Endpoints are not quoted in problems: collector URLs
// can carry credentials.
func (p *problems) tracing(raw env) Tracing {
	t := Tracing{ServiceName: firstOf(raw.ServiceName, "taskapi"), SampleRatio: 1}
	if raw.OTLPEndpoint != "" && !isOTLPURL(raw.OTLPEndpoint) {
		p.addf("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL without credentials or query, such as http://collector:4318")
	}
	if raw.OTLPTracesEndpoint != "" && !isOTLPURL(raw.OTLPTracesEndpoint) {
		p.addf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL without credentials or query, such as http://collector:4318/v1/traces")
	}
	switch {
	case raw.OTLPTracesEndpoint != "":
		t.Endpoint = raw.OTLPTracesEndpoint
	case raw.OTLPEndpoint != "":
		if u, err := url.Parse(raw.OTLPEndpoint); err == nil {
			t.Endpoint = u.JoinPath("v1/traces").String()
		}
	}
	// The sampler is fixed, so that another choice is refused rather than silently ignored.
	if raw.TracesSampler != "" && raw.TracesSampler != "parentbased_traceidratio" {
		p.addf("OTEL_TRACES_SAMPLER must be parentbased_traceidratio (the only sampler taskapi has; set its ratio with OTEL_TRACES_SAMPLER_ARG), not %q", raw.TracesSampler)
	}
	if raw.TracesSamplerArg != "" {
		ratio, err := strconv.ParseFloat(raw.TracesSamplerArg, 64)
		if err != nil || !(ratio >= 0 && ratio <= 1) {
			p.addf("OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not %q", raw.TracesSamplerArg)
		}
		t.SampleRatio = ratio
	}
	return t
}

// isOTLPURL refuses what the exporter would silently drop: it sends to the URL's host and
// path only.
func isOTLPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && isHTTPURL(s) && u.User == nil && u.RawQuery == "" && u.Fragment == ""
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func firstOf(values ...string) string {
	for _, v := range values {
		if v != "" {
			return v
		}
	}
	return ""
}

func randomSecret() Secret {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return Secret(hex.EncodeToString(b))
}

// problems collects every configuration mistake; as an error it lists them all.
type problems []string

func (p *problems) addf(format string, args ...any) { *p = append(*p, fmt.Sprintf(format, args...)) }

func (p problems) Error() string {
	return "invalid configuration:\n  - " + strings.Join(p, "\n  - ")
}

func (p *problems) duration(name, value string) time.Duration {
	d, err := time.ParseDuration(value)
	if err != nil || d <= 0 {
		p.addf("%s must be a positive duration such as 30s or 2m, not %q", name, value)
	}
	return d
}

func (p *problems) durationOrZero(name, value string) time.Duration {
	d, err := time.ParseDuration(value)
	if err != nil || d < 0 {
		p.addf("%s must be a duration such as 0s or 30s, not %q", name, value)
	}
	return d
}

func (p *problems) count(name, value string, low, high int) int {
	n, err := strconv.Atoi(value)
	if err != nil || n < low || n > high {
		p.addf("%s must be a whole number from %d to %d, not %q", name, low, high, value)
	}
	return n
}

func (p *problems) bool(name, value string) bool {
	b, err := strconv.ParseBool(value)
	if err != nil {
		p.addf("%s must be true or false, not %q", name, value)
	}
	return b
}
