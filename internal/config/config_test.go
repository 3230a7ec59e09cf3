package config

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var secret = strings.Repeat("s", 32)

// setenv leaves only vars set among the variables Load reads, whatever the machine's
// environment holds; everything is restored after the test.
func setenv(t *testing.T, vars map[string]string) {
	t.Helper()
	for name := range variables() {
		t.Setenv(name, "") // registers the restore
		os.Unsetenv(name)
	}
	for name, value := range vars {
		t.Setenv(name, value)
	}
}

// variables maps each variable Load reads to the type it is read as, from the same tags.
func variables() map[string]reflect.Type {
	vars := map[string]reflect.Type{}
	var walk func(reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			if name := f.Tag.Get("envconfig"); name != "" {
				vars[name] = f.Type
			} else if f.Type.Kind() == reflect.Struct {
				walk(f.Type)
			}
		}
	}
	walk(reflect.TypeFor[Config]())
	walk(reflect.TypeFor[inputs]())
	return vars
}

// problemLines is the error's list of problems, one per line.
func problemLines(err error) []string {
	return strings.Split(strings.TrimPrefix(err.Error(), "invalid configuration:\n  - "), "\n  - ")
}

func TestLoadDefaults(t *testing.T) {
	want := Config{
		DatabaseURL: DevDatabaseURL, DatabaseIsDevDefault: true, MigrateOnStart: true,
		DBConnectTimeout: 30 * time.Second, DBStatementTimeout: 5 * time.Second, DBPooler: "auto",
		Auth: Auth{
			Secret: Secret(secret), Leeway: 30 * time.Second,
			JWKSRefresh: 5 * time.Minute, JWKSMinRefetch: 10 * time.Second, JWKSFetchTimeout: 5 * time.Second,
		},
		Addr: ":8080", LogLevel: slog.LevelInfo, MaxBodyBytes: 1 << 20, MaxHeaderBytes: 32768,
		RequestTimeout: 10 * time.Second, ShutdownTimeout: 15 * time.Second,
		RateLimit: RateLimit{RPS: 20, Burst: 40}, Metrics: true, GCPercent: DefaultGCPercent,
		Tracing:         Tracing{ServiceName: "taskapi", SampleRatio: 1},
		EventsRetention: 7 * 24 * time.Hour, NATS: NATS{Stream: "TASKAPI", SubjectPrefix: "taskapi"},
		ReadAfterWriteWindow: 5 * time.Second,
	}
	setenv(t, map[string]string{"BETTER_AUTH_SECRET": secret})
	cfg, err := Load("", false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("defaults:\n%+v\nwant\n%+v", cfg, want)
	}

	// An empty value is the same as unset for these, as it always was.
	empty := map[string]string{"BETTER_AUTH_SECRET": secret}
	for _, name := range []string{"DATABASE_URL", "MIGRATION_DATABASE_URL", "DATABASE_READ_URL", "DB_QUERY_EXEC_MODE", "BETTER_AUTH_URL",
		"JWKS_URL", "JWT_ISSUER", "JWT_AUDIENCE", "REDIS_URL", "CORS_ALLOWED_ORIGINS", "PPROF_ADDR", "GOGC", "TASKAPI_ENV",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_SERVICE_NAME", "OTEL_TRACES_SAMPLER",
		"OTEL_TRACES_SAMPLER_ARG", "NATS_URL", "PUBLIC_URL"} {
		empty[name] = ""
	}
	setenv(t, empty)
	cfg, err = Load("", false)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("set but empty:\n%+v\nwant\n%+v", cfg, want)
	}
}

