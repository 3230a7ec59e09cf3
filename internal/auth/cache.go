package auth

import (
	"sync"
	"time"
)

// verified remembers tokens that passed verification, so a client sending the same token
// on every request (as they do, for its 15 minutes) pays for the signature check once. An
// entry is only used inside the token's own validity window and, for tokens checked with
// the key set, only while the set is the one it was checked against: a refreshed set (a key
// removed) sends every such token through full verification again.
type verified struct {
	mu      sync.RWMutex
	entries map[string]verifiedToken
	max     int
}

type verifiedToken struct {
	sub           string
	from, until   time.Time // the window in which the token is valid, leeway included
	keyGeneration uint64    // 0 for tokens checked with the shared secret
}

func newVerified(max int) *verified {
	return &verified{entries: make(map[string]verifiedToken), max: max}
}

func (v *verified) get(token string, now time.Time, keyGeneration uint64) (string, bool) {
	v.mu.RLock()
	e, ok := v.entries[token]
	v.mu.RUnlock()
	if !ok || now.Before(e.from) || !now.Before(e.until) || (e.keyGeneration != 0 && e.keyGeneration != keyGeneration) {
		return "", false
	}
	return e.sub, true
}

func (v *verified) put(token string, e verifiedToken, now time.Time) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.entries) >= v.max {
		for t, old := range v.entries {
			if !now.Before(old.until) {
				delete(v.entries, t)
			}
		}
		if len(v.entries) >= v.max { // all still valid: start over rather than grow
			clear(v.entries)
		}
	}
	v.entries[token] = e
}
