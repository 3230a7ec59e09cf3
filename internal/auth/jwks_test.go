package auth

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"taskapi/internal/problem"
)

const issuer = "https://auth.example.com"

// signer is a private key as Better Auth holds it, and its public JWK as the JWKS shows it.
type signer struct {
	alg     jwa.SignatureAlgorithm
	private any
	public  jwk.Key
}

func newSigner(t testing.TB, alg jwa.SignatureAlgorithm, kid string, withAlg bool) signer {
	t.Helper()
	var private, public any
	switch alg {
	case jwa.EdDSA:
		pub, priv, _ := ed25519.GenerateKey(rand.Reader)
		private, public = priv, pub
	case jwa.ES256, jwa.ES512:
		curve := elliptic.P256()
		if alg == jwa.ES512 {
			curve = elliptic.P521()
		}
		priv, _ := ecdsa.GenerateKey(curve, rand.Reader)
		private, public = priv, &priv.PublicKey
	case jwa.RS256, jwa.PS256:
		priv, _ := rsa.GenerateKey(rand.Reader, 2048)
		private, public = priv, &priv.PublicKey
	}
	key, err := jwk.FromRaw(public)
	if err != nil {
		t.Fatal(err)
	}
	key.Set(jwk.KeyIDKey, kid)
	if withAlg {
		key.Set(jwk.AlgorithmKey, alg)
	}
	return signer{alg: alg, private: private, public: key}
}

// token signs claims (defaults: Better Auth's) with s's key, kid and alg; override the
// header's alg with headerAlg.
func (s signer) token(t testing.TB, claims map[string]any, headerAlg jwa.SignatureAlgorithm) string {
	t.Helper()
	now := time.Now()
	tok := jwt.New()
	for k, v := range map[string]any{"sub": "aBcD1234aBcD1234aBcD1234aBcD1234", "iss": issuer, "aud": issuer,
		"iat": now.Unix(), "exp": now.Add(15 * time.Minute).Unix(), "email": "alice@example.com"} {
		tok.Set(k, v)
	}
	for k, v := range claims {
		if v == nil {
			tok.Remove(k)
		} else {
			tok.Set(k, v)
		}
	}
	hdr := jws.NewHeaders()
	hdr.Set(jws.KeyIDKey, s.public.KeyID())
	if headerAlg == "" {
		headerAlg = s.alg
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(headerAlg, s.private, jws.WithProtectedHeaders(hdr)))
	if err != nil {
		t.Fatal(err)
	}
	return string(signed)
}

// keyServer is a JWKS endpoint whose keys the test changes, counting fetches.
type keyServer struct {
	*httptest.Server
	mu      sync.Mutex
	keys    []jwk.Key
	down    bool
	fetches atomic.Int32
}

func newKeyServer(t *testing.T, keys ...jwk.Key) *keyServer {
	ks := &keyServer{keys: keys}
	ks.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ks.fetches.Add(1)
		ks.mu.Lock()
		defer ks.mu.Unlock()
		if ks.down {
			http.Error(w, "down", http.StatusBadGateway)
			return
		}
		set := jwk.NewSet()
		for _, k := range ks.keys {
			set.AddKey(k)
		}
		json.NewEncoder(w).Encode(set)
	}))
	t.Cleanup(ks.Close)
	return ks
}

func (ks *keyServer) set(down bool, keys ...jwk.Key) {
	ks.mu.Lock()
	defer ks.mu.Unlock()
	ks.down, ks.keys = down, keys
}

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.now = c.now.Add(d) }
func newClock() *clock               { return &clock{now: time.Now()} }

func keySet(t *testing.T, url string, c *clock) *KeySet {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	set := NewKeySet(KeySetOptions{URL: url, Refresh: time.Hour, MinRefetch: 10 * time.Second,
		FetchTimeout: 2 * time.Second, Now: c.Now})
	set.Start(ctx)
	return set
}

