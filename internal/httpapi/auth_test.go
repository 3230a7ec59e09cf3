package httpapi_test

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"taskapi/internal/apitest"
)

// sign builds a token with the given claims, signed with key under alg; headers are added
// to the protected header.
func sign(t *testing.T, claims map[string]any, alg jwa.SignatureAlgorithm, key any, headers map[string]any) string {
	t.Helper()
	tok := jwt.New()
	for k, v := range claims {
		if err := tok.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	hdr := jws.NewHeaders()
	for k, v := range headers {
		if err := hdr.Set(k, v); err != nil {
			t.Fatal(err)
		}
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(alg, key, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// unsigned builds a token with a made-up header and no valid signature.
func unsigned(header, claims map[string]any, signature string) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(claims)
	enc := base64.RawURLEncoding.EncodeToString
	return enc(h) + "." + enc(c) + "." + signature
}

func TestAuthFailures(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Leeway: 30 * time.Second})
	now := time.Now()
	valid := func() map[string]any {
		return map[string]any{"sub": "alice", "exp": now.Add(time.Hour).Unix(), "iat": now.Unix()}
	}
	with := func(k string, v any) map[string]any {
		c := valid()
		if v == nil {
			delete(c, k)
		} else {
			c[k] = v
		}
		return c
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	attackerJWK, err := jwk.FromRaw(rsaKey.Public())
	if err != nil {
		t.Fatal(err)
	}
	attackerOct, err := jwk.FromRaw([]byte("attacker-secret-0123456789abcdef-0123"))
	if err != nil {
		t.Fatal(err)
	}
	var fetched atomic.Int32
	keyServer := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fetched.Add(1)
		w.Write([]byte(`{"keys":[]}`))
	}))
	defer keyServer.Close()

	for _, tc := range []struct {
		name   string
		header map[string]string // Authorization header; nil means none
		token  string
		reason string // "" means no error code: the bare challenge
	}{
		{name: "no header", reason: ""},
		{name: "basic scheme", header: map[string]string{"Authorization": "Basic YWxpY2U6cHc="}, reason: ""},
		{name: "bearer without token", header: map[string]string{"Authorization": "Bearer "}, reason: ""},
		{name: "garbage", token: "not-a-token", reason: "malformed token"},
		{name: "two parts", token: "a.b", reason: "malformed token"},
		{name: "four parts", token: "a.b.c.d", reason: "malformed token"},
		{name: "bad base64 header", token: "!!!.e30.sig", reason: "malformed token"},
		{name: "JSON serialization", token: `{"payload":"e30","signatures":[]}`, reason: "malformed token"},
		{name: "wrong secret", token: sign(t, valid(), jwa.HS256, []byte("another-secret-0123456789abcdef-012345"), nil), reason: "invalid token signature"},
		{name: "tampered payload", token: func() string {
			parts := strings.Split(s.Token("alice"), ".")
			parts[1] = base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"bob","exp":4102444800}`))
			return strings.Join(parts, ".")
		}(), reason: "invalid token signature"},
		{name: "alg none", token: unsigned(map[string]any{"alg": "none", "typ": "JWT"}, valid(), ""), reason: "token algorithm not accepted"},
		{name: "alg None", token: unsigned(map[string]any{"alg": "None"}, valid(), ""), reason: "token algorithm not accepted"},
		{name: "HS512 with the secret", token: sign(t, valid(), jwa.HS512, apitest.Secret, nil), reason: "token algorithm not accepted"},
		{name: "HS384 with the secret", token: sign(t, valid(), jwa.HS384, apitest.Secret, nil), reason: "token algorithm not accepted"},
		{name: "RS256 with a jwk header", token: sign(t, valid(), jwa.RS256, rsaKey, map[string]any{"jwk": attackerJWK}), reason: "token algorithm not accepted"},
		{name: "HS256 with jku, x5u and jwk headers", token: sign(t, valid(), jwa.HS256, []byte("attacker-secret-0123456789abcdef-0123"), map[string]any{
			"jku": keyServer.URL, "x5u": keyServer.URL,
			"jwk": attackerOct,
		}), reason: "invalid token signature"},
		{name: "expired", token: sign(t, with("exp", now.Add(-time.Minute).Unix()), jwa.HS256, apitest.Secret, nil), reason: "token expired"},
		{name: "no exp", token: sign(t, with("exp", nil), jwa.HS256, apitest.Secret, nil), reason: "token has no exp claim"},
		{name: "nbf in the future", token: sign(t, with("nbf", now.Add(5*time.Minute).Unix()), jwa.HS256, apitest.Secret, nil), reason: "token not valid yet (nbf)"},
		{name: "iat in the future", token: sign(t, with("iat", now.Add(5*time.Minute).Unix()), jwa.HS256, apitest.Secret, nil), reason: "token issued in the future (iat)"},
		{name: "no sub", token: sign(t, with("sub", nil), jwa.HS256, apitest.Secret, nil), reason: "token has no sub claim"},
		{name: "empty sub", token: sign(t, with("sub", ""), jwa.HS256, apitest.Secret, nil), reason: "token has no sub claim"},
		{name: "numeric sub", token: signedByHand(with("sub", 42)), reason: "malformed token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			header := http.Header{}
			for k, v := range tc.header {
				header.Set(k, v)
			}
			r := s.For(t).Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: tc.token, Header: header})
			p := wantProblem(t, r, http.StatusUnauthorized)
			challenge := r.Header.Get("WWW-Authenticate")
			bare := `Bearer realm="taskapi", resource_metadata="` + s.URL + `/.well-known/oauth-protected-resource"`
			if tc.reason == "" {
				if challenge != bare {
					t.Errorf("WWW-Authenticate %q, want the bare challenge (with the resource metadata)", challenge)
				}
				if p.Detail != "missing bearer token" {
					t.Errorf("detail %q", p.Detail)
				}
			} else {
				want := bare + `, error="invalid_token", error_description="` + tc.reason + `"`
				if challenge != want || p.Detail != tc.reason {
					t.Errorf("WWW-Authenticate %q, detail %q; want reason %q", challenge, p.Detail, tc.reason)
				}
			}
			if tc.token != "" && len(tc.token) > 8 && strings.Contains(string(r.Body)+challenge, tc.token) {
				t.Errorf("the response echoes the token")
			}
		})
	}
	if n := fetched.Load(); n != 0 {
		t.Errorf("the server fetched a key from a token header %d times", n)
	}
}

// signedByHand signs claims that jwx would refuse to build (a numeric sub) with the real
// secret, so only the claim's type is wrong.
func signedByHand(claims map[string]any) string {
	enc := base64.RawURLEncoding.EncodeToString
	c, _ := json.Marshal(claims)
	input := enc([]byte(`{"alg":"HS256","typ":"JWT"}`)) + "." + enc(c)
	mac := hmac.New(sha256.New, apitest.Secret)
	mac.Write([]byte(input))
	return input + "." + enc(mac.Sum(nil))
}

func TestClockSkewLeeway(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Leeway: 30 * time.Second})
	now := time.Now()
	for name, claims := range map[string]map[string]any{
		"expired 10s ago":         {"sub": "a", "exp": now.Add(-10 * time.Second).Unix()},
		"nbf 10s ahead":           {"sub": "a", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(10 * time.Second).Unix()},
		"iat 10s ahead":           {"sub": "a", "exp": now.Add(time.Hour).Unix(), "iat": now.Add(10 * time.Second).Unix()},
		"nbf and iat in the past": {"sub": "a", "exp": now.Add(time.Hour).Unix(), "nbf": now.Add(-time.Hour).Unix(), "iat": now.Add(-time.Hour).Unix()},
	} {
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: sign(t, claims, jwa.HS256, apitest.Secret, nil)})
		if r.Status != http.StatusOK {
			t.Errorf("%s: status %d (%s), want 200 within the leeway", name, r.Status, r.Body)
		}
	}
}

func TestIssuerAndAudience(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{Issuer: "https://auth.example.com", Audience: "https://app.example.com"})
	exp := time.Now().Add(time.Hour).Unix()
	for _, tc := range []struct {
		name   string
		claims map[string]any
		status int
		reason string
	}{
		{"both right, aud a string", map[string]any{"iss": "https://auth.example.com", "aud": "https://app.example.com"}, 200, ""},
		{"aud an array holding ours", map[string]any{"iss": "https://auth.example.com", "aud": []string{"other", "https://app.example.com"}}, 200, ""},
		{"wrong issuer", map[string]any{"iss": "https://evil.example.com", "aud": "https://app.example.com"}, 401, "token issuer mismatch"},
		{"no issuer", map[string]any{"aud": "https://app.example.com"}, 401, "token issuer mismatch"},
		{"wrong audience", map[string]any{"iss": "https://auth.example.com", "aud": "https://evil.example.com"}, 401, "token audience mismatch"},
		{"aud an array without ours", map[string]any{"iss": "https://auth.example.com", "aud": []string{"a", "b"}}, 401, "token audience mismatch"},
		{"no audience", map[string]any{"iss": "https://auth.example.com"}, 401, "token audience mismatch"},
	} {
		tc.claims["sub"], tc.claims["exp"] = "alice", exp
		r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks", Token: sign(t, tc.claims, jwa.HS256, apitest.Secret, nil)})
		if r.Status != tc.status {
			t.Errorf("%s: status %d, want %d (%s)", tc.name, r.Status, tc.status, r.Body)
			continue
		}
		if tc.status == 401 && r.Problem(t).Detail != tc.reason {
			t.Errorf("%s: detail %q, want %q", tc.name, r.Problem(t).Detail, tc.reason)
		}
	}
}

// A token in the query string is not a credential, and auth comes before the body is read.
func TestAuthComesFirstAndOnlyFromTheHeader(t *testing.T) {
	t.Parallel()
	s := apitest.Start(t, apitest.Options{})
	token := s.Token("alice")
	for _, path := range []string{"/api/tasks?access_token=" + token, "/api/tasks?token=" + token} {
		wantProblem(t, s.Do(apitest.Request{Method: http.MethodGet, Path: path}), http.StatusUnauthorized)
	}
	for _, body := range []any{"{not json", `{"title": 123}`, `{"user_id":"x"}`, strings.Repeat("x", 2<<20)} {
		r := s.Do(apitest.Request{Method: http.MethodPost, Path: "/api/tasks", Body: body})
		wantProblem(t, r, http.StatusUnauthorized)
	}
	r := s.Do(apitest.Request{Method: http.MethodGet, Path: "/api/tasks/not-a-uuid"})
	wantProblem(t, r, http.StatusUnauthorized)
}
