package tasks

import (
	"context"
	"errors"
	"io"

	"github.com/jackc/pgx/v5/pgconn"
)

// retryRead runs a read once more when its connection turned out to be dead: the server
// terminated it (57P01, as Neon does when it restarts or scales a compute) or it broke
// before an answer came. Reads are safe to repeat; writes are never retried here.
func retryRead[T any](ctx context.Context, read func() (T, error)) (T, error) {
	v, err := read()
	if err != nil && ctx.Err() == nil && connectionLost(err) {
		return read()
	}
	return v, err
}

func connectionLost(err error) bool {
	if pgErr, ok := errors.AsType[*pgconn.PgError](err); ok {
		return pgErr.Code == "57P01" || pgErr.Code == "57P02" // admin_shutdown, crash_shutdown
	}
	// The server closed the socket under the query (pgx reports the cut as an EOF).
	return pgconn.SafeToRetry(err) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
}
