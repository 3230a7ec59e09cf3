package recurrence

import (
	"errors"
	"testing"
	"time"
)

// Parse never panics and refuses only with an *Error; what it accepts reads back as itself, and expanding it
// is bounded: Next and CheckAnchored each return within timeLimit (see took). The anchor is a 31st in winter,
// so months without one, February and a change of clocks are all ahead of it.
func FuzzParse(f *testing.F) {
	loc, err := Zone("Europe/Berlin")
	if err != nil {
		f.Fatal(err)
	}
	due := time.Date(2026, 1, 31, 9, 0, 0, 0, loc)
	f.Fuzz(func(t *testing.T, s string) {
		r, err := Parse(s)
		if err != nil {
			if e := (*Error)(nil); !errors.As(err, &e) || e.Message == "" {
				t.Fatalf("Parse(%q): %#v", s, err)
			}
			return
		}
		if again, err := Parse(r.String()); err != nil || again.String() != r.String() {
			t.Fatalf("Parse(%q) = %q, which reads back as %q, %v", s, r, again, err)
		}
		var next time.Time
		var ok bool
		if d := took(func() { next, ok = r.Next(due, loc, 1, due) }); d > timeLimit {
			t.Errorf("Next of %s took %s", r, d)
		}
		if ok && !next.After(due) {
			t.Errorf("Next of %s: %s, not after %s", r, next, due)
		}
		if d := took(func() { err = r.CheckAnchored(due, loc) }); d > timeLimit {
			t.Errorf("CheckAnchored of %s took %s", r, d)
		}
		if ok && err != nil {
			t.Errorf("%s has a next occurrence, %s, but CheckAnchored says %v", r, next, err)
		}
	})
}
