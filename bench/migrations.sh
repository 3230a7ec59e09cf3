#!/usr/bin/env bash
# What each migration costs on a large table: seeds U x T tasks (default 1000 x 10000, 10 M rows)
# into MIG_DB at the latest schema (kept and reused while its row count matches), walks the schema
# down to version FIRST - 1 (1), then up one version at a time while `benchtool lockprobe` writes to a task
# every 20 ms. Each migration's line gives its duration and the longest probe write during it:
# what a request writing to tasks waited behind the migration's locks.
#   go tool task bench:migrations        U=1000 T=10000 MIG_DB=taskapi_migrations
#   FIRST (2): the first migration measured; FIRST=9 walks down to 8 only and measures 9 on.
#   PG_SERVER (postgres://postgres@127.0.0.1:5432)
# The seed is the growth mode's (bench/seed-growth.sql): indexes built after the load.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$HERE"
. ./lib.sh

U=${U:-1000}
T=${T:-10000}
MIG_DB=${MIG_DB:-taskapi_migrations}
FIRST=${FIRST:-2}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
DATABASE_URL=$PG_SERVER/$MIG_DB
export BETTER_AUTH_SECRET=taskapi-bench-only-secret-0123456789abcdef
BIN=$HERE/.bin
RESULTS=$HERE/data/results
mkdir -p "$BIN" "$RESULTS"

log "building taskapi and benchtool"
(cd "$ROOT" && go build -o "$BIN/taskapi" ./cmd/taskapi && go build -o "$BIN/benchtool" ./bench/benchtool)
migrate() { env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$DATABASE_URL" BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" \
  LOG_LEVEL=warn "$BIN/taskapi" migrate "$@"; }
sql() { psql -X -q -v ON_ERROR_STOP=1 -At "$DATABASE_URL" "$@"; }
version() { sql -c "SELECT max(version_id) FROM goose_db_version WHERE is_applied"; }

psql -X -q -At "$PG_SERVER/postgres" -c "SELECT 1 FROM pg_database WHERE datname = '$MIG_DB'" | grep -q 1 ||
  psql -X -q "$PG_SERVER/postgres" -c "CREATE DATABASE $MIG_DB"
migrate up
want=$((U * T))
have=$(sql -c "SELECT count(*) FROM tasks")
if [ "$have" != "$want" ]; then
  log "seeding $U users x $T tasks ($want rows) into $MIG_DB (bench/seed-growth.sql: indexes after the load)"
  start=$(date +%s)
  psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -v users="$U" -v tasks="$T" -v events=0 -v maint_mem=1GB \
    -f seed-growth.sql
  log "seeded in $(($(date +%s) - start)) s"
fi
size=$(sql -c "SELECT pg_size_pretty(pg_total_relation_size('tasks')) || ' (table ' || pg_size_pretty(pg_relation_size('tasks')) || ', indexes ' || pg_size_pretty(pg_indexes_size('tasks')) || ')'")
latest=$(version)

log "walking down from version $latest to $((FIRST - 1))"
while [ "$(version)" -ge "$FIRST" ]; do
  v=$(version); start=$(date +%s%N)
  migrate down >/dev/null
  log "down from $v: $(( ($(date +%s%N) - start) / 1000000 )) ms"
done

out=$RESULTS/migrations-$(date -u +%Y%m%dT%H%M%S).md
{
  echo "# Migrations on $(printf "%'d" "$want") tasks ($U users x $T), $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "tasks at version $latest: $size; commit $(git -C "$ROOT" rev-parse --short HEAD); $(psql -X -At "$DATABASE_URL" -c 'SHOW server_version')"
  echo
  echo "| migration | took | longest write to tasks meanwhile (probe every 20 ms) | probe writes |"
  echo "|---|---|---|---|"
} > "$out"
while [ "$(version)" -lt "$latest" ]; do
  next=$(( $(version) + 1 ))
  name=$(basename "$(ls "$ROOT"/db/migrations/"$(printf '%05d' "$next")"_*.sql)")
  "$BIN/benchtool" lockprobe -db "$DATABASE_URL" > "$BIN/lockprobe.out" &
  probe=$!
  sleep 1
  start=$(date +%s%N)
  migrate up-by-one >/dev/null
  took=$(( ($(date +%s%N) - start) / 1000000 ))
  sleep 0.5
  kill -TERM "$probe"; wait "$probe"
  read -r _ writes _ longest _ _ at < "$BIN/lockprobe.out"
  log "up to $next ($name): $took ms; longest probe write $longest ms ($writes writes)"
  echo "| $name | $(awk -v t="$took" 'BEGIN { printf "%.1f s", t / 1000 }') | $longest ms | $writes |" >> "$out"
done
log "results: $out"
cat "$out"
