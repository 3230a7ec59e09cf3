package auth

import (
	"context"
	"strings"
	"testing"
	"time"
)

// No token a client can send makes Verify panic, and only tokens signed with the secret pass.
func FuzzVerify(f *testing.F) {
	now := time.Now()
	valid, err := Mint(testSecret, Claims{Subject: "alice", IssuedAt: now, TTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	for _, s := range []string{"", ".", "..", "a.b.c", "eyJhbGciOiJub25lIn0.e30.", "eyJhbGciOiJIUzI1NiJ9.e30.",
		"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOjF9.x", valid + "x", strings.Replace(valid, ".", "..", 1), "Bearer " + valid} {
		f.Add(s)
	}
	v, err := NewVerifier(Options{Secret: testSecret, Leeway: time.Minute})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, token string) {
		sub, err := v.Verify(context.Background(), token)
		if err == nil && sub != "alice" { // a token that verifies was signed by us, for alice
			t.Errorf("accepted %q as %q", token, sub)
		}
	})
}
