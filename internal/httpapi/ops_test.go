package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"taskapi"
	"taskapi/internal/apitest"
)

func TestHealthAndReadiness(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})

	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"})
	wantStatus(t, r, http.StatusOK)

	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"})
	wantStatus(t, r, http.StatusOK)
	var ready struct {
		Status string
		Checks map[string]string
	}
	r.JSON(t, &ready)
	if ready.Checks["database"] != "ok" || ready.Checks["auth"] != "hs256: shared secret" {
		t.Errorf("readiness %s", r.Body)
	}

	// With the database gone the process is still alive but not ready.
	s.Pool.Close()
	wantStatus(t, s.Do(apitest.Request{Method: http.MethodGet, Path: "/healthz"}), http.StatusOK)
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/readyz"})
	wantProblem(t, r, http.StatusServiceUnavailable)
	var notReady struct{ Checks map[string]string }
	r.JSON(t, &notReady)
	if notReady.Checks["database"] != "unreachable" || r.Header.Get("Retry-After") == "" {
		t.Errorf("not ready: %s (Retry-After %q)", r.Body, r.Header.Get("Retry-After"))
	}
	// And the API says so with a 503 the client may retry, not a 500.
	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: s.Token("alice")})
	wantProblem(t, r, http.StatusServiceUnavailable)
}

func TestSpecIsServed(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})

	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/openapi.yaml"})
	wantStatus(t, r, http.StatusOK)
	if !bytes.Equal(r.Body, taskapi.OpenAPIYAML) {
		t.Error("/openapi.yaml is not the committed file byte for byte")
	}

	r = s.Do(apitest.Request{Method: http.MethodGet, Path: "/openapi.json"})
	wantStatus(t, r, http.StatusOK)
	fromJSON, err := openapi3.NewLoader().LoadFromData(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	fromYAML, err := apitest.LoadSpec()
	if err != nil {
		t.Fatal(err)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if !bytes.Equal(a, b) {
		t.Error("/openapi.json is not the same document as openapi.yaml")
	}
}

// The docs pages and everything they load come from this server: no CDN.
func TestDocsAreSelfContained(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	assetRef := regexp.MustCompile(`(?:src|href)="([^"]+)"`)
	for _, page := range []string{"/docs", "/redoc"} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: page})
		wantStatus(t, r, http.StatusOK)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
			t.Errorf("%s: Content-Type %q", page, r.Header.Get("Content-Type"))
		}
		if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "connect-src 'self'") {
			t.Errorf("%s: Content-Security-Policy %q", page, csp)
		}
		refs := assetRef.FindAllStringSubmatch(string(r.Body), -1)
		if len(refs) == 0 {
			t.Errorf("%s loads nothing?", page)
		}
		for _, ref := range refs {
			if !strings.HasPrefix(ref[1], "/") || strings.HasPrefix(ref[1], "//") {
				t.Errorf("%s loads %s from elsewhere", page, ref[1])
				continue
			}
			asset := s.Do(apitest.Request{Method: http.MethodGet, Path: ref[1]})
			if asset.Status != http.StatusOK || len(asset.Body) == 0 {
				t.Errorf("%s: %s -> %d", page, ref[1], asset.Status)
			}
		}
	}
	if bundle := s.Do(apitest.Request{Method: http.MethodGet, Path: "/redoc/redoc.standalone.js"}); strings.Contains(string(bundle.Body), "cdn.redoc.ly") {
		t.Error("the ReDoc bundle still loads its logo from cdn.redoc.ly")
	}
	init := s.Do(apitest.Request{Method: http.MethodGet, Path: "/docs/swagger-initializer.js"})
	wantStatus(t, init, http.StatusOK)
	for _, want := range []string{`url: "/openapi.json"`, "persistAuthorization: true", "validatorUrl: null"} {
		if !strings.Contains(string(init.Body), want) {
			t.Errorf("the Swagger UI initializer lacks %s", want)
		}
	}
	// Swagger UI's Authorize button offers a bearer token because the spec declares one.
	spec, _ := apitest.LoadSpec()
	if scheme := spec.Components.SecuritySchemes["bearerAuth"].Value; scheme.Type != "http" || scheme.Scheme != "bearer" {
		t.Errorf("security scheme %+v", scheme)
	}
	for _, missing := range []string{"/docs/nope.js", "/redoc/nope.js", "/docs/..%2F..%2Fgo.mod"} {
		wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: missing}), http.StatusNotFound)
	}
}
