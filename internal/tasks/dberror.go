package tasks

import (
	"context"
	"errors"
	"net"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/puddle/v2"

	"taskapi/internal/problem"
)

// ErrorFromDB classifies a database error, for the service and the packages beside it that
// read the same tables (internal/events). Data errors caused by client input become 4xx
// (the request validator should have caught them; this is the last line), an unreachable or
// restarting server becomes 503 so clients retry, and everything else stays internal.
func ErrorFromDB(err error) error {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		switch pgErr.Code[:2] {
		case "22": // data exception: a value PostgreSQL cannot take
			return problem.Wrap(problem.BadRequest, "a value in the request cannot be stored", err)
		case "23": // integrity constraint: a CHECK the validator should have matched
			if field, ok := constraintFields[pgErr.ConstraintName]; ok {
				return &problem.Error{Kind: problem.Invalid, Detail: "the task is not valid: " + field.Field + " " + field.Message,
					Fields: []problem.FieldError{field}, Err: err}
			}
			return problem.Wrap(problem.Invalid, "the task breaks a rule of the database", err)
		case "08", "53", "57": // connection, resources, operator intervention (shutdown, timeout)
			return unavailable(err)
		}
		return err
	}
	_, connectErr := errors.AsType[*pgconn.ConnectError](err)
	_, netErr := errors.AsType[net.Error](err)
	if connectErr || netErr || connectionLost(err) || errors.Is(err, puddle.ErrClosedPool) || errors.Is(err, context.DeadlineExceeded) {
		return unavailable(err)
	}
	return err
}

// constraintFields names the field at fault for the rules only the stored task can check: a
// patch that clears the due date of a recurring task (or sets a recurrence on a task without
// one) is judged against the task as it is.
var constraintFields = map[string]problem.FieldError{
	"tasks_recurrence_needs_due_date": {Field: "due_date", Message: "is required while the task has a recurrence (the rule repeats from it)"},
}

func unavailable(cause error) error {
	return problem.Wrap(problem.Unavailable, "the database is unavailable; retry shortly", cause)
}