func TestLoadAcceptsWhatTheREADMESays(t *testing.T) {
	var (
		dev      = func(c Config) any { return c.Dev }
		level    = func(c Config) any { return c.LogLevel }
		execMode = func(c Config) any { return c.DBQueryExecMode }
		pooler   = func(c Config) any { return c.DBPooler }
	)
	for _, tc := range []struct {
		name, value string
		got         func(Config) any
		want        any
	}{
		{"TASKAPI_ENV", "development", dev, true},
		{"TASKAPI_ENV", "dev", dev, true},
		{"TASKAPI_ENV", "Production", dev, false},
		{"TASKAPI_ENV", "prod", dev, false},
		{"LOG_LEVEL", "DEBUG", level, slog.LevelDebug},
		{"LOG_LEVEL", "Warn", level, slog.LevelWarn},
		{"LOG_LEVEL", "error", level, slog.LevelError},
		{"DB_QUERY_EXEC_MODE", "cache_statement", execMode, "cache_statement"},
		{"DB_QUERY_EXEC_MODE", "cache_describe", execMode, "cache_describe"},
		{"DB_QUERY_EXEC_MODE", "describe_exec", execMode, "describe_exec"},
		{"DB_QUERY_EXEC_MODE", "exec", execMode, "exec"},
		{"DB_QUERY_EXEC_MODE", "simple_protocol", execMode, "simple_protocol"},
		{"DB_POOLER", "auto", pooler, "auto"},
		{"DB_POOLER", "none", pooler, "none"},
		{"DB_POOLER", "transaction", pooler, "transaction"},
		{"DATABASE_URL", "postgres://u:pw@db.example.com/app?sslmode=require&channel_binding=require",
			func(c Config) any { return c.DatabaseIsDevDefault }, false},
		{"DB_STATEMENT_TIMEOUT", "0s", func(c Config) any { return c.DBStatementTimeout }, time.Duration(0)},
		{"JWT_LEEWAY", "0s", func(c Config) any { return c.Auth.Leeway }, time.Duration(0)},
		{"JWKS_MIN_REFETCH_INTERVAL", "0s", func(c Config) any { return c.Auth.JWKSMinRefetch }, time.Duration(0)},
		{"DB_CONNECT_TIMEOUT", "2m", func(c Config) any { return c.DBConnectTimeout }, 2 * time.Minute},
		{"DATABASE_READ_URL", "postgres://u:pw@standby.example.com/app?sslmode=verify-full",
			func(c Config) any { return c.DatabaseReadURL }, "postgres://u:pw@standby.example.com/app?sslmode=verify-full"},
		{"READ_AFTER_WRITE_WINDOW", "250ms", func(c Config) any { return c.ReadAfterWriteWindow }, 250 * time.Millisecond},
		{"DB_MAX_CONNS", "10000", func(c Config) any { return c.DBMaxConns }, int32(10000)},
		{"MAX_BODY_BYTES", "4096", func(c Config) any { return c.MaxBodyBytes }, int64(4096)},
		{"MAX_HEADER_BYTES", "1024", func(c Config) any { return c.MaxHeaderBytes }, 1024},
		{"RATE_LIMIT_RPS", "0", func(c Config) any { return c.RateLimit.RPS }, 0.0}, // limiting off
		{"RATE_LIMIT_RPS", "2.5", func(c Config) any { return c.RateLimit.RPS }, 2.5},
		{"RATE_LIMIT_BURST", "1", func(c Config) any { return c.RateLimit.Burst }, 1},
		{"MIGRATE_ON_START", "false", func(c Config) any { return c.MigrateOnStart }, false},
		{"METRICS_ENABLED", "0", func(c Config) any { return c.Metrics }, false},
		{"GOGC", "off", func(c Config) any { return c.GCPercent }, 0}, // the runtime's to apply, not ours
		{"CORS_ALLOWED_ORIGINS", "https://app.example.com, http://localhost:3000,",
			func(c Config) any { return strings.Join(c.CORSAllowedOrigins, " ") }, "https://app.example.com http://localhost:3000"},
		{"REDIS_URL", "rediss://cache.example.com:6380/0", func(c Config) any { return c.RedisURL }, "rediss://cache.example.com:6380/0"},
		{"PPROF_ADDR", "127.0.0.1:6060", func(c Config) any { return c.PprofAddr }, "127.0.0.1:6060"},
		{"EVENTS_RETENTION", "1h", func(c Config) any { return c.EventsRetention }, time.Hour},
		{"NATS_URL", "nats://127.0.0.1:4222", func(c Config) any { return c.NATS.URL }, "nats://127.0.0.1:4222"},
		{"NATS_URL", "tls://user:pw@a.example.com:4222, nats://b.example.com", func(c Config) any { return c.NATS.URL }, "tls://user:pw@a.example.com:4222, nats://b.example.com"},
		{"NATS_STREAM", "todo_events-1", func(c Config) any { return c.NATS.Stream }, "todo_events-1"},
		{"NATS_SUBJECT_PREFIX", "todo.prod", func(c Config) any { return c.NATS.SubjectPrefix }, "todo.prod"},
		{"PUBLIC_URL", "https://api.example.com/", func(c Config) any { return c.PublicURL }, "https://api.example.com"},
		{"BETTER_AUTH_URL", "https://auth.example.com/", func(c Config) any { return c.Auth.BetterAuthURL }, "https://auth.example.com"},
	} {
		setenv(t, map[string]string{"BETTER_AUTH_SECRET": secret, tc.name: tc.value})
		cfg, err := Load("", false)
		if err != nil {
			t.Errorf("%s=%s: %v", tc.name, tc.value, err)
			continue
		}
		if got := tc.got(cfg); got != tc.want {
			t.Errorf("%s=%s: got %v, want %v", tc.name, tc.value, got, tc.want)
		}
	}
}

