package tasks

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"

	"github.com/jackc/pgx/v5"

	api "taskapi/gen/api"
	"taskapi/gen/db"
	"taskapi/internal/problem"
)

var replayed = new("true")

// createOnce creates the task and records the response under the caller's key, in one
// transaction. A request that finds the key taken replays what was recorded; one that
// arrives while another holds the key waits for it (on the key's row) and then replays, so
// concurrent retries never create two tasks.
func (s *Service) createOnce(ctx context.Context, user, key string, in input) (api.CreateTaskResponseObject, error) {
	fingerprint, err := json.Marshal(in) // the normalised request: same task, same fingerprint
	if err != nil {
		return nil, err
	}
	hash := sha256.Sum256(fingerprint)

	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return nil, dbError(err)
	}
	defer tx.Rollback(ctx) //nolint:errcheck // after Commit it is a no-op
	q := s.queries.WithTx(tx)

	_, err = q.ClaimIdempotencyKey(ctx, db.ClaimIdempotencyKeyParams{UserID: user, Key: key, RequestHash: hash[:]})
	if errors.Is(err, pgx.ErrNoRows) {
		_ = tx.Rollback(ctx)
		return s.replay(ctx, user, key, hash[:])
	}
	if err != nil {
		return nil, dbError(err)
	}
	row, err := s.insert(ctx, q, user, in)
	if err != nil {
		return nil, err
	}
	task, tag := ToAPI(row), etag(row.Version)
	body, err := json.Marshal(task)
	if err != nil {
		return nil, err
	}
	err = q.CompleteIdempotencyKey(ctx, db.CompleteIdempotencyKeyParams{UserID: user, Key: key, TaskID: &row.ID, Etag: &tag, Body: new(string(body))})
	if err != nil {
		return nil, dbError(err)
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, dbError(err)
	}
	return created(task, tag, nil), nil
}

func (s *Service) replay(ctx context.Context, user, key string, hash []byte) (api.CreateTaskResponseObject, error) {
	saved, err := s.queries.GetIdempotencyKey(ctx, db.GetIdempotencyKeyParams{UserID: user, Key: key})
	if err != nil {
		// Gone between the claim and now: only the expiry cleanup deletes keys.
		return nil, ErrorFromDB(err)
	}
	if string(saved.RequestHash) != string(hash) {
		return nil, problem.InvalidFields("this Idempotency-Key was already used for a different request",
			problem.FieldError{Field: "Idempotency-Key", Message: "was used with a different request body"})
	}
	if saved.Etag == nil || saved.Body == nil {
		return nil, errors.New("tasks: idempotency key committed without its response")
	}
	var task api.Task
	if err := json.Unmarshal([]byte(*saved.Body), &task); err != nil {
		return nil, err
	}
	return created(task, *saved.Etag, replayed), nil
}

// DeleteExpiredIdempotencyKeys removes keys past their 24 hours; run periodically.
func (s *Service) DeleteExpiredIdempotencyKeys(ctx context.Context) (int64, error) {
	return s.queries.DeleteExpiredIdempotencyKeys(ctx)
}
