package recurrence

import (
	"strings"
	"time"
	_ "time/tzdata" // the zone database is in the binary, so Zone works where the host has none (distroless)
)

// Zone loads an IANA time zone by name for the timezone field; "UTC" is valid; "", "Local", paths and unknown
// names are *Error.
func Zone(name string) (*time.Location, error) {
	if !zoneName(name) {
		return nil, errorf("timezone must be an IANA time zone name such as Europe/Berlin or UTC, not %q", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, errorf("timezone %q is not a time zone we know; use an IANA name such as Europe/Berlin or UTC", name)
	}
	return loc, nil
}

// zoneName reports whether name is shaped like an IANA zone name: parts separated by "/", each starting with a
// capital letter, then letters, digits, "_", "+" or "-". Every name in Go's embedded database is, and this
// refuses what time.LoadLocation would otherwise take from the host: "Local" (the server's zone) is refused
// by name, and paths, "localtime", "posixrules" or "right/UTC" by shape, so a zone valid on a developer's
// machine is valid in the image too.
func zoneName(name string) bool {
	if name == "" || name == "Local" {
		return false
	}
	for part := range strings.SplitSeq(name, "/") {
		if part == "" || part[0] < 'A' || part[0] > 'Z' {
			return false
		}
		for _, c := range part {
			if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || strings.ContainsRune("_+-", c)) {
				return false
			}
		}
	}
	return true
}