func TestLoadNamesEveryProblem(t *testing.T) {
	setenv(t, map[string]string{
		"BETTER_AUTH_SECRET":          "short",
		"MAX_BODY_BYTES":              "-1",
		"LOG_LEVEL":                   "loud",
		"ADDR":                        "localhost",
		"REQUEST_TIMEOUT":             "0s",
		"SHUTDOWN_TIMEOUT":            "forever",
		"JWT_LEEWAY":                  "-5s",
		"MIGRATE_ON_START":            "maybe",
		"TASKAPI_ENV":                 "staging",
		"DATABASE_URL":                "postgres://u:hunter2@[::1",
		"RATE_LIMIT_RPS":              "fast",
		"RATE_LIMIT_BURST":            "0",
		"DB_QUERY_EXEC_MODE":          "turbo",
		"CORS_ALLOWED_ORIGINS":        "https://ok.example.com, app.example.com",
		"REDIS_URL":                   "http://cache",
		"MAX_HEADER_BYTES":            "1",
		"DB_MAX_CONNS":                "-3",
		"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4318",
		"OTEL_TRACES_SAMPLER_ARG":     "all",
		"DB_POOLER":                   "pgcat",
		"EVENTS_RETENTION":            "10m",
		"NATS_URL":                    "http://nats:hunter2@broker:4222",
		"NATS_STREAM":                 "task.events",
		"NATS_SUBJECT_PREFIX":         "taskapi.>",
		"PUBLIC_URL":                  "api.example.com",
		"DATABASE_READ_URL":           "postgres://u:hunter2@[::1",
		"READ_AFTER_WRITE_WINDOW":     "0s",
	})
	_, err := Load("", false)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	for _, name := range []string{"BETTER_AUTH_SECRET", "MAX_BODY_BYTES", "LOG_LEVEL", "ADDR", "REQUEST_TIMEOUT",
		"SHUTDOWN_TIMEOUT", "JWT_LEEWAY", "MIGRATE_ON_START", "TASKAPI_ENV", "DATABASE_URL", "RATE_LIMIT_RPS",
		"RATE_LIMIT_BURST", "DB_QUERY_EXEC_MODE", "CORS_ALLOWED_ORIGINS", "REDIS_URL", "MAX_HEADER_BYTES", "DB_MAX_CONNS",
		"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_TRACES_SAMPLER_ARG", "DB_POOLER", "EVENTS_RETENTION", "NATS_URL", "NATS_STREAM",
		"NATS_SUBJECT_PREFIX", "PUBLIC_URL", "DATABASE_READ_URL", "READ_AFTER_WRITE_WINDOW"} {
		if !strings.Contains(msg, name) {
			t.Errorf("the error does not name %s:\n%s", name, msg)
		}
	}
	if strings.Contains(msg, "hunter2") || strings.Contains(msg, "short\"") {
		t.Errorf("the error leaks a secret:\n%s", msg)
	}
}

