package recurrence

import "fmt"

// Error is a problem with a rule or zone, with a message a person understands, for errors[].message of a 422.
type Error struct{ Message string }

func (e *Error) Error() string { return e.Message }

func errorf(format string, args ...any) error { return &Error{Message: fmt.Sprintf(format, args...)} }
