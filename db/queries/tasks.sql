-- Every query names the user: a task that belongs to someone else does not exist here.
-- (sqlc vet enforces this; see sqlc.yaml.)

-- name: CreateTask :one
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, tags, recurrence, timezone, remind_at, upcoming)
VALUES (@id, @user_id, @title, @description, @completed, @priority, @due_date, @tags, @recurrence, @timezone, @remind_at, @upcoming)
RETURNING *;

-- name: GetTask :one
SELECT * FROM tasks
WHERE user_id = @user_id AND id = @id;

-- name: TaskExists :one
SELECT EXISTS (SELECT FROM tasks WHERE user_id = @user_id AND id = @id);

-- UpdateTask serves PATCH and PUT (only the fields given). A null title, completed,
-- priority, tags or timezone keeps the old value; description, due_date, recurrence and
-- remind_at change only when their set_ flag is true, so that null can clear them. With
-- if_versions (from If-Match) the row is written only if its version is one of them: check and
-- write in one statement.
-- Completing an open occurrence of a recurring task makes the next one in the same statement
-- (next_occurrence), due at the first of its upcoming dates that is still ahead; a write that
-- cannot (no upcoming dates known, none ahead, or the rule, due date or zone changing with it)
-- writes nothing, and the service completes the task on its own path (CompleteOccurrence). A
-- write that changes the rule, the due date or the zone forgets the upcoming dates.
-- name: UpdateTask :one
WITH done AS (
    UPDATE tasks SET
        title       = coalesce(sqlc.narg(title), title),
        description = CASE WHEN @set_description::boolean THEN sqlc.narg(description) ELSE description END,
        completed   = coalesce(sqlc.narg(completed), completed),
        priority    = coalesce(sqlc.narg(priority), priority),
        due_date    = CASE WHEN @set_due_date::boolean THEN sqlc.narg(due_date) ELSE due_date END,
        tags        = coalesce(sqlc.narg(tags), tags),
        recurrence  = CASE WHEN @set_recurrence::boolean THEN sqlc.narg(recurrence)::text ELSE recurrence END,
        timezone    = coalesce(sqlc.narg(timezone)::text, timezone),
        remind_at   = CASE WHEN @set_remind_at::boolean THEN sqlc.narg(remind_at) ELSE remind_at END,
        upcoming    = CASE WHEN @set_recurrence OR @set_due_date OR sqlc.narg(timezone)::text IS NOT NULL THEN NULL ELSE upcoming END
    WHERE tasks.user_id = @user_id AND tasks.id = @id
      AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]))
      AND NOT (coalesce(sqlc.narg(completed), false) AND NOT completed
               AND (recurrence IS NOT NULL OR (@set_recurrence AND sqlc.narg(recurrence)::text IS NOT NULL))
               AND (@set_recurrence OR @set_due_date OR sqlc.narg(timezone)::text IS NOT NULL
                    OR NOT coalesce(upcoming[cardinality(upcoming)] > now(), false)))
    RETURNING *
), next_occurrence AS (
    INSERT INTO tasks (id, user_id, title, description, priority, tags, due_date, recurrence, timezone, series_id,
                       occurrence, remind_at, upcoming)
    SELECT @next_id, done.user_id, done.title, done.description, done.priority, done.tags, ahead.due, done.recurrence,
           done.timezone, done.series_id, done.occurrence + 1, done.remind_at + (ahead.due - done.due_date),
           done.upcoming[ahead.i + 1:]
    FROM done, LATERAL (SELECT u.due, u.i FROM unnest(done.upcoming) WITH ORDINALITY AS u (due, i)
                        WHERE u.due > now() ORDER BY u.i LIMIT 1) AS ahead
    WHERE done.completed_at = now() AND done.series_id IS NOT NULL
    ON CONFLICT (user_id, series_id, occurrence) WHERE series_id IS NOT NULL DO NOTHING
    RETURNING tasks.id
)
SELECT done.*, made.id AS made_id, earlier.id AS earlier_id
FROM done
LEFT JOIN next_occurrence AS made ON true
LEFT JOIN tasks AS earlier ON done.completed_at = now() AND earlier.user_id = done.user_id
     AND earlier.series_id = done.series_id AND earlier.occurrence = done.occurrence + 1;

-- name: DeleteTask :execrows
DELETE FROM tasks
WHERE user_id = @user_id AND id = @id
  AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]));

