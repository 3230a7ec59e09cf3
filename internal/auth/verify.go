// Package auth verifies the bearer tokens that Better Auth issues and carries the caller's
// user id on the request context.
//
// Two modes, either or both: a shared secret (HS256 with BETTER_AUTH_SECRET), and Better
// Auth's JWKS (asymmetric keys from its jwt plugin). The algorithm a token is checked with
// comes from the mode and the key, never from the token alone: an HS256 token is only ever
// checked with the secret, an asymmetric one only with a JWKS key whose own algorithm it
// names.
package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jws"
	"github.com/lestrrat-go/jwx/v2/jwt"

	"taskapi/internal/problem"
)

// Reasons a token is refused. They are the error_description of the 401 and the detail of
// its problem body, so they say what is wrong without repeating any of the token.
const (
	ReasonMissing        = "missing bearer token"
	ReasonMalformed      = "malformed token"
	ReasonAlgorithm      = "token algorithm not accepted"
	ReasonKeyAlgorithm   = "token algorithm does not match its key"
	ReasonUnknownKey     = "unknown signing key (kid)"
	ReasonSignature      = "invalid token signature"
	ReasonExpired        = "token expired"
	ReasonNotYetValid    = "token not valid yet (nbf)"
	ReasonIssuedInFuture = "token issued in the future (iat)"
	ReasonIssuer         = "token issuer mismatch"
	ReasonAudience       = "token audience mismatch"
	ReasonNoExpiry       = "token has no exp claim"
	ReasonNoSubject      = "token has no sub claim"
)

// ErrMissingToken is the cause of the problem returned when a request has no bearer token,
// so the HTTP layer can answer with a challenge that carries no error code (RFC 6750 §3.1).
var ErrMissingToken = errors.New(ReasonMissing)

