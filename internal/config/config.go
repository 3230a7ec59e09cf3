// Package config reads taskapi's settings from the environment (and a .env file), once, at
// start. Every bad or missing value is reported together, so one failed start shows them all.
package config

import (
	"cmp"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
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

// DefaultGCPercent replaces Go's GOGC=100 when GOGC is not set. The service keeps a small live
// heap and allocates little per request, so at 100 it collected many times a second under load.
// 150 collects a third less often for a little more peak RSS; 200 saved little more CPU and
// took the peak RSS close to the memory budget (bench, README's Performance). GOGC, read by the
// Go runtime itself, still decides when it is set.
const DefaultGCPercent = 150

// MinSecretBytes is the shortest BETTER_AUTH_SECRET accepted: HS256 with a shorter key is
// brute-forceable.
const MinSecretBytes = 32

// Config is every setting the service uses. A field with an envconfig tag is read from that
// variable (default: its default tag); the others are computed from them by Load.
type Config struct {
	// DatabaseURL is a PostgreSQL URL or key=value string; DevDatabaseURL when unset.
	DatabaseURL string `envconfig:"DATABASE_URL"`
	// DatabaseIsDevDefault is true when DATABASE_URL was unset and DevDatabaseURL is used;
	// only then may the service create its database.
	DatabaseIsDevDefault bool
	// MigrationDatabaseURL is where migrations run: a direct (unpooled) connection, since
	// they take a session advisory lock that a transaction-mode pooler cannot keep.
	MigrationDatabaseURL string `envconfig:"MIGRATION_DATABASE_URL"`
	// DatabaseReadURL, when set, is a hot standby of DatabaseURL that the task list, the
	// reminders and the change feed are read from (see internal/replica).
	DatabaseReadURL string `envconfig:"DATABASE_READ_URL"`
	// ReadAfterWriteWindow is how long after a user's write their reads stay on the primary,
	// and the most the standby may lag and still be read.
	ReadAfterWriteWindow time.Duration `envconfig:"READ_AFTER_WRITE_WINDOW" default:"5s"`
	// MigrateOnStart runs the migrations before serving.
	MigrateOnStart bool `envconfig:"MIGRATE_ON_START" default:"true"`
	// DBConnectTimeout bounds how long start-up keeps retrying an unreachable database.
	DBConnectTimeout time.Duration `envconfig:"DB_CONNECT_TIMEOUT" default:"30s"`
	// DBQueryExecMode is pgx's query exec mode ("" picks one from the URL: see postgres.Open).
	DBQueryExecMode string `envconfig:"DB_QUERY_EXEC_MODE"`
	// DBStatementTimeout is PostgreSQL's statement_timeout for the pool's sessions.
	DBStatementTimeout time.Duration `envconfig:"DB_STATEMENT_TIMEOUT" default:"5s"`
	// DBMaxConns caps the pool (0: four per CPU).
	DBMaxConns int32 `envconfig:"DB_MAX_CONNS" default:"0"`
	// DBPooler is what sits between the service and PostgreSQL: "transaction" for a
	// transaction-mode pooler (PgBouncer, Supavisor), "none" for a direct connection or a
	// session pooler, "auto" to decide from the host name and the server's answers.
	DBPooler string `envconfig:"DB_POOLER" default:"auto"`

	Auth Auth

	Addr            string        `envconfig:"ADDR" default:":8080"`
	LogLevel        slog.Level    `envconfig:"LOG_LEVEL" default:"info"`
	MaxBodyBytes    int64         `envconfig:"MAX_BODY_BYTES" default:"1048576"`
	MaxHeaderBytes  int           `envconfig:"MAX_HEADER_BYTES" default:"32768"`
	RequestTimeout  time.Duration `envconfig:"REQUEST_TIMEOUT" default:"10s"`
	ShutdownTimeout time.Duration `envconfig:"SHUTDOWN_TIMEOUT" default:"15s"`

	// RateLimit is each user's token bucket; a zero Rate turns limiting off.
	RateLimit RateLimit
	// RedisURL, when set, keeps the rate-limit buckets in Redis, shared by every instance.
	RedisURL string `envconfig:"REDIS_URL"`
	// EventsRetention is how long the events of the change feed are kept.
	EventsRetention time.Duration `envconfig:"EVENTS_RETENTION" default:"168h"`
	// NATS, when its URL is set, receives every event (Phase V).
	NATS NATS
	// PublicURL is where clients reach the API, for the metadata MCP clients read (the
	// request's own host when empty).
	PublicURL string `envconfig:"PUBLIC_URL"`
	// CORSAllowedOrigins are the exact origins browsers may call the API from.
	CORSAllowedOrigins []string `envconfig:"CORS_ALLOWED_ORIGINS"`
	// Metrics serves /metrics and records what it reports.
	Metrics bool `envconfig:"METRICS_ENABLED" default:"true"`
	// PprofAddr, when set, serves Go's profiler (net/http/pprof) there; keep it on localhost.
	PprofAddr string `envconfig:"PPROF_ADDR"`
	// GCPercent is the garbage collector's target (debug.SetGCPercent) when GOGC is unset;
	// 0 when it is set, the Go runtime having applied it already.
	GCPercent int
	// Tracing exports OpenTelemetry traces; off unless an OTLP endpoint is set.
	Tracing Tracing

	// Dev is the development mode (--dev or TASKAPI_ENV=development).
	Dev bool
}

// NATS is where the events are published: to NATS JetStream, as CloudEvents, on
// <SubjectPrefix>.task-events and <SubjectPrefix>.reminders, in the stream that holds those
// subjects (Stream, made when none does).
type NATS struct {
	URL           string `envconfig:"NATS_URL"`
	Stream        string `envconfig:"NATS_STREAM" default:"TASKAPI"`
	SubjectPrefix string `envconfig:"NATS_SUBJECT_PREFIX" default:"taskapi"`
}

// Auth is how bearer tokens are verified: with the shared Secret (HS256), with the keys at
// JWKSURL (Better Auth's jwt plugin), or both.
type Auth struct {
	Secret Secret `envconfig:"BETTER_AUTH_SECRET"`
	// SecretGenerated is true when --dev made up a secret for this run.
	SecretGenerated bool
	// Issuer and Audience are JWT_ISSUER and JWT_AUDIENCE: checked on every token when set.
	Issuer   string        `envconfig:"JWT_ISSUER"`
	Audience string        `envconfig:"JWT_AUDIENCE"`
	Leeway   time.Duration `envconfig:"JWT_LEEWAY" default:"30s"`

	// JWKSURL is JWKS_URL, or BETTER_AUTH_URL + /api/auth/jwks; "" means no JWKS mode.
	JWKSURL string `envconfig:"JWKS_URL"`
	// BetterAuthURL is BETTER_AUTH_URL without a trailing slash: where the tokens come from.
	BetterAuthURL string
	// KeysIssuer and KeysAudience are what JWKS-signed tokens must carry: JWT_ISSUER and
	// JWT_AUDIENCE when set, else BETTER_AUTH_URL (Better Auth's defaults).
	KeysIssuer   string
	KeysAudience string
	// JWKSRefresh, JWKSMinRefetch and JWKSFetchTimeout tune the key cache.
	JWKSRefresh      time.Duration `envconfig:"JWKS_REFRESH_INTERVAL" default:"5m"`
	JWKSMinRefetch   time.Duration `envconfig:"JWKS_MIN_REFETCH_INTERVAL" default:"10s"`
	JWKSFetchTimeout time.Duration `envconfig:"JWKS_FETCH_TIMEOUT" default:"5s"`
}

// Tracing is OpenTelemetry tracing, computed from the standard OTEL_* variables.
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
	RPS   float64 `envconfig:"RATE_LIMIT_RPS" default:"20"`
	Burst int     `envconfig:"RATE_LIMIT_BURST" default:"40"`
}

