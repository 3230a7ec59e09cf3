-- +goose NO TRANSACTION
-- +goose Up
-- After the default order, a task list is most often sorted by due date ("what is due next",
-- and the other way round). Without an index of its own such a page read all of the user's
-- rows and sorted them, so it cost more the more tasks the user had; with one it reads the
-- page's rows and stops (TestDueDatePagesReadAPageNotTheUser). The price is two more index
-- entries per insert; an update that leaves the due date alone stays HOT. Measured in
-- Performance (README).
-- CONCURRENTLY: building them must not block writes to a table in use. A build that failed
-- leaves an invalid index behind, so each is dropped first and the migration can be rerun.
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_asc;
CREATE INDEX CONCURRENTLY tasks_user_due_asc ON tasks (user_id, due_date ASC NULLS LAST, id);
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_desc;
CREATE INDEX CONCURRENTLY tasks_user_due_desc ON tasks (user_id, due_date DESC NULLS LAST, id DESC);

-- +goose Down
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_desc;
DROP INDEX CONCURRENTLY IF EXISTS tasks_user_due_asc;
