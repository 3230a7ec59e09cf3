-- Idempotency keys (see migration 00002). A key is claimed inside the transaction that creates
-- the task; a claimed key from a committed transaction replays, an expired one is reused.

-- ClaimIdempotencyKey returns a row when this request owns the key (new, or expired and
-- reclaimed); no row when an earlier request holds it. A concurrent request with the same key
-- waits here until the holder commits or rolls back.
-- name: ClaimIdempotencyKey :one
INSERT INTO idempotency_keys (user_id, key, request_hash)
VALUES (@user_id, @key, @request_hash)
ON CONFLICT (user_id, key) DO UPDATE
    SET request_hash = EXCLUDED.request_hash, task_id = NULL, etag = NULL, body = NULL, created_at = now()
    WHERE idempotency_keys.created_at < now() - interval '24 hours'
RETURNING user_id;

-- name: CompleteIdempotencyKey :exec
UPDATE idempotency_keys SET task_id = @task_id, etag = @etag, body = @body
WHERE user_id = @user_id AND key = @key;

-- name: GetIdempotencyKey :one
SELECT request_hash, task_id, etag, body FROM idempotency_keys
WHERE user_id = @user_id AND key = @key;

-- name: DeleteExpiredIdempotencyKeys :execrows
DELETE FROM idempotency_keys
WHERE created_at < now() - interval '24 hours';