// Secret is key material. It never prints, so it cannot leak into a log by accident.
type Secret []byte

func (Secret) String() string               { return "[redacted]" }
func (Secret) GoString() string             { return "[redacted]" }
func (Secret) LogValue() slog.Value         { return slog.StringValue("[redacted]") }
func (Secret) MarshalText() ([]byte, error) { return []byte("[redacted]"), nil }

// inputs are the variables that only feed Config's computed fields. TASKAPI_ENV and the
// OTEL_* ones count an empty value as unset (OpenTelemetry specifies it for its variables),
// which envconfig's default tag cannot say: it applies only to an unset variable. So they are
// read as text and given their defaults in Load.
type inputs struct {
	Environment   string `envconfig:"TASKAPI_ENV"`
	BetterAuthURL string `envconfig:"BETTER_AUTH_URL"`
	GOGC          string `envconfig:"GOGC"`
	OTel          otel
}

// otel is the OpenTelemetry variables that Tracing is computed from.
type otel struct {
	Endpoint       string `envconfig:"OTEL_EXPORTER_OTLP_ENDPOINT"`
	TracesEndpoint string `envconfig:"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"`
	ServiceName    string `envconfig:"OTEL_SERVICE_NAME"`
	Sampler        string `envconfig:"OTEL_TRACES_SAMPLER"`
	SamplerArg     string `envconfig:"OTEL_TRACES_SAMPLER_ARG"`
}

