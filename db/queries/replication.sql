-- WrittenWAL is how far the primary has written its WAL, in bytes since 0/0 (a number, so that
-- internal/replica's lag check compares it in Go): every transaction committed so far (with
-- synchronous_commit on, the default) ends at or before it. No table, so no user to filter on.
-- name: WrittenWAL :one
SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint AS written;

-- ReplayedWAL is how far a standby has replayed the primary's WAL, in the same bytes; -1 on a
-- server that is not in recovery (a primary, or a promoted standby): no standby to read from.
-- name: ReplayedWAL :one
SELECT coalesce(pg_wal_lsn_diff(pg_last_wal_replay_lsn(), '0/0')::bigint, -1)::bigint AS replayed;