// Options configure a Verifier: at least one of Secret and Keys.
type Options struct {
	// Secret is the shared HS256 key (BETTER_AUTH_SECRET as raw bytes); nil: no HS256.
	Secret []byte
	// Issuer and Audience, when set, must match the iss and aud of HS256 tokens.
	Issuer   string
	Audience string

	// Keys is Better Auth's JWKS; nil: no asymmetric tokens.
	Keys *KeySet
	// KeysIssuer and KeysAudience must match the iss and aud of tokens signed with Keys
	// (Better Auth sets both to its base URL).
	KeysIssuer   string
	KeysAudience string

	// Leeway absorbs clock skew when checking exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks tokens and returns the user id they carry.
type Verifier struct {
	secret         []byte
	keys           *KeySet
	secretValidate []jwt.ParseOption
	keysValidate   []jwt.ParseOption
	leeway         time.Duration
	now            func() time.Time
	verified       *verified
}

// verifiedCacheSize bounds the tokens remembered as verified (a few hundred bytes each).
const verifiedCacheSize = 50_000

// NewVerifier returns a verifier for the configured modes.
func NewVerifier(opts Options) (*Verifier, error) {
	if len(opts.Secret) == 0 && opts.Keys == nil {
		return nil, errors.New("auth: neither a secret nor a key set")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	validate := func(issuer, audience string) []jwt.ParseOption {
		o := []jwt.ParseOption{
			jwt.WithValidate(true),
			jwt.WithAcceptableSkew(opts.Leeway),
			jwt.WithClock(jwt.ClockFunc(now)),
			jwt.WithRequiredClaim(jwt.ExpirationKey),
		}
		if issuer != "" {
			o = append(o, jwt.WithIssuer(issuer))
		}
		if audience != "" {
			o = append(o, jwt.WithAudience(audience))
		}
		return o
	}
	return &Verifier{
		secret:         opts.Secret,
		keys:           opts.Keys,
		secretValidate: validate(opts.Issuer, opts.Audience),
		keysValidate:   validate(opts.KeysIssuer, opts.KeysAudience),
		leeway:         opts.Leeway,
		now:            now,
		verified:       newVerified(verifiedCacheSize),
	}, nil
}

// Mode describes how tokens are verified, for the startup log and /readyz. ok is false when
// tokens cannot be verified at all yet (the JWKS was never fetched and there is no secret).
func (v *Verifier) Mode() (description string, ok bool) {
	var modes []string
	ok = len(v.secret) > 0
	if ok {
		modes = append(modes, "hs256: shared secret")
	}
	if v.keys != nil {
		status, keysOK := v.keys.Status()
		modes = append(modes, status)
		ok = ok || keysOK
	}
	return strings.Join(modes, "; "), ok
}

// Verify checks a compact JWS token and returns its sub. Every failure is a *problem.Error:
// Unauthorized with one of the Reason constants as detail, or Unavailable when the key set
// has never been fetched.
func (v *Verifier) Verify(ctx context.Context, token string) (string, error) {
	if token == "" {
		return "", problem.Wrap(problem.Unauthorized, ReasonMissing, ErrMissingToken)
	}
	now := v.now()
	var generation uint64
	if v.keys != nil {
		generation = v.keys.generation()
	}
	if sub, ok := v.verified.get(token, now, generation); ok {
		return sub, nil
	}
	return v.check(ctx, token, now, generation)
}

// check is Verify without the cache of verified tokens.
func (v *Verifier) check(ctx context.Context, token string, now time.Time, generation uint64) (string, error) {
	header, err := readHeader(token)
	if err != nil {
		return "", refuse(ReasonMalformed, err)
	}
	var options []jwt.ParseOption
	var keyGeneration uint64 // stays 0 for the shared secret
	switch alg := jwa.SignatureAlgorithm(header.Alg); {
	case alg == jwa.HS256 && len(v.secret) > 0:
		options = append([]jwt.ParseOption{jwt.WithKey(jwa.HS256, v.secret)}, v.secretValidate...)
	case slices.Contains(Accepted, alg) && v.keys != nil:
		key, err := v.keys.lookup(ctx, header.Kid)
		switch {
		case errors.Is(err, errKeysUnavailable):
			return "", problem.Wrap(problem.Unavailable, "the signing keys are unavailable; retry shortly", err)
		case err != nil:
			return "", refuse(ReasonUnknownKey, err)
		case !slices.Contains(key.algs, alg):
			return "", refuse(ReasonKeyAlgorithm, fmt.Errorf("alg %s, key allows %v", alg, key.algs))
		}
		options = append([]jwt.ParseOption{jwt.WithKey(alg, key.key)}, v.keysValidate...)
		keyGeneration = generation
	default:
		return "", refuse(ReasonAlgorithm, fmt.Errorf("alg %.20q", header.Alg))
	}
	parsed, err := jwt.ParseString(token, options...)
	if err != nil {
		return "", refuse(reason(err), err)
	}
	if parsed.Subject() == "" {
		return "", refuse(ReasonNoSubject, nil)
	}
	from := parsed.IssuedAt()
	if nbf := parsed.NotBefore(); nbf.After(from) {
		from = nbf
	}
	v.verified.put(token, verifiedToken{
		sub:           parsed.Subject(),
		from:          from.Add(-v.leeway),
		until:         parsed.Expiration().Add(v.leeway),
		keyGeneration: keyGeneration,
	}, now)
	return parsed.Subject(), nil
}

func refuse(reason string, cause error) error {
	return problem.Wrap(problem.Unauthorized, reason, cause)
}

func reason(err error) string {
	switch {
	case errors.Is(err, jwt.ErrTokenExpired()):
		return ReasonExpired
	case errors.Is(err, jwt.ErrTokenNotYetValid()):
		return ReasonNotYetValid
	case errors.Is(err, jwt.ErrInvalidIssuedAt()):
		return ReasonIssuedInFuture
	case errors.Is(err, jwt.ErrInvalidIssuer()):
		return ReasonIssuer
	case errors.Is(err, jwt.ErrInvalidAudience()):
		return ReasonAudience
	case errors.Is(err, jwt.ErrRequiredClaim()):
		return ReasonNoExpiry
	case jws.IsVerificationError(err):
		return ReasonSignature
	default:
		return ReasonMalformed
	}
}

type header struct {
	Alg string `json:"alg"`
	Kid string `json:"kid"`
}

// readHeader reads alg and kid from a compact token's header without trusting anything else
// in it (jku, x5u and jwk are never looked at). Only the compact form (three base64url
// parts) is a token here; jwx would also take the JSON serialization, which Better Auth
// never sends.
func readHeader(token string) (header, error) {
	first, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return header{}, errors.New("not three dot-separated parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(first)
	if err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	var h header
	if err := json.NewDecoder(bytes.NewReader(raw)).Decode(&h); err != nil {
		return header{}, fmt.Errorf("header: %w", err)
	}
	return h, nil
}
