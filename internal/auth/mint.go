package auth

import (
	"time"

	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/lestrrat-go/jwx/v2/jwt"
)

// Claims are what Mint puts in a token.
type Claims struct {
	Subject  string
	Issuer   string
	Audience string
	IssuedAt time.Time
	TTL      time.Duration
}

// Mint signs an HS256 token with secret, the way a frontend that shares BETTER_AUTH_SECRET
// would. It serves `taskapi token` and the tests.
func Mint(secret []byte, c Claims) (string, error) {
	b := jwt.NewBuilder().
		Subject(c.Subject).
		IssuedAt(c.IssuedAt).
		Expiration(c.IssuedAt.Add(c.TTL))
	if c.Issuer != "" {
		b = b.Issuer(c.Issuer)
	}
	if c.Audience != "" {
		b = b.Audience([]string{c.Audience})
	}
	tok, err := b.Build()
	if err != nil {
		return "", err
	}
	signed, err := jwt.Sign(tok, jwt.WithKey(jwa.HS256, secret))
	return string(signed), err
}
