package tasks

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"

	"github.com/google/uuid"
)

// A cursor is the keyset position after the last task of a page: that task's sort key and id.
// It also carries a fingerprint of the user, sort and filters it was made for, so a cursor
// used with anything else is refused instead of silently walking a different list. It is
// not signed: whatever a client writes into one, the query still only sees its own tasks.
type cursor struct {
	Version     int       `json:"v"`
	Fingerprint string    `json:"f"`
	Key         *string   `json:"k,omitempty"` // nil: the page ended among tasks with no due date
	ID          uuid.UUID `json:"i"`
}

const cursorVersion = 1

var (
	errCursorMalformed = errors.New("is not a cursor this API issued")
	errCursorMismatch  = errors.New("was issued for another sort, filter or user")
)

func (c cursor) encode() string {
	raw, _ := json.Marshal(c) // cannot fail: strings, a pointer and a UUID
	return base64.RawURLEncoding.EncodeToString(raw)
}

// decodeCursor reads s and checks that it belongs to the query with this fingerprint.
func decodeCursor(s, fingerprint string) (cursor, error) {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return cursor{}, errCursorMalformed
	}
	var c cursor
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil || dec.More() || c.Version != cursorVersion || c.ID == uuid.Nil {
		return cursor{}, errCursorMalformed
	}
	if c.Fingerprint != fingerprint {
		return cursor{}, errCursorMismatch
	}
	return c, nil
}

// fingerprintOf condenses the parts of a query that a cursor must not outlive.
func fingerprintOf(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil)[:12])
}
