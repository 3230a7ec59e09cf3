package tasks

import (
	"encoding/base64"
	"testing"

	"github.com/google/uuid"
)

func TestCursorRoundTrip(t *testing.T) {
	key := "2026-11-26T12:00:00.123456Z"
	for _, c := range []cursor{
		{Version: cursorVersion, Fingerprint: "fp", Key: &key, ID: uuid.New()},
		{Version: cursorVersion, Fingerprint: "fp", Key: nil, ID: uuid.New()}, // among tasks without a due date
	} {
		got, err := decodeCursor(c.encode(), "fp")
		if err != nil || got.ID != c.ID || (got.Key == nil) != (c.Key == nil) || (got.Key != nil && *got.Key != *c.Key) {
			t.Errorf("round trip of %+v: %+v, %v", c, got, err)
		}
	}
}

func TestCursorRejects(t *testing.T) {
	key := "k"
	valid := cursor{Version: cursorVersion, Fingerprint: "fp", Key: &key, ID: uuid.New()}
	b64 := base64.RawURLEncoding.EncodeToString
	for name, tc := range map[string]struct {
		s    string
		want error
	}{
		"other query":    {valid.encode(), errCursorMismatch},
		"not base64":     {"%%%", errCursorMalformed},
		"padded base64":  {valid.encode() + "==", errCursorMalformed},
		"not JSON":       {b64([]byte("hello")), errCursorMalformed},
		"JSON array":     {b64([]byte(`[1,2]`)), errCursorMalformed},
		"unknown field":  {b64([]byte(`{"v":1,"f":"other","i":"` + valid.ID.String() + `","x":1}`)), errCursorMalformed},
		"future version": {b64([]byte(`{"v":2,"f":"other","i":"` + valid.ID.String() + `"}`)), errCursorMalformed},
		"no id":          {b64([]byte(`{"v":1,"f":"other"}`)), errCursorMalformed},
		"bad id":         {b64([]byte(`{"v":1,"f":"other","i":"nope"}`)), errCursorMalformed},
		"two values":     {b64([]byte(`{"v":1,"f":"other","i":"` + valid.ID.String() + `"} {}`)), errCursorMalformed},
		"empty":          {"", errCursorMalformed},
	} {
		fingerprint := "other"
		if name == "other query" {
			fingerprint = "different"
		}
		if _, err := decodeCursor(tc.s, fingerprint); err != tc.want {
			t.Errorf("%s: %v, want %v", name, err, tc.want)
		}
	}
}

func TestFingerprintSeparatesParts(t *testing.T) {
	if fingerprintOf("ab", "c") == fingerprintOf("a", "bc") {
		t.Error("parts run into each other")
	}
	if fingerprintOf("u1", "title") == fingerprintOf("u2", "title") {
		t.Error("users share a fingerprint")
	}
}

func TestEscapeLike(t *testing.T) {
	for in, want := range map[string]string{`100%`: `100\%`, `a_b`: `a\_b`, `c:\x`: `c:\\x`, `plain`: `plain`} {
		if got := escapeLike(in); got != want {
			t.Errorf("escapeLike(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSortKeysAreValidated(t *testing.T) {
	ts, title, bad := "2026-11-26T12:00:00.123456Z", "Buy milk", "not a time"
	for _, tc := range []struct {
		check func(*string) bool
		key   *string
		want  bool
	}{
		{validTimeKey, &ts, true}, {validTimeKey, &bad, false}, {validTimeKey, nil, false},
		{validDueKey, nil, true}, {validDueKey, &ts, true}, {validDueKey, &bad, false},
		{validTitleKey, &title, true}, {validTitleKey, nil, false}, {validTitleKey, new("a\x00"), false},
		{validPriorityKey, new("high"), true}, {validPriorityKey, new("urgent"), false},
	} {
		if got := tc.check(tc.key); got != tc.want {
			t.Errorf("key %v: %v, want %v", tc.key, got, tc.want)
		}
	}
}
