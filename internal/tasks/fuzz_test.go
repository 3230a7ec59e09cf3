package tasks

import (
	"testing"

	"github.com/google/uuid"
)

// Any string a client sends as a cursor is refused or decodes to a cursor that encodes back
// to itself; nothing panics.
func FuzzDecodeCursor(f *testing.F) {
	key := "2026-11-26T12:00:00.000000Z"
	f.Add(cursor{Version: 1, Fingerprint: "fp", Key: &key, ID: uuid.New()}.encode())
	f.Add(cursor{Version: 1, Fingerprint: "fp", ID: uuid.New()}.encode())
	for _, s := range []string{"", "garbage", "eyJ2IjoxfQ", "e30", "W10", "bnVsbA", "eyJ2IjoxLCJmIjoiZnAiLCJpIjoiMDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAwIn0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := decodeCursor(s, "fp")
		if err != nil {
			return
		}
		again, err := decodeCursor(c.encode(), "fp")
		if err != nil || again.ID != c.ID || (again.Key == nil) != (c.Key == nil) || (c.Key != nil && *again.Key != *c.Key) {
			t.Errorf("%q decodes to %+v, which does not round-trip: %+v %v", s, c, again, err)
		}
		for _, ord := range orders {
			ord.validKey(c.Key) // must not panic on anything a client can put in a key
		}
	})
}
