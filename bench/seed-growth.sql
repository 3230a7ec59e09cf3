-- The growth mode's seed (bench/growth.sh): the rows of seed.sql, made for large sizes, plus
-- :events change-feed events per user, with the indexes built after the load.
--   psql -v users=1000 -v tasks=10000 -v events=10 -v maint_mem=512MB -f seed-growth.sql
-- The same tasks as seed.sql (read its header for what task t of user u is), written in one
-- pass: series_id, reminder_open and reminded_at are worked out in the INSERT instead of three
-- UPDATEs afterwards (which would write a second version of half the rows), and the rows come
-- out of one generate_series in order (task-major, no sort).
--
-- Indexes: every index of tasks and task_events that no constraint owns, and every primary key
-- or unique constraint no foreign key depends on, is read from the catalog (pg_get_indexdef,
-- pg_get_constraintdef), dropped, and made again after the load, so an index a later migration
-- adds is handled too. All in one transaction: if anything fails, the database is as it was.
--
-- Events: the newest :events tasks of each user get a task.created event each (the task as
-- the outbox trigger would record it), published, dated now, with ids in commit order; the
-- sequence goes on after them. They are what the changes scenario reads.
--
-- At the end the database's comment records what was seeded (run.sh's growth_seed reads it to
-- decide whether the database can be used again), and VACUUM ANALYZE and CHECKPOINT follow.
\set ON_ERROR_STOP on
BEGIN;
SET LOCAL maintenance_work_mem = :'maint_mem';
-- The tables' own triggers (derived timestamps, the outbox) are skipped: every column is set
-- here, consistently with the CHECK constraints, which still apply.
SET LOCAL session_replication_role = replica;

CREATE TEMP TABLE bench_rebuild ON COMMIT DROP AS
SELECT 1 AS step, format('ALTER TABLE %s DROP CONSTRAINT %I', con.conrelid::regclass, con.conname) AS drop_sql,
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', con.conrelid::regclass, con.conname, pg_get_constraintdef(con.oid)) AS make_sql
FROM pg_constraint con
WHERE con.conrelid IN ('tasks'::regclass, 'task_events'::regclass) AND con.contype IN ('p', 'u')
  AND NOT EXISTS (SELECT FROM pg_constraint fk WHERE fk.contype = 'f' AND fk.conindid = con.conindid)
UNION ALL
SELECT 2, format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid IN ('tasks'::regclass, 'task_events'::regclass)
  AND NOT EXISTS (SELECT FROM pg_constraint con WHERE con.conindid = i.indexrelid);

SELECT drop_sql FROM bench_rebuild ORDER BY step DESC \gexec

TRUNCATE tasks, idempotency_keys, task_events;
UPDATE task_events_pruned SET through = 0;

INSERT INTO tasks (id, user_id, title, description, completed, completed_at, priority, due_date, tags,
                   created_at, updated_at, recurrence, remind_at, upcoming, series_id, reminder_open, reminded_at)
SELECT x.id,
       'user-' || u,
       'Task ' || t || ' of user-' || u,
       CASE WHEN t % 4 = 0 THEN NULL
            ELSE 'Seeded description for task ' || t || ': lorem ipsum dolor sit amet, consectetur adipiscing elit.' END,
       done,
       CASE WHEN done THEN ts + interval '1 second' END,
       (ARRAY['low', 'medium', 'high'])[1 + t % 3]::task_priority,
       CASE WHEN t % 2 = 0 THEN date_trunc('second', now()) + make_interval(days => t) END,
       CASE t % 3 WHEN 0 THEN '{}'::text[] WHEN 1 THEN ARRAY['work'] ELSE ARRAY['home', 'errands'] END,
       ts,
       CASE WHEN t % 3 = 0 THEN ts + interval '1 second' ELSE ts END,
       CASE WHEN recurring THEN 'FREQ=WEEKLY' END,
       CASE WHEN reminder THEN ts + interval '1 hour' END,
       CASE WHEN recurring THEN ARRAY(SELECT date_trunc('second', now()) + make_interval(days => t + 7 * k)
                                      FROM generate_series(1, 8) AS k) END,
       CASE WHEN recurring THEN x.id END,
       reminder AND NOT done,
       -- the reminders already due were announced when they fell due (seed.sql)
       CASE WHEN reminder AND NOT done AND ts + interval '1 hour' <= now() THEN ts + interval '1 hour' END
FROM generate_series(0, :users::bigint * :tasks - 1) AS n
CROSS JOIN LATERAL (SELECT (n / :users + 1)::int AS t, (n % :users + 1)::int AS u) AS tu
CROSS JOIN LATERAL (SELECT date_trunc('second', now()) - make_interval(secs => ((:tasks - t)::bigint * :users + (:users - u) + 2)) AS ts,
                           t % 10 = 2 AS recurring, t % 3 = 0 AND t % 10 <> 2 AS done, t % 5 IN (1, 3) AS reminder) AS a
CROSS JOIN LATERAL (SELECT encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
                                      PLACING substring(int8send((extract(epoch FROM ts) * 1000)::bigint) FROM 3)
                                      FROM 1 FOR 6), 52, 1), 53, 1), 'hex')::uuid AS id) AS x;

-- The newest :events tasks of each user: task t > :tasks - :events, i.e. (see ts above) the
-- rows created at or after now - (:events * :users + 1) s.
INSERT INTO task_events (user_id, id, type, task_id, task, at, published)
SELECT t.user_id, row_number() OVER (ORDER BY t.created_at), 'task.created', t.id, to_jsonb(t), now(), true
FROM tasks t
WHERE t.created_at >= date_trunc('second', now()) - make_interval(secs => (:events::bigint * :users + 1));
SELECT setval('task_events_id', greatest((SELECT max(id) FROM task_events), 1));

SELECT make_sql FROM bench_rebuild ORDER BY step \gexec

SELECT current_database() AS db,
       (SELECT max(version_id) FROM goose_db_version WHERE is_applied) AS goose,
       (SELECT count(*) FROM tasks) AS nrows,
       (SELECT coalesce(max(id), 0) FROM task_events) AS events_max,
       extract(epoch FROM now()) AS seeded_at \gset
SELECT format('taskapi-growth users=%s tasks=%s events=%s goose=%s rows=%s events_max=%s seeded_at=%s',
              :users, :tasks, :events, :goose, :nrows, :events_max, :seeded_at) AS stamp \gset
COMMENT ON DATABASE :"db" IS :'stamp';
COMMIT;
VACUUM ANALYZE tasks;
VACUUM ANALYZE task_events;
VACUUM ANALYZE idempotency_keys;
CHECKPOINT;
