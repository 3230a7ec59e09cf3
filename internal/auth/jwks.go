package auth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwk"
)

// Accepted are the asymmetric algorithms a JWKS key may sign with: those Better Auth's jwt
// plugin can be configured to use.
var Accepted = []jwa.SignatureAlgorithm{jwa.EdDSA, jwa.ES256, jwa.ES512, jwa.RS256, jwa.PS256}

// KeySetOptions configure a KeySet.
type KeySetOptions struct {
	URL string
	// Refresh is how often the set is fetched again, so rotated keys come in and removed
	// keys go out without a restart.
	Refresh time.Duration
	// MinRefetch is the shortest time between two fetches caused by tokens with an unknown
	// kid, so a flood of forged kids cannot hammer the auth server.
	MinRefetch time.Duration
	// FetchTimeout bounds one fetch.
	FetchTimeout time.Duration
	Client       *http.Client
	Logger       *slog.Logger
	Now          func() time.Time
}

// KeySet is a cached JWKS: fetched at start, refreshed periodically and on unknown key ids
// (rate-limited), and kept as last fetched when a refresh fails.
type KeySet struct {
	opts KeySetOptions

	fetchMu sync.Mutex // one fetch at a time; holders of mu never wait on it

	mu          sync.RWMutex
	keys        map[string]verificationKey // by kid
	gen         uint64                     // counts successful fetches: cached verifications are per set
	fetchedAt   time.Time                  // last successful fetch
	attemptedAt time.Time                  // last fetch, successful or not
	lastErr     error
}

// verificationKey is a public key and the algorithms it may verify, decided by the key.
type verificationKey struct {
	key  jwk.Key
	algs []jwa.SignatureAlgorithm
}

// NewKeySet returns an empty key set; call Start to fetch it.
func NewKeySet(opts KeySetOptions) *KeySet {
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &KeySet{opts: opts, keys: map[string]verificationKey{}}
}

// Start fetches the set once (a failure is logged and remembered, not fatal: the service
// starts while the auth server is down and /readyz says so), then refreshes it every
// Refresh until ctx ends.
func (s *KeySet) Start(ctx context.Context) {
	_ = s.fetch(ctx)
	go func() {
		ticker := time.NewTicker(s.opts.Refresh)
		defer ticker.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticker.C:
				_ = s.fetch(ctx)
			}
		}
	}()
}

// errKeysUnavailable means no key set was ever fetched: verification cannot happen at all.
var errKeysUnavailable = errors.New("signing keys unavailable")

// lookup returns the key with this kid, fetching the set again when the kid is unknown and
// the last fetch is at least MinRefetch ago.
func (s *KeySet) lookup(ctx context.Context, kid string) (verificationKey, error) {
	if k, ok := s.cached(kid); ok {
		return k, nil
	}
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	if k, ok := s.cached(kid); ok { // fetched by whoever held the lock
		return k, nil
	}
	s.mu.RLock()
	recent := s.opts.Now().Sub(s.attemptedAt) < s.opts.MinRefetch
	s.mu.RUnlock()
	if !recent {
		_ = s.fetchLocked(ctx)
	}
	if k, ok := s.cached(kid); ok {
		return k, nil
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.fetchedAt.IsZero() {
		return verificationKey{}, errKeysUnavailable
	}
	return verificationKey{}, errUnknownKey
}

var errUnknownKey = errors.New("unknown key id")

// generation changes whenever a new set is fetched; it starts at 1 once there is a set.
func (s *KeySet) generation() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.gen
}

func (s *KeySet) cached(kid string) (verificationKey, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	k, ok := s.keys[kid]
	return k, ok
}

func (s *KeySet) fetch(ctx context.Context) error {
	s.fetchMu.Lock()
	defer s.fetchMu.Unlock()
	return s.fetchLocked(ctx)
}

