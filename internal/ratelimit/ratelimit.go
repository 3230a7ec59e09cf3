// Package ratelimit limits requests per key (the user id) with a token bucket, kept in memory
// for one instance or in Redis so that several instances share each user's bucket.
//
// Both limiters use GCRA, the token bucket written as one timestamp per key: the
// "theoretical arrival time" (TAT) at which the bucket would be full again. A request costs
// one emission interval (1/rate); it is allowed while TAT stays within burst intervals of now.
package ratelimit

import (
	"context"
	"math"
	"sync"
	"time"
)

// Policy is a bucket of Burst requests that refills at Rate per second.
type Policy struct {
	Rate  float64
	Burst int
}

// interval is the time one request costs.
func (p Policy) interval() time.Duration { return time.Duration(float64(time.Second) / p.Rate) }

// Window is how long an empty bucket takes to fill.
func (p Policy) Window() time.Duration { return time.Duration(p.Burst) * p.interval() }

// Decision is the outcome for one request.
type Decision struct {
	Allowed bool
	// Remaining is how many more requests the bucket holds now.
	Remaining int
	// RetryAfter is how long until one request would be allowed (0 when allowed).
	RetryAfter time.Duration
	// Reset is how long until the bucket is full again.
	Reset time.Duration
}

// Limiter decides whether a request for key may go ahead.
type Limiter interface {
	Allow(ctx context.Context, key string) (Decision, error)
	Policy() Policy
}

// decide is GCRA: given the stored TAT (zero when none), the decision and the new TAT to store.
func decide(p Policy, now, tat time.Time) (Decision, time.Time) {
	t := p.interval()
	if tat.Before(now) {
		tat = now
	}
	next := tat.Add(t)
	allowAt := next.Add(-time.Duration(p.Burst) * t)
	if now.Before(allowAt) {
		return Decision{RetryAfter: allowAt.Sub(now), Reset: tat.Sub(now)}, tat
	}
	remaining := int(math.Floor(float64(now.Sub(allowAt)) / float64(t)))
	return Decision{Allowed: true, Remaining: remaining, Reset: next.Sub(now)}, next
}

// Memory is a Limiter for a single instance.
type Memory struct {
	policy    Policy
	now       func() time.Time
	mu        sync.Mutex
	tats      map[string]time.Time
	lastSweep time.Time
}

// NewMemory returns an in-memory limiter; now is the clock (nil: time.Now).
func NewMemory(p Policy, now func() time.Time) *Memory {
	if now == nil {
		now = time.Now
	}
	return &Memory{policy: p, now: now, tats: map[string]time.Time{}, lastSweep: now()}
}

func (m *Memory) Policy() Policy { return m.policy }

// Allow implements Limiter.
func (m *Memory) Allow(_ context.Context, key string) (Decision, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	d, tat := decide(m.policy, now, m.tats[key])
	m.tats[key] = tat
	if now.Sub(m.lastSweep) > time.Minute {
		m.sweep(now)
	}
	return d, nil
}

// sweep forgets keys whose bucket is full again: they are the same as keys never seen, so
// memory stays proportional to the users active in the last window.
func (m *Memory) sweep(now time.Time) {
	for key, tat := range m.tats {
		if !tat.After(now) {
			delete(m.tats, key)
		}
	}
	m.lastSweep = now
}
