package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
)

// Verifying a bearer token, as every authenticated request does: the first time a token is
// seen (the signature and claims are checked) and every time after (remembered).
func BenchmarkVerify(b *testing.B) {
	hs, err := Mint(testSecret, Claims{Subject: "user-1", IssuedAt: time.Now(), TTL: time.Hour})
	if err != nil {
		b.Fatal(err)
	}
	hsVerifier, _ := NewVerifier(Options{Secret: testSecret})

	eddsa := newSigner(b, jwa.EdDSA, "k1", true)
	rs256 := newSigner(b, jwa.RS256, "k2", true)
	ks := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(`{"keys":[` + jsonOf(eddsa.public) + `,` + jsonOf(rs256.public) + `]}`))
	}))
	defer ks.Close()
	set := NewKeySet(KeySetOptions{URL: ks.URL, Refresh: time.Hour, FetchTimeout: time.Second})
	if err := set.fetch(context.Background()); err != nil {
		b.Fatal(err)
	}
	jwksVerifier, _ := NewVerifier(Options{Keys: set, KeysIssuer: issuer, KeysAudience: issuer})

	for _, tc := range []struct {
		name  string
		v     *Verifier
		token string
	}{
		{"HS256", hsVerifier, hs},
		{"EdDSA", jwksVerifier, eddsa.token(b, nil, "")},
		{"RS256", jwksVerifier, rs256.token(b, nil, "")},
	} {
		b.Run(tc.name+"/first", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.v.check(context.Background(), tc.token, time.Now(), set.generation()); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/again", func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tc.v.Verify(context.Background(), tc.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
