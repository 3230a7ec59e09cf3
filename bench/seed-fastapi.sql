-- Seed :users x :tasks rows into the FastAPI seed peer's `tasks` table (SQLModel's create_all: priority as
-- text, no completed_at/version), replacing all rows. Copied from the shared harness (shared/bench/seed.sql);
-- the same data as bench/seed.sql gives taskapi.
--   psql -v users=1000 -v tasks=100 -f seed-fastapi.sql
-- User ids are 'user-1' .. 'user-N' (bench tokens use the same `sub`). Rows are inserted task-major
-- (user 1..N for task 1, then task 2, ...) so users' rows interleave on disk as real traffic would;
-- created_at grows with insertion order, 1 s apart, all in the past.
\set ON_ERROR_STOP on
BEGIN;
TRUNCATE tasks;
INSERT INTO tasks (id, user_id, title, description, completed, priority, due_date, tags, created_at, updated_at)
SELECT gen_random_uuid(),
       'user-' || u,
       'Task ' || t || ' of user-' || u,
       CASE WHEN t % 4 = 0 THEN NULL
            ELSE 'Seeded description for task ' || t || ': lorem ipsum dolor sit amet, consectetur adipiscing elit.' END,
       t % 3 = 0,
       (ARRAY['low', 'medium', 'high'])[1 + t % 3],
       CASE WHEN t % 2 = 0 THEN date_trunc('second', now()) + make_interval(days => t) END,
       CASE t % 3 WHEN 0 THEN '{}'::text[] WHEN 1 THEN ARRAY['work'] ELSE ARRAY['home', 'errands'] END,
       ts, ts
FROM generate_series(1, :tasks) AS t
CROSS JOIN generate_series(1, :users) AS u
CROSS JOIN LATERAL (SELECT now() - make_interval(secs => ((:tasks - t) * :users + (:users - u) + 1)) AS ts) AS x
ORDER BY t, u;
COMMIT;
VACUUM ANALYZE tasks;
CHECKPOINT;