func (s *KeySet) fetchLocked(ctx context.Context) error {
	keys, err := s.download(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.attemptedAt = s.opts.Now()
	if err != nil {
		s.lastErr = err
		s.opts.Logger.Warn("fetching the JWKS failed; keeping the keys we have", "jwks_url", s.opts.URL, "err", err, "keys", len(s.keys))
		return err
	}
	s.keys, s.fetchedAt, s.lastErr = keys, s.attemptedAt, nil
	s.gen++
	s.opts.Logger.Info("JWKS fetched", "jwks_url", s.opts.URL, "keys", describe(keys))
	return nil
}

const maxJWKSBytes = 1 << 20

func (s *KeySet) download(ctx context.Context) (map[string]verificationKey, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.FetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.opts.URL, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.opts.Client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", s.opts.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, err
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("GET %s: the key set is over %d bytes", s.opts.URL, maxJWKSBytes)
	}
	set, err := jwk.Parse(body)
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", s.opts.URL, err)
	}
	keys := map[string]verificationKey{}
	for i := range set.Len() {
		key, _ := set.Key(i)
		algs := algorithmsFor(key)
		if key.KeyID() == "" || len(algs) == 0 {
			s.opts.Logger.Warn("ignoring a JWKS key", "kid", key.KeyID(), "kty", key.KeyType(), "alg", key.Algorithm())
			continue
		}
		keys[key.KeyID()] = verificationKey{key: key, algs: algs}
	}
	return keys, nil
}

// algorithmsFor is what a key may verify: its own alg when it names one we accept, else
// (Better Auth before 1.3.8 left alg out) what its type and curve allow. An RSA key without
// alg may be RS256 or PS256; the two share the key type, so nothing is confused.
func algorithmsFor(key jwk.Key) []jwa.SignatureAlgorithm {
	if alg := key.Algorithm().String(); alg != "" {
		if i := slices.IndexFunc(Accepted, func(a jwa.SignatureAlgorithm) bool { return a.String() == alg }); i >= 0 {
			return []jwa.SignatureAlgorithm{Accepted[i]}
		}
		return nil
	}
	switch k := key.(type) {
	case jwk.OKPPublicKey:
		if k.Crv() == jwa.Ed25519 {
			return []jwa.SignatureAlgorithm{jwa.EdDSA}
		}
	case jwk.ECDSAPublicKey:
		switch k.Crv() {
		case jwa.P256:
			return []jwa.SignatureAlgorithm{jwa.ES256}
		case jwa.P521:
			return []jwa.SignatureAlgorithm{jwa.ES512}
		}
	case jwk.RSAPublicKey:
		return []jwa.SignatureAlgorithm{jwa.RS256, jwa.PS256}
	}
	return nil
}

func describe(keys map[string]verificationKey) string {
	parts := make([]string, 0, len(keys))
	for kid, k := range keys {
		algs := make([]string, len(k.algs))
		for i, a := range k.algs {
			algs[i] = a.String()
		}
		parts = append(parts, kid+" ("+strings.Join(algs, "/")+")")
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}

// Status describes the set for /readyz and the logs: its URL, the keys held and how fresh
// they are. ok is false while no key set was ever fetched.
func (s *KeySet) Status() (description string, ok bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	switch {
	case s.fetchedAt.IsZero() && s.lastErr != nil:
		return fmt.Sprintf("jwks %s: no keys yet: %v", s.opts.URL, s.lastErr), false
	case s.fetchedAt.IsZero():
		return fmt.Sprintf("jwks %s: not fetched yet", s.opts.URL), false
	case len(s.keys) == 0:
		return fmt.Sprintf("jwks %s: the set has no key we accept (%s)", s.opts.URL, algorithmNames()), false
	case s.lastErr != nil:
		return fmt.Sprintf("jwks %s: keys %s (from %s; the last refresh failed: %v)", s.opts.URL, describe(s.keys),
			s.fetchedAt.UTC().Format(time.RFC3339), s.lastErr), true
	default:
		return fmt.Sprintf("jwks %s: keys %s", s.opts.URL, describe(s.keys)), true
	}
}

func algorithmNames() string {
	names := make([]string, len(Accepted))
	for i, a := range Accepted {
		names[i] = a.String()
	}
	return strings.Join(names, ", ")
}
