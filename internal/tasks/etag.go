package tasks

import (
	"strconv"
	"strings"
)

// A task's ETag is its version, which every write increments (a trigger in the schema), so
// it is strong and changes on every update.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// ifMatch reads If-Match into the versions the write may apply to: nil for no condition
// (absent, or "*": the task need only exist, which the write checks anyway), otherwise the
// strong ETags listed, possibly none (then nothing matches and the write is refused). Weak
// ETags never match If-Match (RFC 9110 §13.1.1).
func ifMatch(header *string) []int64 {
	if header == nil || strings.TrimSpace(*header) == "*" {
		return nil
	}
	versions := []int64{}
	for _, tag := range strings.Split(*header, ",") {
		if v, ok := parseETag(strings.TrimSpace(tag)); ok {
			versions = append(versions, v)
		}
	}
	return versions
}

// noneMatch reports whether If-None-Match names the current version (weak comparison,
// RFC 9110 §13.1.2), so a GET can answer 304.
func noneMatch(header *string, version int64) bool {
	if header == nil {
		return false
	}
	if strings.TrimSpace(*header) == "*" {
		return true
	}
	for _, tag := range strings.Split(*header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if v, ok := parseETag(tag); ok && v == version {
			return true
		}
	}
	return false
}

// parseETag reads a strong ETag of ours ("42"); anything else does not match any version.
func parseETag(tag string) (int64, bool) {
	if len(tag) < 3 || tag[0] != '"' || tag[len(tag)-1] != '"' {
		return 0, false
	}
	v, err := strconv.ParseInt(tag[1:len(tag)-1], 10, 64)
	return v, err == nil && v > 0
}
