-- Replace every task with :users x :tasks rows, straight into taskapi's schema (db/migrations).
--   psql -v users=1000 -v tasks=100 -f seed.sql
-- Users are 'user-1' .. 'user-N' (the bench tokens' `sub`). Rows are inserted task-major (users
-- 1..N for task 1, then task 2, ...), so each user's rows interleave on disk as real traffic
-- would; created_at grows with insertion order, 1 s apart, all in the past, and ids are
-- UUIDv7-like (that created_at in the first 48 bits), as the server makes them.
-- Task t of a user: completed when t % 3 = 0 (unless recurring), priority low/medium/high by
-- t % 3, a due date t days ahead when t is even, tags {} / {work} / {home,errands}, a description
-- unless t % 4 = 0; a weekly recurrence (the first of its series) when t % 10 = 2, open; a
-- reminder that is due (an hour after it was created) when t % 5 is 1 or 3.
\set ON_ERROR_STOP on
BEGIN;
TRUNCATE tasks, idempotency_keys, task_events;
-- The trigger tasks_derive_timestamps would stamp every row with now(): skip the triggers for
-- this session (superuser) and set created_at/updated_at/completed_at, series_id and
-- reminder_open here, consistently with the CHECK constraints (which still apply).
SET LOCAL session_replication_role = replica;
INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, due_date, tags,
                   created_at, updated_at, recurrence, remind_at, upcoming)
SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                      PLACING substring(int8send((extract(epoch FROM ts) * 1000)::bigint) FROM 3)
                                      FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid,
       'user-' || u,
       'Task ' || t || ' of user-' || u,
       CASE WHEN t % 4 = 0 THEN NULL
            ELSE 'Seeded description for task ' || t || ': lorem ipsum dolor sit amet, consectetur adipiscing elit.' END,
       t % 3 = 0 AND t % 10 <> 2,
       CASE WHEN t % 3 = 0 AND t % 10 <> 2 THEN ts + interval '1 second' END,
       (ARRAY['low', 'medium', 'high'])[1 + t % 3]::task_priority,
       CASE WHEN t % 2 = 0 THEN date_trunc('second', now()) + make_interval(days => t) END,
       CASE t % 3 WHEN 0 THEN '{}'::text[] WHEN 1 THEN ARRAY['work'] ELSE ARRAY['home', 'errands'] END,
       ts,
       CASE WHEN t % 3 = 0 THEN ts + interval '1 second' ELSE ts END,
       CASE WHEN t % 10 = 2 THEN 'FREQ=WEEKLY' END,
       CASE WHEN t % 5 IN (1, 3) THEN ts + interval '1 hour' END,
       -- the next eight weekly due dates, as the service works them out ahead
       CASE WHEN t % 10 = 2 THEN ARRAY(SELECT date_trunc('second', now()) + make_interval(days => t + 7 * k)
                                       FROM generate_series(1, 8) AS k) END
FROM generate_series(1, :tasks) AS t
CROSS JOIN generate_series(1, :users) AS u
CROSS JOIN LATERAL (SELECT date_trunc('second', now()) - make_interval(secs => ((:tasks - t) * :users + (:users - u) + 2)) AS ts) AS x
ORDER BY t, u;
UPDATE tasks SET series_id = id WHERE recurrence IS NOT NULL;
UPDATE tasks SET reminder_open = true WHERE remind_at IS NOT NULL AND NOT completed;
-- The reminders already due were announced (a reminder.due event each) when they fell due; the
-- few still ahead fall due during the run and are announced then.
UPDATE tasks SET reminded_at = remind_at WHERE reminder_open AND remind_at <= now();
COMMIT;
VACUUM ANALYZE tasks;
VACUUM ANALYZE idempotency_keys;
CHECKPOINT;
