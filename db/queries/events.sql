-- The outbox (migration 7). Every query names its user, but the sweeps: background jobs over
-- all users' rows that never serve a request (sqlc.yaml's rule lets names starting with Sweep
-- through).

-- ListChanges reads the user's events after a cursor, in commit order.
-- name: ListChanges :many
SELECT id, type, task_id, task, at FROM task_events
WHERE user_id = @user_id AND id > @after
ORDER BY id
LIMIT @page_size;

-- ChangesNow is the cursor for "now": the user's latest event, or the pruning's mark if that is
-- later (an older cursor would be refused as too old). Every later commit of the user's takes a
-- larger id (the outbox trigger).
-- name: ChangesNow :one
SELECT greatest(
    coalesce((SELECT max(id) FROM task_events WHERE user_id = @user_id), 0),
    (SELECT through FROM task_events_pruned)
)::bigint AS now;

-- name: PrunedThrough :one
SELECT through FROM task_events_pruned;

-- ListEventsOfUsers reads, for each of some users, their events after that user's cursor: the
-- event streams' one query for all of a replica's connected users.
-- name: ListEventsOfUsers :many
SELECT e.user_id, e.id, e.type, e.task_id, e.task, e.at
FROM task_events e
JOIN (SELECT unnest(@user_ids::text[]) AS user_id, unnest(@after_ids::bigint[]) AS after) AS c
  ON e.user_id = c.user_id AND e.id > c.after
WHERE e.user_id = ANY (@user_ids::text[])
ORDER BY e.id
LIMIT @max_events;

-- SweepOldEvents deletes a batch of events older than before and moves the pruning's mark up
-- to the newest one deleted; run until it deletes none.
-- name: SweepOldEvents :one
WITH gone AS (
    DELETE FROM task_events
    WHERE (user_id, id) IN (SELECT o.user_id, o.id FROM task_events o WHERE o.at < @before LIMIT @batch)
    RETURNING id
), mark AS (
    UPDATE task_events_pruned SET through = greatest(through, coalesce((SELECT max(id) FROM gone), through))
    RETURNING through
)
SELECT (SELECT count(*) FROM gone)::bigint AS deleted, (SELECT through FROM mark)::bigint AS through;

-- SweepUnpublished claims a batch of the events not yet published to NATS, oldest first; the
-- claim (a row lock) lasts until the transaction it is read in ends, so replicas publish
-- different batches.
-- name: SweepUnpublished :many
SELECT user_id, id, type, task_id, task, at FROM task_events
WHERE NOT published
ORDER BY id
LIMIT @batch
FOR UPDATE SKIP LOCKED;

-- name: SweepMarkPublished :exec
UPDATE task_events SET published = true
WHERE (user_id, id) IN (SELECT unnest(@user_ids::text[]), unnest(@ids::bigint[]));

-- SweepDueReminders announces the reminders that are due: it marks a batch of them (claiming
-- the rows, so each is announced once across replicas) and the outbox trigger makes their
-- reminder.due events.
-- name: SweepDueReminders :execrows
UPDATE tasks SET reminded_at = remind_at
WHERE (user_id, id) IN (
    SELECT t.user_id, t.id FROM tasks t
    WHERE t.reminder_open AND t.remind_at <= now() AND t.reminded_at IS DISTINCT FROM t.remind_at
    ORDER BY t.remind_at
    LIMIT @batch
    FOR UPDATE SKIP LOCKED
);
