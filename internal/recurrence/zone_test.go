package recurrence

import (
	"errors"
	"testing"
)

func TestZone(t *testing.T) {
	for _, name := range []string{"UTC", "America/New_York", "Europe/Berlin", "America/Argentina/ComodRivadavia", "Etc/GMT-14", "EST5EDT"} {
		if loc, err := Zone(name); err != nil || loc.String() != name {
			t.Errorf("Zone(%q) = %v, %v", name, loc, err)
		}
	}
	for _, tc := range []struct{ name, want string }{
		{"", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not ""`},
		{"Local", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "Local"`},
		{"../etc/passwd", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "../etc/passwd"`},
		{"/usr/share/zoneinfo/UTC", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "/usr/share/zoneinfo/UTC"`},
		{"America/New_York\x00", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "America/New_York\x00"`},
		{"Europe//Berlin", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "Europe//Berlin"`},
		{"localtime", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "localtime"`},
		{"posix/Europe/Berlin", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "posix/Europe/Berlin"`},
		{"utc", `timezone must be an IANA time zone name such as Europe/Berlin or UTC, not "utc"`},
		{"Mars/Base", `timezone "Mars/Base" is not a time zone we know; use an IANA name such as Europe/Berlin or UTC`},
		{"Europe/Berlin/Mitte", `timezone "Europe/Berlin/Mitte" is not a time zone we know; use an IANA name such as Europe/Berlin or UTC`},
	} {
		loc, err := Zone(tc.name)
		var e *Error
		if !errors.As(err, &e) || e.Message != tc.want {
			t.Errorf("Zone(%q) = %v, %v; want %q", tc.name, loc, err, tc.want)
		}
	}
}