// Load reads dotenvPath if it exists (variables already set win), then the environment.
// dev forces development mode, as --dev does.
func Load(dotenvPath string, dev bool) (Config, error) {
	if dotenvPath != "" {
		if err := godotenv.Load(dotenvPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("reading %s: %w", dotenvPath, err)
		}
	}
	var (
		cfg Config
		in  inputs
		p   = problems{unread: map[string]string{}}
	)
	p.read(reflect.ValueOf(&cfg).Elem())
	p.read(reflect.ValueOf(&in).Elem())

	switch strings.ToLower(in.Environment) {
	case "development", "dev":
		cfg.Dev = true
	case "production", "prod", "":
	default:
		p.addf("TASKAPI_ENV must be development or production, not %q", in.Environment)
	}
	cfg.Dev = cfg.Dev || dev
	if in.GOGC == "" {
		cfg.GCPercent = DefaultGCPercent
	}
	p.database(&cfg)
	p.auth(&cfg.Auth, in.BetterAuthURL, cfg.Dev)
	p.server(&cfg)
	cfg.Tracing = p.tracing(in.OTel)

	if len(p.list) > 0 {
		return Config{}, errors.New("invalid configuration:\n  - " + strings.Join(p.list, "\n  - "))
	}
	return cfg, nil
}

