-- +goose NO TRANSACTION
-- +goose Up
-- Cost that stays flat as a user's tasks grow, and a schema ready to be sharded by user.
--
-- Sorting by title, priority or updated_at read all of the user's rows and sorted them:
-- cheap at a hundred tasks, not at ten thousand (bench/RESULTS.md, growth). Each order gets an
-- index led by user_id again (migration 3 had dropped them for lean writes), read forwards or
-- backwards for the two directions (these columns are never null). The price: an update
-- changes updated_at, so with this index no update is HOT any more, and every write touches
-- three more indexes (measured in bench/RESULTS.md).
--
-- The primary key becomes (user_id, id): every primary key and unique constraint then holds
-- the user id, as Citus requires of a table distributed by it (docs/scaling.md); every query
-- already names the user (sqlc vet). Built concurrently first, then swapped in one short
-- ALTER (no scan: the index is valid and both columns are NOT NULL).
--
-- CONCURRENTLY: nothing here may block writes to a table in use for longer than a moment. A
-- build that failed leaves an invalid index behind, so each is dropped first and the
-- migration can be rerun. lock_timeout: the swap waits at most a second for its lock (behind a
-- long transaction) rather than queueing every request behind it; rerun it if it gave up. (It
-- is set inside the statement: goose runs these statements on any connection of its pool.)
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_title;
CREATE INDEX CONCURRENTLY tasks_user_title ON tasks (user_id, title, id);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_priority;
CREATE INDEX CONCURRENTLY tasks_user_priority ON tasks (user_id, priority, id);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_updated;
CREATE INDEX CONCURRENTLY tasks_user_updated ON tasks (user_id, updated_at, id);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_id;
CREATE UNIQUE INDEX CONCURRENTLY tasks_user_id ON tasks (user_id, id);
-- +goose StatementBegin
DO $$
BEGIN
    PERFORM set_config('lock_timeout', '1s', true);
    ALTER TABLE tasks DROP CONSTRAINT tasks_pkey, ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_user_id;
END
$$;
-- +goose StatementEnd

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS tasks_id;
CREATE UNIQUE INDEX CONCURRENTLY tasks_id ON tasks (id);
-- +goose StatementBegin
DO $$
BEGIN
    PERFORM set_config('lock_timeout', '1s', true);
    ALTER TABLE tasks DROP CONSTRAINT tasks_pkey, ADD CONSTRAINT tasks_pkey PRIMARY KEY USING INDEX tasks_id;
END
$$;
-- +goose StatementEnd
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_updated;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_priority;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_title;
