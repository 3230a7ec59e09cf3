package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"
)

// The Phase II frontends were written against FastAPI, which ignores what it does not know:
// forms send fields the API does not have, lists are called with parameters it does not take.
// So does this API, by default: such input is dropped before validation, never applied, and
// named in a Warning header so that a developer still sees a typo. `Prefer: handling=strict`
// (RFC 7240) asks for the contract to the letter instead: the same input is then a 400 or 422.

const maxWarnings = 10

// prefersStrict reports whether any Prefer header asks for handling=strict.
func prefersStrict(h http.Header) bool {
	for _, field := range h.Values("Prefer") {
		for _, pref := range strings.Split(field, ",") {
			pref, _, _ = strings.Cut(pref, ";") // parameters of a preference do not matter here
			token, value, _ := strings.Cut(pref, "=")
			if strings.EqualFold(strings.TrimSpace(token), "handling") &&
				strings.EqualFold(strings.Trim(strings.TrimSpace(value), `"`), "strict") {
				return true
			}
		}
	}
	return false
}

// ignoredInputs are the warnings of one request, one per input dropped.
type ignoredInputs []string

func (ig *ignoredInputs) add(what, name string) {
	*ig = append(*ig, fmt.Sprintf(`299 taskapi "ignored %s: %s"`, what, warningText(name)))
}

// write sets the Warning headers: at most maxWarnings, in a stable order.
func (ig ignoredInputs) write(h http.Header) {
	slices.Sort(ig)
	for _, w := range ig[:min(len(ig), maxWarnings)] {
		h.Add("Warning", w)
	}
}

// warningText makes a client's field name safe inside the quoted text of a Warning: at most
// 64 characters, printable ASCII as is, anything else (quotes, backslashes, control
// characters, other scripts) percent-encoded.
func warningText(name string) string {
	if utf8.RuneCountInString(name) > 64 {
		name = string([]rune(name)[:64]) + "..."
	}
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 0x20 && c < 0x7f && c != '"' && c != '\\' && c != '%' {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// dropUnknownFields removes from a JSON object body the members that are not in fields,
// naming each in ig: read-only ones (a task's id, owner and timestamps) as such. A body that
// is not an object, or has no such member, comes back as it was.
func dropUnknownFields(body []byte, fields, readOnly map[string]bool, ig *ignoredInputs) []byte {
	if t := bytes.TrimSpace(body); len(t) == 0 || t[0] != '{' || !hasUnknownMember(t, fields) {
		return body
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(body, &members); err != nil {
		return body // the validator will say what is wrong with it
	}
	dropped := false
	for name := range members {
		if fields[name] {
			continue
		}
		if readOnly[name] {
			ig.add("read-only field", name)
		} else {
			ig.add("unknown field", name)
		}
		delete(members, name)
		dropped = true
	}
	if !dropped {
		return body
	}
	kept, err := json.Marshal(members)
	if err != nil {
		return body
	}
	return kept
}

// hasUnknownMember reports whether the JSON object obj (valid JSON: checkJSON has seen it) has a
// member whose name is not in fields, or one whose name has escapes (then it cannot tell without
// decoding, and says yes). It reads the names where they are, without decoding the body: most
// bodies have no unknown member, and this spares them a map of every member.
func hasUnknownMember(obj []byte, fields map[string]bool) bool {
	depth, name := 0, false
	for i := 0; i < len(obj); i++ {
		switch obj[i] {
		case '{', '[':
			depth++
			name = depth == 1 // obj's first member name follows its opening brace
		case '}', ']':
			depth--
		case ',':
			name = depth == 1
		case '"':
			start, escaped := i+1, false
			for i++; i < len(obj) && obj[i] != '"'; i++ {
				if obj[i] == '\\' {
					escaped = true
					i++
				}
			}
			if i >= len(obj) {
				return true // not JSON after all: let the decoder say so
			}
			if name {
				if escaped || !fields[string(obj[start:i])] {
					return true
				}
				name = false
			}
		}
	}
	return false
}
