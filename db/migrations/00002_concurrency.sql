-- +goose Up

-- version counts every write to a task; the ETag is made from it, so If-Match can be checked
-- in the same UPDATE that writes (WHERE version = ...), atomically.
ALTER TABLE tasks ADD COLUMN version bigint NOT NULL DEFAULT 1;

-- +goose StatementBegin
CREATE FUNCTION tasks_bump_version() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tasks_bump_version
    BEFORE UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_bump_version();

-- A POST with an Idempotency-Key, per user. The row is inserted in the same transaction as
-- the task it creates, so a key and its task are committed together or not at all, and a
-- concurrent request with the same key waits on the row and then replays it.
-- task_id, etag and body (the 201's) are filled in before that transaction commits, so other
-- transactions never see them empty.
CREATE TABLE idempotency_keys (
    user_id      text        NOT NULL,
    key          text        NOT NULL CHECK (char_length(key) BETWEEN 1 AND 255),
    request_hash bytea       NOT NULL,
    task_id      uuid,
    etag         text,
    body         text,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, key)
);

-- For the cleanup of keys past their 24 hours.
CREATE INDEX idempotency_keys_created_at ON idempotency_keys (created_at);

-- +goose Down
DROP TABLE idempotency_keys;
DROP TRIGGER tasks_bump_version ON tasks;
DROP FUNCTION tasks_bump_version();
ALTER TABLE tasks DROP COLUMN version;
