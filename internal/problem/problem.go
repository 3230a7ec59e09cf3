// Package problem is the small vocabulary of ways a request can fail. Code below the HTTP layer
// returns a *problem.Error; internal/httpapi turns its Kind into a status and an RFC 9457 body.
// Any other error is an internal one and is never shown to the client.
package problem

import (
	"errors"
	"fmt"
)

// Kind is what went wrong, from the client's point of view.
type Kind int

const (
	// Internal is a fault on our side; the client sees nothing more than that.
	Internal Kind = iota
	// BadRequest is a request that cannot be read: malformed JSON, wrong types, bad parameters.
	BadRequest
	// Unauthorized is a missing or unusable bearer token.
	Unauthorized
	// NotFound is a resource that does not exist for this caller.
	NotFound
	// MethodNotAllowed is a method the resource does not support.
	MethodNotAllowed
	// PreconditionFailed is an If-Match that no longer matches: someone else wrote first.
	PreconditionFailed
	// TooLarge is a request body over the configured limit.
	TooLarge
	// UnsupportedMediaType is a body in a format the operation does not take.
	UnsupportedMediaType
	// Invalid is a well-formed request that breaks a field rule.
	Invalid
	// TooManyRequests is a caller over their rate limit.
	TooManyRequests
	// HeadersTooLarge is a request whose header fields are over the limit.
	HeadersTooLarge
	// Unavailable is a dependency that is down for now; the client may retry.
	Unavailable
	// Gone is a cursor older than what is kept: the client must start over.
	Gone
)

// FieldError is one broken rule, named by the body field or query parameter at fault.
type FieldError struct {
	Field   string
	Message string
}

// Error is a failure with a message fit for the client. Err, when set, is the cause: it is
// logged and matched with errors.Is, never sent.
type Error struct {
	Kind   Kind
	Detail string
	Fields []FieldError
	Err    error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %v", e.Detail, e.Err)
	}
	return e.Detail
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error of the given kind with a message for the client.
func New(kind Kind, detail string) *Error {
	return &Error{Kind: kind, Detail: detail}
}

// Wrap is New with a cause kept for the logs.
func Wrap(kind Kind, detail string, cause error) *Error {
	return &Error{Kind: kind, Detail: detail, Err: cause}
}

// InvalidFields is a 422-style error listing each broken rule.
func InvalidFields(detail string, fields ...FieldError) *Error {
	return &Error{Kind: Invalid, Detail: detail, Fields: fields}
}

// KindOf returns the kind of err, Internal for anything that is not a *Error.
func KindOf(err error) Kind {
	if e, ok := errors.AsType[*Error](err); ok {
		return e.Kind
	}
	return Internal
}