func jwksVerifier(t *testing.T, keys *KeySet, secret []byte) *Verifier {
	v, err := NewVerifier(Options{Keys: keys, KeysIssuer: issuer, KeysAudience: issuer, Secret: secret, Leeway: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func wantReason(t *testing.T, name string, err error, want string) {
	t.Helper()
	p, ok := errors.AsType[*problem.Error](err)
	switch {
	case want == "" && err != nil:
		t.Errorf("%s: refused: %v", name, err)
	case want != "" && (!ok || p.Kind != problem.Unauthorized || p.Detail != want):
		t.Errorf("%s: %v, want %q", name, err, want)
	}
}

func TestJWKSVerification(t *testing.T) {
	signers := map[jwa.SignatureAlgorithm]signer{}
	var public []jwk.Key
	for _, alg := range Accepted {
		s := newSigner(t, alg, "kid-"+alg.String(), true)
		signers[alg], public = s, append(public, s.public)
	}
	noAlg := newSigner(t, jwa.ES256, "kid-no-alg", false) // Better Auth before 1.3.8
	rsaNoAlg := newSigner(t, jwa.RS256, "kid-rsa-no-alg", false)
	public = append(public, noAlg.public, rsaNoAlg.public)
	ks := newKeyServer(t, public...)
	v := jwksVerifier(t, keySet(t, ks.URL, newClock()), []byte("shared-secret-0123456789abcdef-0123456789"))
	ctx := context.Background()

	for alg, s := range signers {
		sub, err := v.Verify(ctx, s.token(t, nil, ""))
		if err != nil || sub != "aBcD1234aBcD1234aBcD1234aBcD1234" {
			t.Errorf("%s: %q %v", alg, sub, err)
		}
	}
	impostor := newSigner(t, jwa.EdDSA, "kid-EdDSA", true) // right kid, wrong key
	eddsa := signers[jwa.EdDSA]
	rawPublic, _ := jwk.PublicRawKeyOf(eddsa.public)
	rsaPSS := rsaNoAlg
	rsaPSS.alg = jwa.PS256
	for name, tc := range map[string]struct {
		token, reason string
	}{
		"alg inferred for EC":           {noAlg.token(t, nil, ""), ""},
		"alg inferred for RSA: RS256":   {rsaNoAlg.token(t, nil, ""), ""},
		"alg inferred for RSA: PS256":   {rsaPSS.token(t, nil, jwa.PS256), ""},
		"wrong key":                     {impostor.token(t, nil, ""), ReasonSignature},
		"unknown kid":                   {newSigner(t, jwa.EdDSA, "nobody", true).token(t, nil, ""), ReasonUnknownKey},
		"ES512 header on an ES256 key":  {signers[jwa.ES512].tokenAs(t, "kid-ES256"), ReasonKeyAlgorithm},
		"alg none":                      {unsignedToken(map[string]any{"alg": "none", "kid": "kid-EdDSA"}), ReasonAlgorithm},
		"HS256 keyed with the JWKS key": {hsToken(t, "kid-EdDSA", rawPublic.(ed25519.PublicKey)), ReasonSignature},
		"HS512":                         {hsTokenAlg(t, jwa.HS512, "kid-EdDSA", []byte("shared-secret-0123456789abcdef-0123456789")), ReasonAlgorithm},
		"expired":                       {eddsa.token(t, map[string]any{"exp": time.Now().Add(-time.Minute).Unix()}, ""), ReasonExpired},
		"nbf ahead":                     {eddsa.token(t, map[string]any{"nbf": time.Now().Add(time.Minute).Unix()}, ""), ReasonNotYetValid},
		"iat ahead":                     {eddsa.token(t, map[string]any{"iat": time.Now().Add(time.Minute).Unix()}, ""), ReasonIssuedInFuture},
		"no exp":                        {eddsa.token(t, map[string]any{"exp": nil}, ""), ReasonNoExpiry},
		"no sub":                        {eddsa.token(t, map[string]any{"sub": nil}, ""), ReasonNoSubject},
		"wrong iss":                     {eddsa.token(t, map[string]any{"iss": "https://evil.example.com"}, ""), ReasonIssuer},
		"wrong aud":                     {eddsa.token(t, map[string]any{"aud": "https://evil.example.com"}, ""), ReasonAudience},
		"aud an array with ours":        {eddsa.token(t, map[string]any{"aud": []string{"x", issuer}}, ""), ""},
		"aud an array without ours":     {eddsa.token(t, map[string]any{"aud": []string{"x", "y"}}, ""), ReasonAudience},
	} {
		_, err := v.Verify(ctx, tc.token)
		wantReason(t, name, err, tc.reason)
	}

	// Without the shared secret, an HS256 token is not even tried against anything.
	jwksOnly := jwksVerifier(t, keySet(t, ks.URL, newClock()), nil)
	_, err := jwksOnly.Verify(ctx, hsToken(t, "kid-EdDSA", rawPublic.(ed25519.PublicKey)))
	wantReason(t, "HS256 without a secret", err, ReasonAlgorithm)
}

// tokenAs signs with s's key and alg but claims the key kid.
func (s signer) tokenAs(t *testing.T, kid string) string {
	t.Helper()
	other := s
	other.public, _ = s.public.Clone()
	other.public.Set(jwk.KeyIDKey, kid)
	return other.token(t, nil, "")
}

func unsignedToken(header map[string]any) string {
	h, _ := json.Marshal(header)
	c, _ := json.Marshal(map[string]any{"sub": "a", "iss": issuer, "aud": issuer, "exp": time.Now().Add(time.Hour).Unix()})
	return base64.RawURLEncoding.EncodeToString(h) + "." + base64.RawURLEncoding.EncodeToString(c) + "."
}

func hsToken(t *testing.T, kid string, key []byte) string { return hsTokenAlg(t, jwa.HS256, kid, key) }

func hsTokenAlg(t *testing.T, alg jwa.SignatureAlgorithm, kid string, key []byte) string {
	t.Helper()
	s := signer{alg: alg, private: key}
	s.public, _ = jwk.FromRaw(key)
	s.public.Set(jwk.KeyIDKey, kid)
	return s.token(t, nil, "")
}

// A new key works without a restart (an unknown kid fetches the set again); a key that left
// the set stops working at the next refresh.
func TestKeyRotation(t *testing.T) {
	old, next := newSigner(t, jwa.EdDSA, "old", true), newSigner(t, jwa.EdDSA, "new", true)
	ks := newKeyServer(t, old.public)
	c := newClock()
	set := keySet(t, ks.URL, c)
	v := jwksVerifier(t, set, nil)
	ctx := context.Background()
	if _, err := v.Verify(ctx, old.token(t, nil, "")); err != nil {
		t.Fatal(err)
	}

	ks.set(false, old.public, next.public)
	c.Add(11 * time.Second) // past MinRefetch since the start-up fetch
	if _, err := v.Verify(ctx, next.token(t, nil, "")); err != nil {
		t.Errorf("a rotated-in key: %v", err)
	}
	ks.set(false, next.public)
	if _, err := v.Verify(ctx, old.token(t, nil, "")); err != nil {
		t.Errorf("a removed key stops working only at the next refresh: %v", err)
	}
	if err := set.fetch(ctx); err != nil { // the periodic refresh
		t.Fatal(err)
	}
	_, err := v.Verify(ctx, old.token(t, nil, ""))
	wantReason(t, "removed key after refresh", err, ReasonUnknownKey)

	// A failed refresh keeps the last good set.
	ks.set(true)
	if err := set.fetch(ctx); err == nil {
		t.Fatal("a refresh from a failing server succeeded")
	}
	if _, err := v.Verify(ctx, next.token(t, nil, "")); err != nil {
		t.Errorf("after a failed refresh: %v", err)
	}
	if status, ok := set.Status(); !ok || !containsAll(status, "new (EdDSA)", "last refresh failed") {
		t.Errorf("status %q %v", status, ok)
	}
}

// A flood of tokens with made-up kids costs the auth server at most one fetch per MinRefetch.
func TestUnknownKidRefetchIsRateLimited(t *testing.T) {
	real := newSigner(t, jwa.EdDSA, "real", true)
	ks := newKeyServer(t, real.public)
	c := newClock()
	v := jwksVerifier(t, keySet(t, ks.URL, c), nil)
	ctx := context.Background()
	var wg sync.WaitGroup
	for round := range 3 {
		for i := range 50 {
			wg.Go(func() {
				forged := newSigner(t, jwa.EdDSA, "forged-"+time.Now().String()+string(rune(i)), true)
				_, err := v.Verify(ctx, forged.token(t, nil, ""))
				wantReason(t, "forged kid", err, ReasonUnknownKey)
			})
		}
		wg.Wait()
		if got, want := ks.fetches.Load(), int32(1+round); got != want {
			t.Errorf("round %d: %d fetches, want %d (the start-up one, then one per interval at most)", round, got, want)
		}
		c.Add(11 * time.Second)
	}
}

// With the auth server down at start, the service runs and says why tokens fail; once the
// server is up, tokens work without a restart.
func TestAuthServerDownAtStart(t *testing.T) {
	s := newSigner(t, jwa.RS256, "k1", true)
	ks := newKeyServer(t, s.public)
	ks.set(true)
	c := newClock()
	set := keySet(t, ks.URL, c)
	v := jwksVerifier(t, set, nil)
	if status, ok := v.Mode(); ok || !containsAll(status, ks.URL, "no keys yet") {
		t.Errorf("mode %q %v", status, ok)
	}
	_, err := v.Verify(context.Background(), s.token(t, nil, ""))
	if problem.KindOf(err) != problem.Unavailable {
		t.Errorf("with no keys ever fetched: %v, want unavailable", err)
	}
	ks.set(false, s.public)
	c.Add(11 * time.Second)
	if _, err := v.Verify(context.Background(), s.token(t, nil, "")); err != nil {
		t.Errorf("after the auth server came up: %v", err)
	}
	if status, ok := v.Mode(); !ok || !containsAll(status, "k1 (RS256)") {
		t.Errorf("mode %q %v", status, ok)
	}
}

// A fetch from a server that never answers gives up after FetchTimeout.
func TestJWKSFetchIsBounded(t *testing.T) {
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { <-r.Context().Done() }))
	defer hang.Close()
	set := NewKeySet(KeySetOptions{URL: hang.URL, Refresh: time.Hour, FetchTimeout: 300 * time.Millisecond})
	start := time.Now()
	if err := set.fetch(context.Background()); err == nil {
		t.Fatal("no error from a hanging server")
	}
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("the fetch took %s", elapsed)
	}
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}

func jsonOf(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
