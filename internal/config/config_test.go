package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// defaults is the raw environment with nothing set but a valid secret: every field at its
// default tag, as envconfig would fill it.
func defaults() env {
	var raw env
	v := reflect.ValueOf(&raw).Elem()
	for i := range v.NumField() {
		v.Field(i).SetString(v.Type().Field(i).Tag.Get("default"))
	}
	raw.Secret = strings.Repeat("s", 32)
	return raw
}

func TestParse(t *testing.T) {
	cfg, err := parse(defaults(), false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseURL != DevDatabaseURL || !cfg.DatabaseIsDevDefault || cfg.Addr != ":8080" || cfg.MaxBodyBytes != 1<<20 ||
		cfg.LogLevel != slog.LevelInfo || cfg.Auth.Leeway != 30*time.Second || cfg.Dev || !cfg.MigrateOnStart ||
		cfg.GCPercent != DefaultGCPercent {
		t.Errorf("defaults: %+v", cfg)
	}

	raw := defaults()
	raw.DatabaseURL = "postgres://u:pw@db.example.com/app?sslmode=require&channel_binding=require"
	raw.LogLevel = "DEBUG"
	raw.Leeway = "0s"
	raw.CORSOrigins = "https://app.example.com, http://localhost:3000"
	raw.RateLimitRPS = "0"
	raw.DBQueryExecMode = "simple_protocol"
	raw.GOGC = "off" // the runtime's to apply, not ours
	cfg, err = parse(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.DatabaseIsDevDefault || cfg.LogLevel != slog.LevelDebug || cfg.Auth.Leeway != 0 || cfg.RateLimit.RPS != 0 ||
		cfg.DBQueryExecMode != "simple_protocol" || cfg.GCPercent != 0 || strings.Join(cfg.CORSAllowedOrigins, " ") != "https://app.example.com http://localhost:3000" {
		t.Errorf("explicit values: %+v", cfg)
	}
}

func TestParseNamesEveryProblem(t *testing.T) {
	raw := defaults()
	raw.Secret = "short"
	raw.MaxBodyBytes = "-1"
	raw.LogLevel = "loud"
	raw.Addr = "localhost"
	raw.RequestTimeout = "0s"
	raw.ShutdownTimeout = "forever"
	raw.Leeway = "-5s"
	raw.MigrateOnStart = "maybe"
	raw.Environment = "staging"
	raw.DatabaseURL = "postgres://u:hunter2@[::1"
	raw.RateLimitRPS = "fast"
	raw.RateLimitBurst = "0"
	raw.DBQueryExecMode = "turbo"
	raw.CORSOrigins = "https://ok.example.com, app.example.com"
	raw.RedisURL = "http://cache"
	raw.MaxHeaderBytes = "1"
	raw.DBMaxConns = "-3"
	raw.DBPooler = "sometimes"
	raw.OTLPEndpoint = "collector:4318"
	raw.TracesSamplerArg = "all"
	_, err := parse(raw, false)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, name := range []string{"BETTER_AUTH_SECRET", "MAX_BODY_BYTES", "LOG_LEVEL", "ADDR", "REQUEST_TIMEOUT",
		"SHUTDOWN_TIMEOUT", "JWT_LEEWAY", "MIGRATE_ON_START", "TASKAPI_ENV", "DATABASE_URL", "RATE_LIMIT_RPS",
		"RATE_LIMIT_BURST", "DB_QUERY_EXEC_MODE", "CORS_ALLOWED_ORIGINS", "REDIS_URL", "MAX_HEADER_BYTES", "DB_MAX_CONNS", "DB_POOLER",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER_ARG"} {
		if !strings.Contains(msg, name) {
			t.Errorf("the error does not name %s:\n%s", name, msg)
		}
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "short\"") {
		t.Errorf("the error leaks a secret:\n%s", msg)
	}
}

func TestSecret(t *testing.T) {
	for _, tc := range []struct {
		secret, environment string
		betterAuth          string
		dev                 bool
		ok, generated       bool
	}{
		{secret: strings.Repeat("x", 32), ok: true},
		{secret: strings.Repeat("x", 31)},
		{secret: ""},
		{secret: "", dev: true, ok: true, generated: true},
		{secret: "", environment: "development", ok: true, generated: true},
		{secret: strings.Repeat("é", 16), ok: true},                    // 32 bytes: the rule counts bytes, the key is bytes
		{secret: strings.Repeat("x", 31), dev: true},                   // --dev does not excuse a short secret
		{secret: "", betterAuth: "https://auth.example.com", ok: true}, // JWKS only
		{secret: "", betterAuth: "auth.example.com"},                   // not a URL
	} {
		raw := defaults()
		raw.Secret = tc.secret
		raw.BetterAuthURL = tc.betterAuth
		if tc.environment != "" {
			raw.Environment = tc.environment
		}
		cfg, err := parse(raw, tc.dev)
		if (err == nil) != tc.ok {
			t.Errorf("%+v: err %v", tc, err)
			continue
		}
		if tc.ok && tc.betterAuth == "" && (cfg.Auth.SecretGenerated != tc.generated || len(cfg.Auth.Secret) < MinSecretBytes) {
			t.Errorf("%+v: generated %v, %d bytes", tc, cfg.Auth.SecretGenerated, len(cfg.Auth.Secret))
		}
	}
}

func TestSecretNeverPrints(t *testing.T) {
	s := Secret("super-secret-value-0123456789abcdef")
	var b strings.Builder
	slog.New(slog.NewJSONHandler(&b, nil)).Info("x", "secret", s, "auth", Auth{Secret: s})
	fmt.Fprintf(&b, "%v %+v %#v %s", s, Auth{Secret: s}, s, s)
	if strings.Contains(b.String(), "super-secret") {
		t.Errorf("the secret printed: %s", b.String())
	}
}

func TestDotEnvIsHonouredButTheEnvironmentWins(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".env")
	content := "BETTER_AUTH_SECRET=from-dotenv-0123456789abcdef-0123456789\nADDR=:9999\nLOG_LEVEL=warn\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("BETTER_AUTH_SECRET", "")
	os.Unsetenv("BETTER_AUTH_SECRET")
	t.Setenv("ADDR", ":7777")
	os.Unsetenv("LOG_LEVEL")
	t.Cleanup(func() { os.Unsetenv("LOG_LEVEL") })
	cfg, err := Load(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if string(cfg.Auth.Secret) != "from-dotenv-0123456789abcdef-0123456789" || cfg.Addr != ":7777" || cfg.LogLevel != slog.LevelWarn {
		t.Errorf("cfg %+v (addr %s)", cfg, cfg.Addr)
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.env"), true); err != nil {
		t.Errorf("a missing .env is an error: %v", err)
	}
}

func TestBetterAuthURLConfiguresJWKS(t *testing.T) {
	raw := defaults()
	raw.Secret = ""
	raw.BetterAuthURL = "https://auth.example.com/"
	cfg, err := parse(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Auth
	if a.JWKSURL != "https://auth.example.com/api/auth/jwks" || a.KeysIssuer != "https://auth.example.com" ||
		a.KeysAudience != "https://auth.example.com" || a.Secret != nil || a.Issuer != "" {
		t.Errorf("BETTER_AUTH_URL alone: %+v", a)
	}
	raw.JWKSURL = "https://keys.example.com/jwks.json"
	raw.Issuer, raw.Audience = "https://issuer.example.com", "my-api"
	raw.Secret = strings.Repeat("s", 32)
	cfg, err = parse(raw, false)
	if err != nil {
		t.Fatal(err)
	}
	a = cfg.Auth
	if a.JWKSURL != raw.JWKSURL || a.KeysIssuer != raw.Issuer || a.KeysAudience != "my-api" || a.Secret == nil {
		t.Errorf("overrides and both modes: %+v", a)
	}
}

func TestTracing(t *testing.T) {
	for _, tc := range []struct {
		name                                       string
		endpoint, tracesEndpoint, service, sampler string
		ratio                                      string
		want                                       Tracing
		problem                                    string // a variable the error must name; "" for none
	}{
		{name: "off by default", want: Tracing{ServiceName: "taskapi", SampleRatio: 1}},
		{name: "generic endpoint gets the traces path", endpoint: "http://collector:4318",
			want: Tracing{Endpoint: "http://collector:4318/v1/traces", ServiceName: "taskapi", SampleRatio: 1}},
		{name: "generic endpoint with a base path", endpoint: "https://otel.example.com/otlp/",
			want: Tracing{Endpoint: "https://otel.example.com/otlp/v1/traces", ServiceName: "taskapi", SampleRatio: 1}},
		{name: "traces endpoint used as is", tracesEndpoint: "http://collector:4318/custom",
			want: Tracing{Endpoint: "http://collector:4318/custom", ServiceName: "taskapi", SampleRatio: 1}},
		{name: "traces endpoint wins", endpoint: "http://generic:4318", tracesEndpoint: "http://traces:4318/v1/traces",
			want: Tracing{Endpoint: "http://traces:4318/v1/traces", ServiceName: "taskapi", SampleRatio: 1}},
		{name: "service name and ratio", endpoint: "http://collector:4318", service: "taskapi-eu", sampler: "parentbased_traceidratio", ratio: "0.25",
			want: Tracing{Endpoint: "http://collector:4318/v1/traces", ServiceName: "taskapi-eu", SampleRatio: 0.25}},
		{name: "a ratio of 0 records only what callers sampled", ratio: "0", want: Tracing{ServiceName: "taskapi", SampleRatio: 0}},
		{name: "generic endpoint not a URL", endpoint: "otel.internal:4318", problem: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "traces endpoint not http", tracesEndpoint: "grpc://collector:4317", problem: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{name: "a bad generic endpoint is reported even when the traces one wins", endpoint: "nope", tracesEndpoint: "http://traces:4318",
			problem: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "credentials would not be sent", endpoint: "https://user:pw@collector:4318", problem: "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{name: "a query would not be sent", tracesEndpoint: "https://collector:4318/v1/traces?key=k", problem: "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"},
		{name: "ratio above 1", ratio: "1.5", problem: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "ratio not a number", ratio: "half", problem: "OTEL_TRACES_SAMPLER_ARG"},
		{name: "another sampler", sampler: "always_off", problem: "OTEL_TRACES_SAMPLER"},
	} {
		raw := defaults()
		raw.OTLPEndpoint, raw.OTLPTracesEndpoint, raw.TracesSampler = tc.endpoint, tc.tracesEndpoint, tc.sampler
		raw.ServiceName, raw.TracesSamplerArg = tc.service, tc.ratio // empty is the same as unset
		cfg, err := parse(raw, false)
		if tc.problem != "" {
			if err == nil || !strings.Contains(err.Error(), tc.problem) {
				t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.problem)
			} else if tc.endpoint+tc.tracesEndpoint != "" && strings.Contains(err.Error(), tc.endpoint+tc.tracesEndpoint) {
				t.Errorf("%s: the error quotes the endpoint, which may hold credentials: %v", tc.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if cfg.Tracing != tc.want {
			t.Errorf("%s: %+v, want %+v", tc.name, cfg.Tracing, tc.want)
		}
	}
}
