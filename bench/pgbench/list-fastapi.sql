-- The list query the FastAPI seed peer sends for GET /api/tasks?limit=20 (from the server's log_statement=all),
-- for a random user (copied from shared/bench/pgbench/list.sql). pgbench -D users=1000 -f list-fastapi.sql
\set uid random(1, :users)
SELECT tasks.user_id, tasks.priority, tasks.tags, tasks.due_date, tasks.created_at, tasks.updated_at, tasks.title, tasks.description, tasks.completed, tasks.id FROM tasks WHERE tasks.user_id = 'user-' || :uid ORDER BY tasks.created_at DESC LIMIT 20;