func (p *problems) database(c *Config) {
	if c.DatabaseURL == "" {
		c.DatabaseURL, c.DatabaseIsDevDefault = DevDatabaseURL, true
	} else if _, err := pgconn.ParseConfig(c.DatabaseURL); err != nil {
		// pgconn's message can quote the URL, password included, so it is not repeated.
		p.addf("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	if c.MigrationDatabaseURL != "" {
		if _, err := pgconn.ParseConfig(c.MigrationDatabaseURL); err != nil {
			p.addf("MIGRATION_DATABASE_URL is not a valid PostgreSQL connection string")
		}
	}
	if c.DatabaseReadURL != "" {
		if _, err := pgconn.ParseConfig(c.DatabaseReadURL); err != nil {
			p.addf("DATABASE_READ_URL is not a valid PostgreSQL connection string")
		}
	}
	p.positive("READ_AFTER_WRITE_WINDOW", c.ReadAfterWriteWindow)
	p.check("MIGRATE_ON_START", true, "true or false", c.MigrateOnStart)
	p.positive("DB_CONNECT_TIMEOUT", c.DBConnectTimeout)
	p.check("DB_QUERY_EXEC_MODE",
		slices.Contains([]string{"", "cache_statement", "cache_describe", "describe_exec", "exec", "simple_protocol"}, c.DBQueryExecMode),
		"cache_statement, cache_describe, describe_exec, exec or simple_protocol", c.DBQueryExecMode)
	p.notNegative("DB_STATEMENT_TIMEOUT", c.DBStatementTimeout)
	p.count("DB_MAX_CONNS", int(c.DBMaxConns), 0, 10000)
	p.check("DB_POOLER", slices.Contains([]string{"auto", "none", "transaction"}, c.DBPooler),
		"auto, none or transaction", c.DBPooler)
}

func (p *problems) auth(a *Auth, betterAuthURL string, dev bool) {
	base := strings.TrimRight(betterAuthURL, "/")
	p.check("BETTER_AUTH_URL", base == "" || isHTTPURL(base), "the http(s) base URL of Better Auth", betterAuthURL)
	p.check("JWKS_URL", a.JWKSURL == "" || isHTTPURL(a.JWKSURL), "an http(s) URL", a.JWKSURL)
	if a.JWKSURL == "" && base != "" {
		a.JWKSURL = base + "/api/auth/jwks"
	}
	a.BetterAuthURL = base
	a.KeysIssuer, a.KeysAudience = cmp.Or(a.Issuer, base), cmp.Or(a.Audience, base)
	p.positive("JWKS_REFRESH_INTERVAL", a.JWKSRefresh)
	p.notNegative("JWKS_MIN_REFETCH_INTERVAL", a.JWKSMinRefetch)
	p.positive("JWKS_FETCH_TIMEOUT", a.JWKSFetchTimeout)
	p.notNegative("JWT_LEEWAY", a.Leeway)

	switch {
	case len(a.Secret) > 0:
		if len(a.Secret) < MinSecretBytes {
			p.addf("BETTER_AUTH_SECRET must be at least %d bytes, it has %d", MinSecretBytes, len(a.Secret))
		}
	case a.JWKSURL != "": // asymmetric keys only
		a.Secret = nil // set but empty is no secret
	case dev:
		a.Secret, a.SecretGenerated = randomSecret(), true
	default:
		p.addf("BETTER_AUTH_SECRET (at least %d bytes) or BETTER_AUTH_URL is required (or run with --dev to generate a secret)", MinSecretBytes)
	}
}

func (p *problems) server(c *Config) {
	p.check("ADDR", isHostPort(c.Addr), "host:port or :port", c.Addr)
	p.check("LOG_LEVEL", true, "debug, info, warn or error", c.LogLevel)
	p.check("MAX_BODY_BYTES", c.MaxBodyBytes > 0, "a positive number of bytes", c.MaxBodyBytes)
	p.count("MAX_HEADER_BYTES", c.MaxHeaderBytes, 1024, 1<<20)
	p.positive("REQUEST_TIMEOUT", c.RequestTimeout)
	p.positive("SHUTDOWN_TIMEOUT", c.ShutdownTimeout)
	p.check("EVENTS_RETENTION", c.EventsRetention >= time.Hour, "a duration of at least 1h, such as 168h (7 days)", c.EventsRetention)

	if c.NATS.URL != "" { // a server, or several separated by commas (a cluster's)
		for _, server := range strings.Split(c.NATS.URL, ",") {
			if u, err := url.Parse(strings.TrimSpace(server)); err != nil || u.Host == "" || (u.Scheme != "nats" && u.Scheme != "tls") {
				p.addf("NATS_URL must be nats:// or tls:// URLs separated by commas, such as nats://127.0.0.1:4222")
				break
			}
		}
	}
	p.check("NATS_STREAM", natsName.MatchString(c.NATS.Stream), "a JetStream stream name: letters, digits, - and _", c.NATS.Stream)
	p.check("NATS_SUBJECT_PREFIX", natsSubject.MatchString(c.NATS.SubjectPrefix), "NATS subject tokens separated by dots, without wildcards", c.NATS.SubjectPrefix)

	rps := c.RateLimit.RPS
	p.check("RATE_LIMIT_RPS", rps >= 0 && !math.IsInf(rps, 1), // NaN is not >= 0
		"a number of requests per second (0 turns limiting off)", rps)
	p.count("RATE_LIMIT_BURST", c.RateLimit.Burst, 1, 1_000_000)
	p.check("METRICS_ENABLED", true, "true or false", c.Metrics)
	p.check("PPROF_ADDR", c.PprofAddr == "" || isHostPort(c.PprofAddr), "host:port", c.PprofAddr)
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	p.check("PUBLIC_URL", c.PublicURL == "" || isHTTPURL(c.PublicURL), "the http(s) URL clients reach the API at, such as https://api.example.com", c.PublicURL)
	if c.RedisURL != "" {
		if _, err := url.Parse(c.RedisURL); err != nil || !strings.HasPrefix(c.RedisURL, "redis") {
			p.addf("REDIS_URL must be a redis:// or rediss:// URL")
		}
	}

	// envconfig splits the list on commas; the spaces around them and empty items are ours to drop.
	var origins []string
	for _, origin := range c.CORSAllowedOrigins {
		origin = strings.TrimSpace(origin)
		if origin == "" {
			continue
		}
		if u, err := url.Parse(origin); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" {
			p.addf("CORS_ALLOWED_ORIGINS must list origins such as https://app.example.com, not %q", origin)
			continue
		}
		origins = append(origins, origin)
	}
	c.CORSAllowedOrigins = origins
}

