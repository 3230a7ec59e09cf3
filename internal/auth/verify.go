// Package auth verifies the bearer tokens that Better Auth issues and carries the caller's
// user id on the request context.
package auth

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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

// Options configure a Verifier.
type Options struct {
	// Secret is the shared HS256 key (BETTER_AUTH_SECRET as raw bytes).
	Secret []byte
	// Issuer and Audience, when set, must match the token's iss and aud.
	Issuer   string
	Audience string
	// Leeway absorbs clock skew when checking exp, nbf and iat.
	Leeway time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verifier checks tokens and returns the user id they carry.
type Verifier struct {
	parseOptions []jwt.ParseOption
}

// NewVerifier returns a verifier that accepts HS256 tokens signed with opts.Secret.
func NewVerifier(opts Options) (*Verifier, error) {
	if len(opts.Secret) == 0 {
		return nil, errors.New("auth: no secret")
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	parseOptions := []jwt.ParseOption{
		// The key is pinned to HS256: the token's own alg header cannot choose another
		// algorithm, and jku/x5u/jwk headers are never consulted.
		jwt.WithKey(jwa.HS256, opts.Secret),
		jwt.WithValidate(true),
		jwt.WithAcceptableSkew(opts.Leeway),
		jwt.WithClock(jwt.ClockFunc(now)),
		jwt.WithRequiredClaim(jwt.ExpirationKey),
	}
	if opts.Issuer != "" {
		parseOptions = append(parseOptions, jwt.WithIssuer(opts.Issuer))
	}
	if opts.Audience != "" {
		parseOptions = append(parseOptions, jwt.WithAudience(opts.Audience))
	}
	return &Verifier{parseOptions: parseOptions}, nil
}

// Mode describes how tokens are verified, for the startup log and /readyz.
func (v *Verifier) Mode() string { return "hs256: shared secret" }

// Verify checks a compact JWS token and returns its sub. Every failure is a
// *problem.Error of kind Unauthorized whose detail is one of the Reason constants.
func (v *Verifier) Verify(_ context.Context, token string) (string, error) {
	if token == "" {
		return "", problem.Wrap(problem.Unauthorized, ReasonMissing, ErrMissingToken)
	}
	alg, err := headerAlgorithm(token)
	if err != nil {
		return "", refuse(ReasonMalformed, err)
	}
	if alg != jwa.HS256.String() {
		return "", refuse(ReasonAlgorithm, fmt.Errorf("alg %.20q", alg))
	}
	parsed, err := jwt.ParseString(token, v.parseOptions...)
	if err != nil {
		return "", refuse(reason(err), err)
	}
	if parsed.Subject() == "" {
		return "", refuse(ReasonNoSubject, nil)
	}
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

// headerAlgorithm reads alg from a compact token's header without trusting anything else in
// it. Only the compact form (three base64url parts) is a token here; jwx would also take the
// JSON serialization, which Better Auth never sends.
func headerAlgorithm(token string) (string, error) {
	header, rest, ok := strings.Cut(token, ".")
	if !ok || strings.Count(rest, ".") != 1 {
		return "", errors.New("not three dot-separated parts")
	}
	raw, err := base64.RawURLEncoding.DecodeString(header)
	if err != nil {
		return "", fmt.Errorf("header: %w", err)
	}
	var h struct {
		Alg string `json:"alg"`
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&h); err != nil {
		return "", fmt.Errorf("header: %w", err)
	}
	return h.Alg, nil
}
