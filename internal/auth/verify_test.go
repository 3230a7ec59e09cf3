package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"taskapi/internal/problem"
)

var testSecret = []byte("unit-test-secret-0123456789abcdef-0123")

// The HTTP tests cover every failure through the real stack; these pin the time arithmetic
// with a fixed clock.
func TestVerifyAtTheEdgesOfTime(t *testing.T) {
	issued := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	token, err := Mint(testSecret, Claims{Subject: "alice", IssuedAt: issued, TTL: 15 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		at     time.Time
		reason string
	}{
		{issued, ""},
		{issued.Add(15*time.Minute + 29*time.Second), ""},            // expired, but within the leeway
		{issued.Add(15*time.Minute + 31*time.Second), ReasonExpired}, // past it
		{issued.Add(-29 * time.Second), ""},                          // issued "in the future" by less than the leeway
		{issued.Add(-31 * time.Second), ReasonIssuedInFuture},
	} {
		v, err := NewVerifier(Options{Secret: testSecret, Leeway: 30 * time.Second, Now: func() time.Time { return tc.at }})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := v.Verify(context.Background(), token)
		switch {
		case tc.reason == "" && (err != nil || sub != "alice"):
			t.Errorf("at %s: %q, %v", tc.at, sub, err)
		case tc.reason != "" && !isReason(err, tc.reason):
			t.Errorf("at %s: %v, want %q", tc.at, err, tc.reason)
		}
	}
}

func TestVerifyWithoutToken(t *testing.T) {
	v, _ := NewVerifier(Options{Secret: testSecret})
	_, err := v.Verify(context.Background(), "")
	if !errors.Is(err, ErrMissingToken) || problem.KindOf(err) != problem.Unauthorized {
		t.Errorf("%v", err)
	}
	if _, err := NewVerifier(Options{}); err == nil {
		t.Error("a verifier without a secret")
	}
}

func isReason(err error, reason string) bool {
	var p *problem.Error
	return errors.As(err, &p) && p.Kind == problem.Unauthorized && p.Detail == reason
}

// A remembered verification is only used inside the token's own validity window.
func TestVerifiedTokensExpireFromTheCache(t *testing.T) {
	issued := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	token, _ := Mint(testSecret, Claims{Subject: "alice", IssuedAt: issued, TTL: 15 * time.Minute})
	now := issued
	v, _ := NewVerifier(Options{Secret: testSecret, Leeway: 30 * time.Second, Now: func() time.Time { return now }})
	for _, step := range []struct {
		at     time.Time
		reason string
	}{
		{issued, ""},
		{issued.Add(10 * time.Minute), ""}, // from the cache
		{issued.Add(16 * time.Minute), ReasonExpired},
		{issued.Add(-time.Minute), ReasonIssuedInFuture}, // before the window, even though cached
	} {
		now = step.at
		sub, err := v.Verify(context.Background(), token)
		if step.reason == "" && (err != nil || sub != "alice") {
			t.Errorf("at %s: %q %v", step.at, sub, err)
		}
		if step.reason != "" && !isReason(err, step.reason) {
			t.Errorf("at %s: %v, want %s", step.at, err, step.reason)
		}
	}
}

func TestVerifiedCacheIsBounded(t *testing.T) {
	c := newVerified(100)
	now := time.Now()
	for i := range 1000 {
		c.put(string(rune(i))+"token", verifiedToken{sub: "u", from: now, until: now.Add(time.Hour)}, now)
	}
	if len(c.entries) > 100 {
		t.Errorf("%d entries kept, the bound is 100", len(c.entries))
	}
}