var (
	natsName    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	natsSubject = regexp.MustCompile(`^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$`)
)

// tracing reads the OpenTelemetry variables as the OTel specification defines them: an empty
// value is the same as unset, the traces endpoint is used as is, and the generic endpoint is a
// base to which /v1/traces is appended. Endpoints are not quoted in problems: collector URLs
// can carry credentials.
func (p *problems) tracing(o otel) Tracing {
	t := Tracing{ServiceName: cmp.Or(o.ServiceName, "taskapi"), SampleRatio: 1}
	if o.Endpoint != "" && !isOTLPURL(o.Endpoint) {
		p.addf("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL without credentials or query, such as http://collector:4318")
	}
	if o.TracesEndpoint != "" && !isOTLPURL(o.TracesEndpoint) {
		p.addf("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http(s) URL without credentials or query, such as http://collector:4318/v1/traces")
	}
	switch {
	case o.TracesEndpoint != "":
		t.Endpoint = o.TracesEndpoint
	case o.Endpoint != "":
		if u, err := url.Parse(o.Endpoint); err == nil {
			t.Endpoint = u.JoinPath("v1/traces").String()
		}
	}
	// The sampler is fixed, so that another choice is refused rather than silently ignored.
	if o.Sampler != "" && o.Sampler != "parentbased_traceidratio" {
		p.addf("OTEL_TRACES_SAMPLER must be parentbased_traceidratio (the only sampler taskapi has; set its ratio with OTEL_TRACES_SAMPLER_ARG), not %q", o.Sampler)
	}
	if o.SamplerArg != "" {
		ratio, err := strconv.ParseFloat(o.SamplerArg, 64)
		p.check("OTEL_TRACES_SAMPLER_ARG", err == nil && ratio >= 0 && ratio <= 1, "a ratio from 0 to 1", o.SamplerArg)
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

func isHostPort(s string) bool {
	_, _, err := net.SplitHostPort(s)
	return err == nil
}

func randomSecret() Secret {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on supported platforms
	return Secret(hex.EncodeToString(b))
}

// problems collects every configuration mistake, so that one error can list them all.
type problems struct {
	list []string
	// unread is the text of each variable that envconfig could not convert, kept for the
	// check that says what that variable expects.
	unread map[string]string
}

// read fills each field of the struct v that has an envconfig tag, and the fields of its
// untagged struct fields. envconfig.Process stops at the first value it cannot convert, so it
// is given one field at a time (a struct of just that field) and the others are still read.
func (p *problems) read(v reflect.Value) {
	for i := range v.NumField() {
		field, f := v.Field(i), v.Type().Field(i)
		name := f.Tag.Get("envconfig")
		switch {
		case name != "":
			one := reflect.New(reflect.StructOf([]reflect.StructField{{Name: f.Name, Type: f.Type, Tag: f.Tag}}))
			if err := envconfig.Process("", one.Interface()); err != nil {
				// With one field and none required, converting its value is all that can fail.
				p.unread[name] = err.(*envconfig.ParseError).Value
				continue
			}
			field.Set(one.Elem().Field(0))
		case f.Type.Kind() == reflect.Struct:
			p.read(field)
		}
	}
}

func (p *problems) addf(format string, args ...any) {
	p.list = append(p.list, fmt.Sprintf(format, args...))
}

// check reports the variable name, saying what it expects, when its value could not be
// converted or is not ok (ok is true where any value that converts will do). value is quoted,
// so it must never be a secret or a URL that may carry a password (the database, Redis and
// collector URLs).
func (p *problems) check(name string, ok bool, expected string, value any) {
	text, unread := p.unread[name]
	switch {
	case unread:
	case ok:
		return
	default:
		text = fmt.Sprint(value)
	}
	p.addf("%s must be %s, not %q", name, expected, text)
}

func (p *problems) positive(name string, d time.Duration) {
	p.check(name, d > 0, "a positive duration such as 30s or 2m", d)
}

func (p *problems) notNegative(name string, d time.Duration) {
	p.check(name, d >= 0, "a duration such as 0s or 30s", d)
}

func (p *problems) count(name string, n, low, high int) {
	p.check(name, low <= n && n <= high, fmt.Sprintf("a whole number from %d to %d", low, high), n)
}
