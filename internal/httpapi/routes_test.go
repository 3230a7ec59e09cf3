package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"testing"

	"github.com/labstack/echo/v4"

	"taskapi"
	api "taskapi/gen/api"
	"taskapi/internal/auth"
)

// Every route the server answers is an operation of openapi.yaml or on outsideSpec's short
// list, and a route that is neither is caught (New refuses to start with it).
func TestEveryRouteIsInTheSpecOrNamed(t *testing.T) {
	spec, err := api.GetSwagger()
	if err != nil {
		t.Fatal(err)
	}
	verifier, err := auth.NewVerifier(auth.Options{Secret: []byte("routes-test-secret-0123456789abcdef")})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(Deps{Tasks: api.StrictServerInterface(nil), Verifier: verifier, Spec: spec, SpecYAML: taskapi.OpenAPIYAML,
		Logger: slog.New(slog.DiscardHandler), MaxBodyBytes: 1 << 20, MaxHeaderBytes: 1 << 15})
	if err != nil {
		t.Fatal(err)
	}
	k := newContract(spec, 1<<20)
	if missing := k.undocumented(e.Routes()); len(missing) > 0 {
		t.Errorf("routes neither in the spec nor named: %v", missing)
	}
	e.GET("/sneaky", func(c echo.Context) error { return nil })
	if missing := k.undocumented(e.Routes()); len(missing) != 1 || missing[0] != "GET /sneaky" {
		t.Errorf("an undocumented route went unnoticed: %v", missing)
	}
	if len(outsideSpec) > 6 {
		t.Errorf("outsideSpec is meant to be a short list of the server's furniture, it has %d routes", len(outsideSpec))
	}
}

func TestOutsideSpec(t *testing.T) {
	for _, tc := range []struct {
		method, path string
		outside      bool
	}{
		{http.MethodGet, "/docs", true},
		{http.MethodGet, "/docs/swagger-ui.css", true},
		{http.MethodGet, "/redoc", true},
		{http.MethodGet, "/redoc/redoc.standalone.js", true},
		{http.MethodOptions, "/api/tasks", true},
		{http.MethodGet, "/docs/", false},
		{http.MethodGet, "/docs/a/b", false},
		{http.MethodPost, "/docs", false},
		{http.MethodGet, "/api/tasks", false},
		{http.MethodGet, "/openapi.yaml", false},
	} {
		if got := OutsideSpec(tc.method, tc.path); got != tc.outside {
			t.Errorf("OutsideSpec(%s %s) = %v", tc.method, tc.path, got)
		}
	}
}

func TestHasUnknownMember(t *testing.T) {
	fields := map[string]bool{"title": true, "tags": true, "description": true}
	for _, tc := range []struct {
		body    string
		unknown bool
	}{
		{`{}`, false},
		{`{"title":"x"}`, false},
		{` { "title" : "a,\\"b\\":{" , "tags" : ["c,d", "{\\"e\\"}"], "description": null } `, false},
		{`{"title":"x","status":"done"}`, true},
		{`{"title":{"status":1},"tags":[{"x":1}]}`, false},
		{`{"tit\\u006ce":"x"}`, true},
		{`{"description":"\\\\","priority":"high"}`, true},
	} {
		if got := hasUnknownMember([]byte(tc.body), fields); got != tc.unknown {
			t.Errorf("%s: %v, want %v", tc.body, got, tc.unknown)
		}
	}
}

// hasUnknownMember never misses a member: when it says none, decoding finds none.
func FuzzHasUnknownMember(f *testing.F) {
	for _, s := range []string{`{}`, `{"title":"x"}`, `{"title":"x","y":1}`, `{"title":{"a":[1,"]"]}}`, `{"t\"":1}`} {
		f.Add(s)
	}
	fields := map[string]bool{"title": true, "tags": true}
	f.Fuzz(func(t *testing.T, body string) {
		var members map[string]json.RawMessage
		if !json.Valid([]byte(body)) || json.Unmarshal([]byte(body), &members) != nil {
			return
		}
		if hasUnknownMember(bytes.TrimSpace([]byte(body)), fields) {
			return
		}
		for name := range members {
			if !fields[name] {
				t.Errorf("%s: said no unknown member, yet it has %q", body, name)
			}
		}
	})
}