-- The default list (newest first, no filter) is most of the traffic. Without optional
-- filters its statement has a good generic plan (an index range scan on
-- tasks_user_created), so a prepared statement runs without being planned again; the general
-- queries below, with every filter as a parameter, are planned for each call.
-- The inner LIMIT 101 (the largest page, 100, and the one row that says a next page exists) is
-- there for the planner: it prices a generic plan's LIMIT parameter as 10% of the user's rows,
-- which at 10,000 tasks a user made the generic plan look 50 times dearer than a plan for the
-- values, so PostgreSQL planned every call again (TestPlainPagesKeepTheirCachedPlan). Bounded by
-- a constant, the generic plan is priced for at most 101 rows; the outer LIMIT still stops the
-- index scan after the page.
-- name: ListTasksNewestFirst :many
SELECT page.* FROM (
    SELECT * FROM tasks
    WHERE user_id = @user_id
    ORDER BY created_at DESC, id DESC
    LIMIT 101
) AS page
ORDER BY page.created_at DESC, page.id DESC
LIMIT @page_size;

-- name: ListTasksNewestAfter :many
SELECT page.* FROM (
    SELECT * FROM tasks
    WHERE user_id = @user_id AND (created_at, id) < (sqlc.arg(after_key)::text::timestamptz, sqlc.arg(after_id)::uuid)
    ORDER BY created_at DESC, id DESC
    LIMIT 101
) AS page
ORDER BY page.created_at DESC, page.id DESC
LIMIT @page_size;