func TestOneErrorSaysWhatEachBadValueShouldBe(t *testing.T) {
	setenv(t, map[string]string{
		"BETTER_AUTH_SECRET":      secret,
		"DB_MAX_CONNS":            "many",
		"REQUEST_TIMEOUT":         "soon",
		"MAX_BODY_BYTES":          "-1",
		"LOG_LEVEL":               "loud",
		"DB_POOLER":               "pgcat",
		"MIGRATE_ON_START":        "maybe",
		"METRICS_ENABLED":         "",
		"RATE_LIMIT_RPS":          "-2",
		"RATE_LIMIT_BURST":        "lots",
		"MAX_HEADER_BYTES":        "2000000",
		"JWKS_FETCH_TIMEOUT":      "0s",
		"DB_STATEMENT_TIMEOUT":    "-1s",
		"OTEL_TRACES_SAMPLER_ARG": "2",
		"TASKAPI_ENV":             "staging",
	})
	_, err := Load("", false)
	if err == nil {
		t.Fatal("no error")
	}
	want := []string{
		`TASKAPI_ENV must be development or production, not "staging"`,
		`MIGRATE_ON_START must be true or false, not "maybe"`,
		`DB_STATEMENT_TIMEOUT must be a duration such as 0s or 30s, not "-1s"`,
		`DB_MAX_CONNS must be a whole number from 0 to 10000, not "many"`,
		`DB_POOLER must be auto, none or transaction, not "pgcat"`,
		`JWKS_FETCH_TIMEOUT must be a positive duration such as 30s or 2m, not "0s"`,
		`LOG_LEVEL must be debug, info, warn or error, not "loud"`,
		`MAX_BODY_BYTES must be a positive number of bytes, not "-1"`,
		`MAX_HEADER_BYTES must be a whole number from 1024 to 1048576, not "2000000"`,
		`REQUEST_TIMEOUT must be a positive duration such as 30s or 2m, not "soon"`,
		`RATE_LIMIT_RPS must be a number of requests per second (0 turns limiting off), not "-2"`,
		`RATE_LIMIT_BURST must be a whole number from 1 to 1000000, not "lots"`,
		`METRICS_ENABLED must be true or false, not ""`, // set but empty is not unset for a typed value
		`OTEL_TRACES_SAMPLER_ARG must be a ratio from 0 to 1, not "2"`,
	}
	got := problemLines(err)
	slices.Sort(got)
	slices.Sort(want)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// Every variable that is not text can hold a value that does not convert; each is reported,
// once, with what it expects (a check in Load claims it).
func TestEveryUnconvertibleValueIsNamed(t *testing.T) {
	vars := map[string]string{"BETTER_AUTH_SECRET": secret}
	for name, typ := range variables() {
		if k := typ.Kind(); k != reflect.String && k != reflect.Slice {
			vars[name] = "?"
		}
	}
	setenv(t, vars)
	_, err := Load("", false)
	if err == nil {
		t.Fatal("no error")
	}
	lines := problemLines(err)
	for name, value := range vars {
		if value != "?" {
			continue
		}
		n := 0
		for _, line := range lines {
			if strings.HasPrefix(line, name+" must be ") && strings.HasSuffix(line, `, not "?"`) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s is named %d times:\n%s", name, n, strings.Join(lines, "\n"))
		}
	}
	if len(lines) != len(vars)-1 {
		t.Errorf("%d problems for %d bad values:\n%s", len(lines), len(vars)-1, strings.Join(lines, "\n"))
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
		vars := map[string]string{}
		for name, value := range map[string]string{"BETTER_AUTH_SECRET": tc.secret, "TASKAPI_ENV": tc.environment, "BETTER_AUTH_URL": tc.betterAuth} {
			if value != "" {
				vars[name] = value
			}
		}
		setenv(t, vars)
		cfg, err := Load("", tc.dev)
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
	setenv(t, map[string]string{"ADDR": ":7777"})
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
	setenv(t, map[string]string{"BETTER_AUTH_SECRET": "", "BETTER_AUTH_URL": "https://auth.example.com/"})
	cfg, err := Load("", false)
	if err != nil {
		t.Fatal(err)
	}
	a := cfg.Auth
	if a.JWKSURL != "https://auth.example.com/api/auth/jwks" || a.KeysIssuer != "https://auth.example.com" ||
		a.KeysAudience != "https://auth.example.com" || a.Secret != nil || a.Issuer != "" {
		t.Errorf("BETTER_AUTH_URL alone: %+v", a)
	}

	setenv(t, map[string]string{
		"BETTER_AUTH_SECRET": secret,
		"BETTER_AUTH_URL":    "https://auth.example.com/",
		"JWKS_URL":           "https://keys.example.com/jwks.json",
		"JWT_ISSUER":         "https://issuer.example.com",
		"JWT_AUDIENCE":       "my-api",
	})
	cfg, err = Load("", false)
	if err != nil {
		t.Fatal(err)
	}
	a = cfg.Auth
	if a.JWKSURL != "https://keys.example.com/jwks.json" || a.KeysIssuer != "https://issuer.example.com" ||
		a.KeysAudience != "my-api" || a.Secret == nil {
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
		setenv(t, map[string]string{ // every OTEL_* variable set, empty ones too: empty is the same as unset
			"BETTER_AUTH_SECRET":                 secret,
			"OTEL_EXPORTER_OTLP_ENDPOINT":        tc.endpoint,
			"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": tc.tracesEndpoint,
			"OTEL_SERVICE_NAME":                  tc.service,
			"OTEL_TRACES_SAMPLER":                tc.sampler,
			"OTEL_TRACES_SAMPLER_ARG":            tc.ratio,
		})
		cfg, err := Load("", false)
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
