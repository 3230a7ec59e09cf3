-- Every query names the user: a task that belongs to someone else does not exist here.
-- (sqlc vet enforces this; see sqlc.yaml.)

-- name: CreateTask :one
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, tags)
VALUES (@id, @user_id, @title, @description, @completed, @priority, @due_date, @tags)
RETURNING *;

-- name: GetTask :one
SELECT * FROM tasks
WHERE user_id = @user_id AND id = @id;

-- name: TaskExists :one
SELECT EXISTS (SELECT FROM tasks WHERE user_id = @user_id AND id = @id);

-- UpdateTask serves PATCH (only the fields given) and PUT (all of them). A null title,
-- completed, priority or tags keeps the old value; description and due_date change only when
-- their set_ flag is true, so that null can clear them. With if_versions (from If-Match) the
-- row is written only if its version is one of them: check and write in one statement.
-- name: UpdateTask :one
UPDATE tasks SET
    title       = coalesce(sqlc.narg(title), title),
    description = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
    completed   = coalesce(sqlc.narg(completed), completed),
    priority    = coalesce(sqlc.narg(priority), priority),
    due_date    = CASE WHEN @set_due_date::boolean THEN sqlc.narg(due_date) ELSE due_date END,
    tags        = coalesce(sqlc.narg(tags), tags)
WHERE user_id = @user_id AND id = @id
  AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]))
RETURNING *;

-- name: DeleteTask :execrows
DELETE FROM tasks
WHERE user_id = @user_id AND id = @id
  AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]));

-- The default list (newest first, no filter) is most of the traffic. Without optional
-- filters its statement has a good generic plan (an index range scan on
-- tasks_user_created), so a prepared statement runs without being planned again; the general
-- queries below, with every filter as a parameter, are planned for each call.
-- name: ListTasksNewestFirst :many
SELECT * FROM tasks
WHERE user_id = @user_id
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: ListTasksNewestAfter :many
SELECT * FROM tasks
WHERE user_id = @user_id AND (created_at, id) < (sqlc.arg(after_key)::text::timestamptz, sqlc.arg(after_id)::uuid)
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- The list queries, one per sort order; each reads the user's rows through an index led by
-- user_id (migrations 3 and 5, TestEveryListVariantUsesAnIndex). They share one parameter
-- list: the filters, then the keyset position after_key/after_id of the last row of the
-- previous page (after_key as text, cast to the sort column's type), then the page size.
-- Their filter blocks are identical (TestListQueriesShareOneFilterBlock fails otherwise).

-- name: ListTasksByCreatedAtAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (created_at, id) > (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))
ORDER BY created_at, id
LIMIT @page_size;

-- name: ListTasksByCreatedAtDesc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (created_at, id) < (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))
ORDER BY created_at DESC, id DESC
LIMIT @page_size;

-- name: ListTasksByUpdatedAtAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (updated_at, id) > (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))
ORDER BY updated_at, id
LIMIT @page_size;

-- name: ListTasksByUpdatedAtDesc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (updated_at, id) < (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))
ORDER BY updated_at DESC, id DESC
LIMIT @page_size;

-- name: ListTasksByTitleAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (title, id) > (sqlc.narg(after_key)::text, sqlc.narg(after_id)))
ORDER BY title, id
LIMIT @page_size;

-- name: ListTasksByTitleDesc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (title, id) < (sqlc.narg(after_key)::text, sqlc.narg(after_id)))
ORDER BY title DESC, id DESC
LIMIT @page_size;

-- name: ListTasksByPriorityAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (priority, id) > (sqlc.narg(after_key)::text::task_priority, sqlc.narg(after_id)))
ORDER BY priority, id
LIMIT @page_size;

-- name: ListTasksByPriorityDesc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (priority, id) < (sqlc.narg(after_key)::text::task_priority, sqlc.narg(after_id)))
ORDER BY priority DESC, id DESC
LIMIT @page_size;

-- Tasks without a due date come last in both directions; a null after_key means the
-- previous page ended among them.
-- name: ListTasksByDueDateAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (sqlc.narg(after_key)::text IS NULL AND due_date IS NULL AND id > sqlc.narg(after_id))
       OR (sqlc.narg(after_key)::text IS NOT NULL
           AND (due_date IS NULL OR (due_date, id) > (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))))
ORDER BY due_date ASC NULLS LAST, id
LIMIT @page_size;

-- Tasks without a due date come last in both directions; a null after_key means the
-- previous page ended among them.
-- name: ListTasksByDueDateDesc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL OR title ILIKE sqlc.narg(pattern) OR description ILIKE sqlc.narg(pattern))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (sqlc.narg(after_key)::text IS NULL AND due_date IS NULL AND id < sqlc.narg(after_id))
       OR (sqlc.narg(after_key)::text IS NOT NULL
           AND (due_date IS NULL OR (due_date, id) < (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))))
ORDER BY due_date DESC NULLS LAST, id DESC
LIMIT @page_size;

-- ToggleTaskCompleted flips completed in one statement, so two toggles never read the same
-- old value (the Phase II routes PATCH .../tasks/{id}/complete); if_versions as in UpdateTask.
-- name: ToggleTaskCompleted :one
UPDATE tasks SET completed = NOT completed
WHERE user_id = @user_id AND id = @id
  AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]))
RETURNING *;
