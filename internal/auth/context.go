package auth

import "context"

type userKey struct{}

// WithUser returns ctx carrying the authenticated user's id.
func WithUser(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, userKey{}, userID)
}

// UserID returns the authenticated user's id, and false when the request was not
// authenticated (a bug below the HTTP layer, which only routes authenticated requests there).
func UserID(ctx context.Context) (string, bool) {
	id, ok := ctx.Value(userKey{}).(string)
	return id, ok && id != ""
}