-- The list queries, one per sort order; each reads the user's rows through an index led by
-- user_id (migrations 3 and 5, TestEveryListVariantUsesAnIndex). They share one parameter
-- list: the filters, then the keyset position after_key/after_id of the last row of the
-- previous page (after_key as text, cast to the sort column's type), then the page size.
-- Their filter blocks are identical (TestListQueriesShareOneFilterBlock fails otherwise).
-- A search (pattern) is asked twice: LIKE on the lowered title and description is what
-- tasks_user_search can answer (migration 9: the user's candidate rows, not all of them);
-- LIKE on each lowered column is the exact test, since that text also matches across the two.
-- That test is what ILIKE does on an ICU column (lower() both sides, then LIKE), written out so
-- that the planner has no statistics to try it on: it estimates an ILIKE by running it on up
-- to 200 of the column's common values and histogram bounds, each lowered through ICU, which
-- was most of a search's planning at 10,000 tasks a user (bench/RESULTS.md, 2026-12-02).

-- name: ListTasksByCreatedAtAsc :many
SELECT * FROM tasks
WHERE user_id = @user_id
  AND (sqlc.narg(completed)::boolean IS NULL OR completed = sqlc.narg(completed))
  AND (sqlc.narg(priority)::task_priority IS NULL OR priority = sqlc.narg(priority))
  AND (sqlc.narg(tag)::text IS NULL OR tags @> ARRAY[sqlc.narg(tag)])
  AND (sqlc.narg(due_before)::timestamptz IS NULL OR due_date < sqlc.narg(due_before))
  AND (sqlc.narg(due_after)::timestamptz IS NULL OR due_date > sqlc.narg(due_after))
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
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
  AND (sqlc.narg(pattern)::text IS NULL
       OR (lower(title || ' ' || coalesce(description, '')) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
           AND (lower(title) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu")
                OR lower(description) LIKE lower(sqlc.narg(pattern) COLLATE "und-x-icu"))))
  AND (sqlc.narg(recurring)::boolean IS NULL OR (recurrence IS NOT NULL) = sqlc.narg(recurring))
  AND (sqlc.narg(remind_before)::timestamptz IS NULL OR remind_at < sqlc.narg(remind_before))
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (sqlc.narg(after_key)::text IS NULL AND due_date IS NULL AND id < sqlc.narg(after_id))
       OR (sqlc.narg(after_key)::text IS NOT NULL
           AND (due_date IS NULL OR (due_date, id) < (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))))
ORDER BY due_date DESC NULLS LAST, id DESC
LIMIT @page_size;

-- ToggleTaskCompleted flips completed in one statement, so two toggles never read the same
-- old value (the Phase II routes PATCH .../tasks/{id}/complete); if_versions and the next
-- occurrence as in UpdateTask.
-- name: ToggleTaskCompleted :one
WITH done AS (
    UPDATE tasks SET completed = NOT completed
    WHERE tasks.user_id = @user_id AND tasks.id = @id
      AND (sqlc.narg(if_versions)::bigint[] IS NULL OR version = ANY (sqlc.narg(if_versions)::bigint[]))
      AND NOT (NOT completed AND recurrence IS NOT NULL AND NOT coalesce(upcoming[cardinality(upcoming)] > now(), false))
    RETURNING *
), next_occurrence AS (
    INSERT INTO tasks (id, user_id, title, description, priority, tags, due_date, recurrence, timezone, series_id,
                       occurrence, remind_at, upcoming)
    SELECT @next_id, done.user_id, done.title, done.description, done.priority, done.tags, ahead.due, done.recurrence,
           done.timezone, done.series_id, done.occurrence + 1, done.remind_at + (ahead.due - done.due_date),
           done.upcoming[ahead.i + 1:]
    FROM done, LATERAL (SELECT u.due, u.i FROM unnest(done.upcoming) WITH ORDINALITY AS u (due, i)
                        WHERE u.due > now() ORDER BY u.i LIMIT 1) AS ahead
    WHERE done.completed_at = now() AND done.series_id IS NOT NULL
    ON CONFLICT (user_id, series_id, occurrence) WHERE series_id IS NOT NULL DO NOTHING
    RETURNING tasks.id
)
SELECT done.*, made.id AS made_id, earlier.id AS earlier_id
FROM done
LEFT JOIN next_occurrence AS made ON true
LEFT JOIN tasks AS earlier ON done.completed_at = now() AND earlier.user_id = done.user_id
     AND earlier.series_id = done.series_id AND earlier.occurrence = done.occurrence + 1;

-- CompleteOccurrence writes the whole task as the service computed it from the version it read
-- (only if that is still the version: else nothing is written and the service reads again)
-- and, with next_due, makes the next occurrence of its series in the same statement: the same
-- title, description, priority, tags, recurrence, timezone and series, open, number n + 1. At
-- most one: when it exists already (completed, reopened, completed again) nothing is made
-- (made_id is null) and earlier_id is the one that exists.
-- name: CompleteOccurrence :one
WITH done AS (
    UPDATE tasks SET
        title = @title, description = @description, completed = @completed, priority = @priority,
        due_date = @due_date, tags = @tags, recurrence = @recurrence, timezone = @timezone, remind_at = @remind_at,
        upcoming = NULL
    WHERE tasks.user_id = @user_id AND tasks.id = @id AND tasks.version = @version
    RETURNING *
), next AS (
    INSERT INTO tasks (id, user_id, title, description, priority, tags, due_date, recurrence, timezone, series_id, occurrence,
                       remind_at, upcoming)
    SELECT @next_id, done.user_id, done.title, done.description, done.priority, done.tags, sqlc.narg(next_due)::timestamptz,
           done.recurrence, done.timezone, done.series_id, done.occurrence + 1, sqlc.narg(next_remind_at)::timestamptz,
           @next_upcoming::timestamptz[]
    FROM done
    WHERE sqlc.narg(next_due)::timestamptz IS NOT NULL AND done.series_id IS NOT NULL
    ON CONFLICT (user_id, series_id, occurrence) WHERE series_id IS NOT NULL DO NOTHING
    RETURNING tasks.id
)
SELECT done.*, made.id AS made_id, earlier.id AS earlier_id
FROM done
LEFT JOIN next AS made ON true
LEFT JOIN tasks AS earlier ON sqlc.narg(next_due)::timestamptz IS NOT NULL AND earlier.user_id = done.user_id
     AND earlier.series_id = done.series_id AND earlier.occurrence = done.occurrence + 1;

-- ListReminders reads a page of the open tasks whose reminder is due by until, oldest first,
-- off the partial index tasks_user_remind; after_key/after_id as in the list queries.
-- name: ListReminders :many
SELECT * FROM tasks
WHERE user_id = @user_id AND reminder_open AND remind_at <= @until::timestamptz
  AND (sqlc.narg(after_id)::uuid IS NULL
       OR (remind_at, id) > (sqlc.narg(after_key)::text::timestamptz, sqlc.narg(after_id)))
ORDER BY remind_at, id
LIMIT @page_size;
