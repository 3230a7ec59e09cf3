#!/usr/bin/env bash
# Load benchmark of taskapi (or, with TARGET=fastapi, of the FastAPI seed peer: see fastapi.sh).
# Builds and starts the server itself on a fresh database, seeds it, loads it with wrk one
# scenario at a time, measures the database ceiling with pgbench, prints one table, writes it
# to bench/data/results/<label>-<timestamp>.md and stops the server (also on failure).
#
#   bench/run.sh [scenario ...]        (go tool task bench; scenarios also from $SCENARIOS)
#
# Knobs (environment; defaults):
#   DURATION (10s) CONNS (32) THREADS (1: wrk -t) REPEAT (1 pass) WARMUP (3s of list per pass, not recorded)
#   SCENARIOS (list mcp-list list-filtered get create create-no-outbox update mixed mixed-sse reminders complete-recurring;
#       fastapi: list get create update mixed)  MIX (60,20,10,10)
#   SSE_USERS (200) SSE_TABS (10): mixed-sse runs mixed while `benchtool sse` holds SSE_USERS x SSE_TABS event
#       streams (GET /api/events) open and times each event from its commit to its arrival
#   create-no-outbox: create with the outbox trigger disabled (ALTER TABLE tasks DISABLE TRIGGER tasks_outbox)
#   mcp-list: list through the MCP endpoint (POST /mcp, tools/call list_tasks, limit 20)
#   more (go only; growth.sh runs them): list-sort:ORDER (each sort order of GET /api/tasks), list-q (q search,
#       one match), list-tag (tag=work), list-due (a 29-day due-date window, sort=due_date), changes (GET /api/changes)
#   KEEP_DB (0; 1 = growth mode, see growth.sh): keep BENCH_DB, seed it with seed-growth.sql only when its
#       stamp (users, tasks, EVENTS, schema version) or row count does not match or more than GROWTH_MAX_DRIFT
#       (1) % of its rows were changed by earlier runs; otherwise remove what earlier runs added and reuse it
#   EVENTS (10: change-feed events seeded per user, KEEP_DB=1) CHANGES_LIMIT (10) GROWTH_MAINT_MEM (512MB)
#   WARM_CACHE (1 with KEEP_DB=1, else 0): before each scenario read every page of the database's tables
#       and indexes into the OS page cache (pg_prewarm 'read'), see warm_cache; buffers: into shared buffers
#   LOG_LEVEL (warn: no request logs)  SERVER_ENV ("" : extra VAR=value ... for the server, e.g. DB_MAX_CONNS=8)
#   U (1000 users) T (100 tasks each)  FILTERED_QUERY (status=pending&sort=-due_date&limit=20)
#   CEILING (1; 0 = no pgbench)  PGBENCH_JOBS (1)  PGBENCH_MODE (prepared)
#   FLOOR (1; 0 = none; go only): after each pass's list ceiling, the list scenario against
#       `benchtool floor` (net/http + the service's ListTasks, no Echo/validation/JWT/middleware;
#       bench/benchtool/floor.go) on FLOOR_PORT (PORT + 10): what any server on this stack reaches here
#   QUIET_MAX (10) QUIET_WAIT (30) RETRY_NOISY (1): before each run wait (at most QUIET_WAIT s) for the
#       machine to use < QUIET_MAX % of a core; redo a run during which others used more (RETRY_NOISY times)
#       and keep the least noisy try
#   PORT (18080; fastapi 18000)  BENCH_DB (taskapi_bench; fastapi taskapi_bench_fastapi; dropped and created)
#   PG_SERVER (postgres://postgres@127.0.0.1:5432)  START_TIMEOUT (60 s)  LABEL (the target's name)
#   ALLOW_ERRORS (0: exit 1 when any request failed)  CHECK_2XX (0; 1: count every non-2xx, see lua/report.lua)
#   fastapi only: PEER_DIR (/work/shared/peers/fastapi-seed, copied to a temp dir first) PEER_WORKERS (2)
#       UVICORN_LOOP (asyncio) UVICORN_HTTP (h11)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$HERE"
. ./lib.sh

TARGET=${TARGET:-go}
case "$TARGET" in
go) default_scenarios="list mcp-list list-filtered get create create-no-outbox update mixed mixed-sse reminders complete-recurring"; default_port=18080 ;;
fastapi) default_scenarios="list get create update mixed"; default_port=18000 ;;
*) die "TARGET must be go or fastapi, not $TARGET" ;;
esac
read -r -a SCENARIOS <<< "${*:-${SCENARIOS:-$default_scenarios}}"
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
THREADS=${THREADS:-1}
REPEAT=${REPEAT:-1}
WARMUP=${WARMUP:-3s}
export MIX=${MIX:-60,20,10,10}
DEFAULT_FILTERED_QUERY='status=pending&sort=-due_date&limit=20'
export FILTERED_QUERY=${FILTERED_QUERY:-$DEFAULT_FILTERED_QUERY}
LOG_LEVEL=${LOG_LEVEL:-warn}
SERVER_ENV=${SERVER_ENV:-}
U=${U:-1000}
T=${T:-100}
CEILING=${CEILING:-1}
FLOOR=${FLOOR:-1}
[ "$TARGET" = go ] || FLOOR=0
PGBENCH_JOBS=${PGBENCH_JOBS:-1}
PGBENCH_MODE=${PGBENCH_MODE:-prepared}
QUIET_MAX=${QUIET_MAX:-10}
QUIET_WAIT=${QUIET_WAIT:-30}
RETRY_NOISY=${RETRY_NOISY:-1}
PORT=${PORT:-$default_port}
FLOOR_PORT=${FLOOR_PORT:-$((PORT + 10))}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
START_TIMEOUT=${START_TIMEOUT:-60}
LABEL=${LABEL:-$TARGET}
ALLOW_ERRORS=${ALLOW_ERRORS:-0}
PEER_DIR=${PEER_DIR:-/work/shared/peers/fastapi-seed}
PEER_WORKERS=${PEER_WORKERS:-2}
SSE_USERS=${SSE_USERS:-200}
SSE_TABS=${SSE_TABS:-10}
KEEP_DB=${KEEP_DB:-0}
EVENTS=${EVENTS:-10}
export CHANGES_LIMIT=${CHANGES_LIMIT:-10}
GROWTH_MAX_DRIFT=${GROWTH_MAX_DRIFT:-1}
GROWTH_MAINT_MEM=${GROWTH_MAINT_MEM:-512MB}
WARM_CACHE=${WARM_CACHE:-$KEEP_DB}
WARM_NOTE=''
GROWTH_NOTE='' GROWTH_SIZES_LINE=''
export DUE_QUERY=''
# A fixed secret for the bench only (the server and the tokens share it; never a real one).
export BETTER_AUTH_SECRET=taskapi-bench-only-secret-0123456789abcdef
if [ "$TARGET" = go ]; then BENCH_DB=${BENCH_DB:-taskapi_bench}; else BENCH_DB=${BENCH_DB:-taskapi_bench_fastapi}; fi
DATABASE_URL=$PG_SERVER/$BENCH_DB
BASE_URL=http://127.0.0.1:$PORT
BIN=$HERE/.bin
RUN=$HERE/data/$TARGET
OUT=$HERE/data/results/$LABEL-$(date -u +%Y%m%dT%H%M%S).md
DUR_S=$(seconds "$DURATION")

OUTBOX_OFF=0 SERVER_PID='' LOADGEN_PID='' PEER_COPY='' PG_PID='' SERVER_RC='' FLOOR_PID='' SSE_PID=''
ROWS=() LATENCY_ROWS=() ERRORS=0 SSE_RESULTS=()

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$PG_SERVER/postgres" "$@"; }

# alive PID: running and not a zombie.
alive() {
  local s
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || true
  [ -n "$s" ] && [ "$s" != Z ]
}

preflight() {
  if ! command -v wrk >/dev/null; then
    [ "$(id -u)" = 0 ] || die "wrk is missing: apt-get install wrk"
    log "installing wrk (Debian)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; } >/dev/null || die "apt-get install wrk failed"
  fi
  local t
  for t in go psql pgbench curl timeout /usr/bin/time; do
    command -v "$t" >/dev/null || die "$t is missing"
  done
  pg_isready -q -d "$PG_SERVER/postgres" || die "PostgreSQL is not answering at $PG_SERVER"
  [ "$DUR_S" -gt 0 ] 2>/dev/null || die "DURATION=$DURATION: use e.g. 10s or 1m"
  for t in "${SCENARIOS[@]}"; do
    case "$t" in
    list | get | create | update | mixed) ;;
    list-filtered) [ "$TARGET" = go ] || die "the FastAPI peer has no sort or cursor: list-filtered is go only" ;;
    reminders | complete-recurring | create-no-outbox | mixed-sse | mcp-list | list-q | list-tag | list-due | changes)
      [ "$TARGET" = go ] || die "the FastAPI peer has no $t: go only" ;;
    list-sort:title | list-sort:-title | list-sort:priority | list-sort:-priority | list-sort:updated_at | \
      list-sort:-updated_at | list-sort:due_date | list-sort:-due_date | list-sort:created_at | list-sort:-created_at)
      [ "$TARGET" = go ] || die "the FastAPI peer has no sort: $t is go only" ;;
    *) die "unknown scenario $t (list mcp-list list-filtered get create create-no-outbox update mixed mixed-sse reminders complete-recurring list-sort:ORDER list-q list-tag list-due changes)" ;;
    esac
  done
  [ "$KEEP_DB" = 0 ] || [ "$TARGET" = go ] || die "KEEP_DB=1 (growth mode) is for the go target only"
  ! curl -s -o /dev/null --max-time 2 "$BASE_URL/" || die "something already listens on 127.0.0.1:$PORT (set PORT)"
  [ "$FLOOR" != 1 ] || ! curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$FLOOR_PORT/" ||
    die "something already listens on 127.0.0.1:$FLOOR_PORT (set FLOOR_PORT)"
}

cleanup() {
  local rc=$?
  set +e
  trap - EXIT INT TERM
  if [ -n "$LOADGEN_PID" ]; then kill -TERM "$LOADGEN_PID" 2>/dev/null; wait "$LOADGEN_PID" 2>/dev/null; fi
  if [ -n "$FLOOR_PID" ]; then kill -TERM "$FLOOR_PID" 2>/dev/null; wait "$FLOOR_PID" 2>/dev/null; fi
  if [ -n "$SSE_PID" ]; then kill -TERM "$SSE_PID" 2>/dev/null; wait "$SSE_PID" 2>/dev/null; fi
  stop_server
  # A run stopped during create-no-outbox must not leave a kept database without its events.
  [ "$OUTBOX_OFF" = 0 ] || psql -X -q "$DATABASE_URL" -c 'ALTER TABLE tasks ENABLE TRIGGER tasks_outbox'
  [ -z "$PEER_COPY" ] || rm -rf "$PEER_COPY"
  exit "$rc"
}

# stop_server: SIGTERM, up to 20 s of grace (the Go server's SHUTDOWN_TIMEOUT is 15 s), then
# SIGKILL; also whatever is left of its process tree (uvicorn workers).
stop_server() {
  [ -n "$SERVER_PID" ] || return 0
  local pids p
  pids=$(tree_pids "$SERVER_PID")
  kill -TERM "$SERVER_PID" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$SERVER_PID" || break; sleep 0.2; done
  if alive "$SERVER_PID"; then
    log "server $SERVER_PID did not stop within 20 s: SIGKILL"
    kill -KILL "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_RC=0
  wait "$SERVER_PID" 2>/dev/null || SERVER_RC=$?
  for p in $pids; do
    if alive "$p"; then kill -KILL "$p" 2>/dev/null || true; fi
  done
  log "server stopped (exit status $SERVER_RC)"
  SERVER_PID=''
}

reset_db() {
  psql_admin -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 |
    grep -v 'does not exist, skipping' >&2 || true
}

# --- the Go server ---------------------------------------------------------------------------

go_build() {
  log "building ./cmd/taskapi (as the Dockerfile does) and bench/benchtool into bench/.bin/"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/taskapi" ./cmd/taskapi)
}

go_start() {
  local keep_env=()
  if [ "$KEEP_DB" = 1 ]; then
    # Growth mode: the database and its data are kept for the next run. Its seeded events are
    # dated at seeding; a retention of years keeps the server's pruning from deleting them
    # when the database is used again days later (with nothing old to prune, the sweep costs
    # the same either way).
    [ -n "$(psql_admin -tAc "SELECT 1 FROM pg_database WHERE datname = '$BENCH_DB'")" ] ||
      psql_admin -c "CREATE DATABASE $BENCH_DB"
    keep_env=(EVENTS_RETENTION=87600h)
  else
    reset_db
  fi
  mkdir -p "$RUN/cwd" # an empty working directory: no .env is read
  # A clean environment: only what is set here (and SERVER_ENV) reaches the server. The same
  # DATABASE_URL as pgbench's and the peer's, so all three connect alike (sslmode=prefer, the
  # default: TLS when the cluster offers it, as Debian's does).
  # shellcheck disable=SC2086
  (cd "$RUN/cwd" && exec env -i PATH="$PATH" HOME="$HOME" \
    DATABASE_URL="$DATABASE_URL" BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" \
    ADDR="127.0.0.1:$PORT" RATE_LIMIT_RPS=0 LOG_LEVEL="$LOG_LEVEL" "${keep_env[@]}" $SERVER_ENV \
    "$BIN/taskapi" serve) > "$RUN/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_DESC="bench/.bin/taskapi serve, DATABASE_URL=$DATABASE_URL ADDR=127.0.0.1:$PORT RATE_LIMIT_RPS=0 (rate limiting off) LOG_LEVEL=$LOG_LEVEL${keep_env[*]:+ ${keep_env[*]}}${SERVER_ENV:+ $SERVER_ENV}; commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench' || echo '+changes'), $(go version | cut -d' ' -f3)"
}

go_seed() {
  if [ "$KEEP_DB" = 1 ]; then growth_seed; return; fi
  timeout 300 psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -v users="$U" -v tasks="$T" -f seed.sql
}

psql_bench() { psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" "$@"; }

# stamp_field STAMP NAME: NAME's value in the database's comment written by seed-growth.sql.
stamp_field() { printf '%s\n' "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# growth_seed (KEEP_DB=1): use the database as it is when seed-growth.sql seeded it for these
# U, T and EVENTS under the schema version the server has just migrated it to, after removing
# what earlier runs added (the tasks created after the seed, deleted with the triggers off, and
# the events after the seeded ones); reseed it when that does not hold, when seeded rows are
# missing, or when more than GROWTH_MAX_DRIFT % of the rows were changed in place by earlier
# runs (update, mixed, complete-recurring: not undone, but counted, reported and bounded).
# Sets GROWTH_NOTE and GROWTH_SIZES_LINE for the report.
growth_seed() {
  local stamp goose seeded_at events_max counts added drift nrows removed_events t0 secs reason=''
  stamp=$(psql_bench -tAc "SELECT coalesce(shobj_description(oid, 'pg_database'), '') FROM pg_database WHERE datname = current_database()")
  goose=$(psql_bench -tAc 'SELECT max(version_id) FROM goose_db_version WHERE is_applied')
  if [ "$(stamp_field "$stamp" users) $(stamp_field "$stamp" tasks) $(stamp_field "$stamp" events)" != "$U $T $EVENTS" ]; then
    reason="not seeded for $U x $T with $EVENTS events per user yet"
  elif [ "$(stamp_field "$stamp" goose)" != "$goose" ]; then
    reason="seeded under schema version $(stamp_field "$stamp" goose), now $goose"
  else
    seeded_at=$(stamp_field "$stamp" seeded_at) events_max=$(stamp_field "$stamp" events_max)
    counts=$(psql_bench -tA -F' ' -c "SELECT count(*) FILTER (WHERE created_at > to_timestamp($seeded_at)),
        count(*) FILTER (WHERE created_at <= to_timestamp($seeded_at) AND updated_at > to_timestamp($seeded_at)),
        count(*) FILTER (WHERE created_at <= to_timestamp($seeded_at)) FROM tasks")
    read -r added drift nrows <<< "$counts"
    if [ "$nrows" != "$(stamp_field "$stamp" rows)" ]; then
      reason="$nrows seeded rows left of $(stamp_field "$stamp" rows)"
    elif [ $((drift * 100)) -gt $((GROWTH_MAX_DRIFT * nrows)) ]; then
      reason="$drift rows ($(awk -v d="$drift" -v n="$nrows" 'BEGIN{printf "%.2f", 100*d/n}')%) changed by earlier runs, more than GROWTH_MAX_DRIFT=$GROWTH_MAX_DRIFT%"
    fi
  fi
  if [ -n "$reason" ]; then
    log "seeding $BENCH_DB with $U users x $T tasks and $EVENTS events each (bench/seed-growth.sql): $reason"
    t0=$(date +%s.%N)
    psql_bench -v users="$U" -v tasks="$T" -v events="$EVENTS" -v maint_mem="$GROWTH_MAINT_MEM" -f seed-growth.sql
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
    stamp=$(psql_bench -tAc "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = current_database()")
    psql_bench -c "COMMENT ON DATABASE $BENCH_DB IS '$stamp seed_s=$secs'"
    log "seeded in $secs s"
    GROWTH_NOTE="seeded now, in $secs s ($reason)"
  else
    removed_events=$(psql_bench -tAc "SELECT count(*) FROM task_events WHERE id > $events_max")
    if [ "$added" -gt 0 ] || [ "$removed_events" -gt 0 ]; then
      psql_bench <<SQL
BEGIN;
SET LOCAL session_replication_role = replica;
DELETE FROM tasks WHERE created_at > to_timestamp($seeded_at);
DELETE FROM task_events WHERE id > $events_max;
TRUNCATE idempotency_keys;
COMMIT;
VACUUM ANALYZE tasks;
VACUUM ANALYZE task_events;
SQL
    fi
    GROWTH_NOTE="reused (seeded $(date -u -d "@${seeded_at%.*}" '+%Y-%m-%d %H:%M UTC') in $(stamp_field "$stamp" seed_s) s, schema version $goose); removed $added task(s) and $removed_events event(s) made by earlier runs; $drift seeded row(s) ($(awk -v d="$drift" -v n="$nrows" 'BEGIN{printf "%.2f", 100*d/n}')%) as earlier runs' updates left them (limit GROWTH_MAX_DRIFT=$GROWTH_MAX_DRIFT%)"
    log "$BENCH_DB $GROWTH_NOTE"
  fi
  GROWTH_SIZES_LINE=$(psql_bench -tA -F' ' -c "SELECT pg_database_size(current_database()), pg_total_relation_size('tasks'),
      pg_total_relation_size('task_events'), (SELECT count(*) FROM tasks), (SELECT count(*) FROM task_events)")
}

go_pgbench_script() {
  "$BIN/benchtool" pgbench-list -src "$ROOT/gen/db/tasks.sql.go" -query listTasksNewestFirst \
    -page-size 21 -out "$RUN/pgbench-list.sql"
  echo "$RUN/pgbench-list.sql"
}

# go_pgbench_filtered_script: the statement the server sends for list-filtered (the default
# FILTERED_QUERY only; otherwise nothing), specialised for its filter and cursor: pending tasks,
# newest due date first, after user-1's page-2 cursor. The seed gives every user the same due
# dates (now + t days), so that cursor's key is every user's; the nil id then starts each user's
# page 2 right after the row with that date, as the user's own cursor does.
go_pgbench_filtered_script() {
  [ "$FILTERED_QUERY" = "$DEFAULT_FILTERED_QUERY" ] || return 0
  local cursor key
  cursor=$(awk '$1 == "user-1" {print $2}' "$RUN/cursors.txt")
  key=$(printf '%s' "$cursor" | tr '_-' '/+' | awk '{ while (length($0) % 4) $0 = $0 "="; print }' | base64 -d |
    sed -n 's/.*"k":"\([^"]*\)".*/\1/p')
  if [ -z "$key" ]; then # page 1 ended in the tasks without a due date (fewer than 21 with one: a small T)
    log "no pgbench ceiling for list-filtered: user-1's page-2 cursor has no due date to start after ($cursor)"
    return 0
  fi
  "$BIN/benchtool" pgbench-list -src "$ROOT/gen/db/tasks.sql.go" -query listTasksByDueDateDesc -page-size 21 \
    -arg Completed=false -arg "AfterKey='$key'::text" -arg "AfterID='00000000-0000-0000-0000-000000000000'::uuid" \
    -out "$RUN/pgbench-list-filtered.sql"
  echo "$RUN/pgbench-list-filtered.sql"
}

# --- the FastAPI seed peer --------------------------------------------------------------------

fastapi_build() {
  local py=/usr/bin/python3
  if ! "$py" -c 'import fastapi, sqlmodel, uvicorn, jose, psycopg2, dotenv' 2>/dev/null; then
    [ "$(id -u)" = 0 ] || die "the peer needs Debian's python3-fastapi python3-sqlmodel python3-uvicorn python3-jose python3-psycopg2 python3-dotenv"
    log "installing the peer's Debian packages"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-fastapi python3-sqlmodel \
        python3-uvicorn python3-jose python3-psycopg2 python3-dotenv; } >/dev/null || die "apt-get install failed"
  fi
  [ -x "$PEER_DIR/run.sh" ] || die "no FastAPI peer at $PEER_DIR"
  PEER_COPY=$(mktemp -d /tmp/taskapi-bench-fastapi.XXXXXX)
  cp -r "$PEER_DIR/." "$PEER_COPY/"
  chmod -R u+w "$PEER_COPY"
  rm -f "$PEER_COPY/.env"
  log "peer copied to $PEER_COPY"
}

fastapi_start() {
  reset_db
  local access_log=0
  case "$LOG_LEVEL" in debug | info) access_log=1 ;; esac
  # shellcheck disable=SC2086
  (cd "$PEER_COPY" && exec env -i PATH="$PATH" HOME="$HOME" PYTHONDONTWRITEBYTECODE=1 \
    DATABASE_URL="postgresql://${PG_SERVER#*://}/$BENCH_DB" BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" \
    PORT="$PORT" WORKERS="$PEER_WORKERS" ACCESS_LOG="$access_log" \
    UVICORN_LOOP="${UVICORN_LOOP:-asyncio}" UVICORN_HTTP="${UVICORN_HTTP:-h11}" $SERVER_ENV \
    ./run.sh) > "$RUN/server.log" 2>&1 &
  SERVER_PID=$!
  SERVER_DESC="FastAPI seed peer (copy of $PEER_DIR): uvicorn --workers $PEER_WORKERS, loop ${UVICORN_LOOP:-asyncio}, http ${UVICORN_HTTP:-h11}, access log $([ $access_log = 1 ] && echo on || echo off) (LOG_LEVEL=$LOG_LEVEL)${SERVER_ENV:+, $SERVER_ENV}; no rate limiting; $(/usr/bin/python3 -c 'import fastapi, sys; print("Python %d.%d.%d, FastAPI %s" % (sys.version_info[:3] + (fastapi.__version__,)))')"
}

fastapi_seed() { timeout 300 psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -v users="$U" -v tasks="$T" -f seed-fastapi.sql; }

fastapi_pgbench_script() { echo "$HERE/pgbench/list-fastapi.sql"; }

# --- measuring --------------------------------------------------------------------------------

wait_healthy() {
  local deadline=$((SECONDS + START_TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    alive "$SERVER_PID" || { tail -20 "$RUN/server.log" >&2; die "the server exited during start-up (log: $RUN/server.log)"; }
    [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$BASE_URL/healthz")" = 200 ] && return 0
    sleep 0.3
  done
  tail -20 "$RUN/server.log" >&2
  die "the server did not answer $BASE_URL/healthz with 200 within ${START_TIMEOUT}s (log: $RUN/server.log)"
}

# bounded OUT TIMEFILE CMD...: run CMD (at most DURATION + 60 s) with its CPU time in TIMEFILE,
# in the background so that a signal to this script stops it at once (see cleanup).
bounded() {
  local out=$1 tf=$2 rc=0
  shift 2
  timeout -k 5 $((DUR_S + 60)) /usr/bin/time -f '%U %S' -o "$tf" "$@" > "$out" 2>&1 &
  LOADGEN_PID=$!
  wait "$LOADGEN_PID" || rc=$?
  LOADGEN_PID=
  return $rc
}

wrk_cmd() { # SCENARIO DURATION
  echo env SCENARIO="$1" TOKENS_FILE="$RUN/tokens.txt" IDS_FILE="$RUN/ids.txt" CURSORS_FILE="$RUN/cursors.txt" \
    RECURRING_FILE="$RUN/recurring.txt" CHANGES_FILE="$RUN/changes.txt" TASKS_PER_USER="$T" \
    wrk -t"$THREADS" -c"$CONNS" -d"$2" --latency -s "$HERE/lua/tasks.lua" "$BASE_URL"
}

# sse_start: benchtool sse opens SSE_USERS x SSE_TABS event streams; returns once all are open.
sse_start() {
  rm -f "$RUN/sse.ready" "$RUN/sse.txt"
  "$BIN/benchtool" sse -base "$BASE_URL" -tokens "$RUN/tokens.txt" -users "$SSE_USERS" -tabs "$SSE_TABS" \
    -ready "$RUN/sse.ready" -out "$RUN/sse.txt" > "$RUN/sse.log" 2>&1 &
  SSE_PID=$!
  until [ -f "$RUN/sse.ready" ]; do
    alive "$SSE_PID" || { cat "$RUN/sse.log" >&2; die "benchtool sse could not open its streams"; }
    sleep 0.2
  done
  SSE_TICKS=$(ticks_of "$SSE_PID")
}

# sse_stop TIMEFILE PASS: stops benchtool sse, adds its CPU time to the load generator's (in
# TIMEFILE) and keeps its result with the server's RSS while the streams were open.
sse_stop() {
  local tf=$1 pass=$2 ticks rss
  ticks=$(( $(ticks_of "$SSE_PID") - SSE_TICKS ))
  rss=$(mib "$(kib_of VmRSS)")
  kill -TERM "$SSE_PID"
  wait "$SSE_PID" || { cat "$RUN/sse.log" >&2; die "benchtool sse failed"; }
  SSE_PID=''
  awk -v t="$ticks" -v tck="$CLK_TCK" 'END{printf "%.2f %s\n", $1 + t/tck, $2}' "$tf" > "$tf.sse" && mv "$tf.sse" "$tf"
  SSE_RESULTS+=("pass $pass: $(cat "$RUN/sse.txt" | sed 's/^SSE //'), server RSS with them open ${rss} MiB")
}

# server_histogram: "le=count ..." of taskapi_http_request_duration_seconds, summed over every
# route but /metrics (nothing when the server has no /metrics: the peer).
server_histogram() {
  curl -sf "$BASE_URL/metrics" 2>/dev/null | awk '/^taskapi_http_request_duration_seconds_bucket\{/ && !/route="\/metrics"/ {
      match($0, /le="[^"]+"/); le = substr($0, RSTART + 4, RLENGTH - 5); n[le] += $NF; if (!(le in seen)) { seen[le] = 1; order[++k] = le } }
    END { for (i = 1; i <= k; i++) printf "%s=%d ", order[i], n[order[i]] }' || true
}

# server_latency_row SCENARIO PASS BEFORE AFTER: a row of the server-side latency table, from
# two server_histogram readings around a run: requests answered, the share within 20 ms, and the
# bucket that holds the 99th percentile. wrk's own percentiles over-weight slow requests
# (bench/RESULTS.md, 2026-12-02), so this is the per-request count.
server_latency_row() {
  [ -n "$3" ] && [ -n "$4" ] || return 0
  awk -v label="$LABEL" -v sc="$1" -v pass="$2" -v before="$3" -v after="$4" 'BEGIN {
    k = split(after, a, " "); split(before, b, " ")
    for (i in b) { split(b[i], kv, "="); was[kv[1]] = kv[2] }
    for (i = 1; i <= k; i++) { split(a[i], kv, "="); le[i] = kv[1]; c[i] = kv[2] - was[kv[1]] }
    n = c[k]; if (n <= 0) exit
    for (i = 1; i <= k; i++) {
      if (le[i] == "0.02") within = 100 * c[i] / n
      if (p99 == "" && c[i] >= 0.99 * n) p99 = (le[i] == "+Inf" ? "over 10 s" : "<= " le[i] * 1000 " ms")
    }
    printf "| %s | %s | %s | %d | %s | %s |\n", label, sc, pass, n, (within == "" ? "no 20 ms bucket" : sprintf("%.2f%%", within)), p99 }'
}

# measure_wrk SCENARIO PASS -> ROW (one table row), and SERVER_LATENCY (server_latency_row)
measure_wrk() {
  local sc=$1 pass=$2 load=$1 out tf s0 s1 res
  case "$sc" in
  create-no-outbox)
    load=create
    OUTBOX_OFF=1
    psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c 'ALTER TABLE tasks DISABLE TRIGGER tasks_outbox' ;;
  mixed-sse)
    load=mixed
    sse_start ;;
  mcp-list) # wrk does not read the answers: one call first, to see that it is a page of tasks
    curl -sf -H "Authorization: Bearer $(awk 'NR == 1 {print $2}' "$RUN/tokens.txt")" -H 'Content-Type: application/json' \
      -H 'Accept: application/json, text/event-stream' -H 'Mcp-Protocol-Version: 2025-11-25' \
      -d '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_tasks","arguments":{"limit":20}}}' \
      "$BASE_URL/mcp" | grep -q '"structuredContent":{"tasks":\[{' || die "the MCP endpoint's list_tasks does not answer a page of tasks" ;;
  esac
  if [ "$sc" = complete-recurring ]; then
    # Every request completes an open occurrence, so a run starts from the ones open now (an
    # earlier run completed those it was given).
    "$BIN/benchtool" fetch -base "$BASE_URL" -tokens "$RUN/tokens.txt" -ids "" -recurring-ids "$RUN/recurring.txt"
  fi
  out=$(mktemp) tf=$(mktemp)
  h0=$(server_histogram)
  s0=$(snapshot)
  # shellcheck disable=SC2046
  bounded "$out" "$tf" $(wrk_cmd "$load" "$DURATION") || { cat "$out" >&2; die "wrk failed ($sc)"; }
  s1=$(snapshot)
  SERVER_LATENCY=$(server_latency_row "$sc" "$pass" "$h0" "$(server_histogram)")
  case "$sc" in
  create-no-outbox) psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" -c 'ALTER TABLE tasks ENABLE TRIGGER tasks_outbox'; OUTBOX_OFF=0 ;;
  mixed-sse) sse_stop "$tf" "$pass" ;;
  esac
  res=$(grep '^RESULT ' "$out") || { cat "$out" >&2; die "wrk gave no RESULT ($sc)"; }
  grep '^non-2xx' "$out" | head -3 | sed "s/^/bench: $sc: /" >&2 || true
  alive "$SERVER_PID" || { tail -20 "$RUN/server.log" >&2; die "the server died during $sc"; }
  ROW=$(fmt_row "$LABEL" "$sc" "$pass" "$res" "$s0" "$s1" "$(tail -1 "$tf")" "$(mib "$(kib_of VmHWM)")")
  rm -f "$out" "$tf"
}

# measure_pgbench SCRIPT PASS NAME -> ROW: a list query alone, at the same concurrency; p50/p99
# from pgbench's per-transaction log.
measure_pgbench() {
  local script=$1 pass=$2 name=$3 dir out tf s0 s1 res
  dir=$(mktemp -d) out=$(mktemp) tf=$(mktemp)
  s0=$(snapshot)
  bounded "$out" "$tf" pgbench -n -c "$CONNS" -j "$PGBENCH_JOBS" -T "$DUR_S" -M "$PGBENCH_MODE" -D users="$U" \
    -f "$script" -l --log-prefix="$dir/tx" "$DATABASE_URL" || { cat "$out" >&2; die "pgbench failed"; }
  s1=$(snapshot)
  res=$(cat "$dir"/tx.* | awk '{print $3}' | sort -n | awk \
    -v tps="$(awk '/^tps = /{print $3}' "$out")" \
    -v failed="$(awk '/number of failed transactions/{print $5+0}' "$out")" \
    '{v[NR]=$1} END{n=NR; a=int(n*0.50); b=int(n*0.99); if (a<1) a=1; if (b<1) b=1
      printf "RESULT requests=%d rps=%s p50_ms=%.3f p99_ms=%.3f err_connect=0 err_read=0 err_write=0 err_timeout=0 non2xx=%d\n",
        n, tps, v[a]/1000, v[b]/1000, failed}')
  ROW=$(fmt_row "$LABEL" "$name" "$pass" "$res" "$s0" "$s1" "$(tail -1 "$tf")" -)
  rm -rf "$dir" "$out" "$tf"
}

# measure_floor PASS -> ROW: the list scenario against benchtool floor, started for this run
# on the same database (list writes nothing) with the server's environment (SERVER_ENV too), warmed up as
# the server is; the server stays up, idle, meanwhile.
measure_floor() {
  local pass=$1 server_pid=$SERVER_PID base_url=$BASE_URL deadline
  # shellcheck disable=SC2086
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$DATABASE_URL" BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" $SERVER_ENV \
    "$BIN/benchtool" floor -addr "127.0.0.1:$FLOOR_PORT" -tokens "$RUN/tokens.txt" > "$RUN/floor.log" 2>&1 &
  FLOOR_PID=$!
  deadline=$((SECONDS + START_TIMEOUT))
  until [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "http://127.0.0.1:$FLOOR_PORT/healthz")" = 200 ]; do
    alive "$FLOOR_PID" && [ $SECONDS -lt $deadline ] || { cat "$RUN/floor.log" >&2; die "benchtool floor did not start"; }
    sleep 0.2
  done
  SERVER_PID=$FLOOR_PID BASE_URL=http://127.0.0.1:$FLOOR_PORT
  if [ "$WARMUP" != 0 ]; then
    # shellcheck disable=SC2046
    bounded /dev/null /dev/null $(wrk_cmd list "$WARMUP") || true
  fi
  measure_wrk list "$pass"
  ROW=$(echo "$ROW" | sed 's/^| [^|]* | list |/| floor | floor:list |/')
  SERVER_PID=$server_pid BASE_URL=$base_url
  kill -TERM "$FLOOR_PID" 2>/dev/null || true
  wait "$FLOOR_PID" 2>/dev/null || true
  FLOOR_PID=''
}

# measure KIND ARGS...: wait for a quiet machine and run measure_KIND; redo a noisy run (up to
# RETRY_NOISY times) and keep the try with the least foreign CPU ("other").
measure() {
  local kind=$1 try best='' best_other='' best_latency='' other
  shift
  for try in $(seq 0 "$RETRY_NOISY"); do
    wait_quiet
    SERVER_LATENCY=''
    "measure_$kind" "$@"
    other=$(row_field "$ROW" 13 | tr -dc '0-9-')
    if [ -z "$best" ] || [ "$other" -lt "$best_other" ]; then best=$ROW best_other=$other best_latency=$SERVER_LATENCY; fi
    is_noisy "$ROW" || break
    [ "$try" -ge "$RETRY_NOISY" ] || log "noisy run (other processes used ${other}% of a core), redoing: $ROW"
  done
  ROWS+=("$best")
  [ -z "$best_latency" ] || LATENCY_ROWS+=("$best_latency")
  ERRORS=$((ERRORS + $(row_field "$best" 8)))
  log "$best"
}

# warm_cache (WARM_CACHE=1): read every page of the bench database's tables, TOAST tables and
# indexes through the OS page cache (pg_prewarm's 'read' mode: shared buffers are left as they
# are), so that a scenario meets its data in memory, as on a database server whose memory holds
# it. This machine's kernel pages out page-cache pages that nothing read for about a minute
# (DAMON's pageout scheme: bench/RESULTS.md, 2026-12-08), so without it a scenario at 10 M rows ran
# at the speed of whatever the scenarios of the minute before had left in memory.
# WARM_CACHE=buffers reads them into shared buffers instead (pg_prewarm's 'buffer' mode), for a
# cluster whose shared_buffers hold the whole database (shared memory is not paged out here: no swap).
warm_cache() {
  local mode t0 blocks secs mib
  case "$WARM_CACHE" in
  1) mode=read ;;
  buffers) mode=buffer ;;
  *) return 0 ;;
  esac
  t0=$(date +%s.%N)
  psql_bench -c 'SET client_min_messages = warning' -c 'CREATE EXTENSION IF NOT EXISTS pg_prewarm'
  blocks=$(psql_bench -tAc "SELECT sum(pg_prewarm(c.oid, '$mode')) FROM pg_class c
      WHERE c.relnamespace IN ('public'::regnamespace, 'pg_toast'::regnamespace) AND c.relkind IN ('r', 'i', 't')
        AND c.relpersistence = 'p'")
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  mib=$(awk -v b="$blocks" 'BEGIN{printf "%.0f", b*8/1024}')
  if [ "$mode" = read ]; then
    log "page cache: read $blocks blocks ($mib MiB) in $secs s"
    WARM_NOTE="before each scenario every page of the database's tables and indexes was read through the OS page cache (WARM_CACHE=1, pg_prewarm 'read': $mib MiB; the last read took $secs s)"
  else
    log "page cache: read $blocks blocks ($mib MiB) into shared buffers ($(psql_bench -tAc 'SHOW shared_buffers')) in $secs s"
    WARM_NOTE="before each scenario every page of the database's tables and indexes was read into shared buffers (WARM_CACHE=buffers, pg_prewarm 'buffer': $mib MiB, shared_buffers $(psql_bench -tAc 'SHOW shared_buffers'); the last read took $secs s)"
  fi
}

prepare_pass() {
  log "seeding $U users x $T tasks into $BENCH_DB"
  "${TARGET}_seed" > /dev/null
  "$BIN/benchtool" tokens -users "$U" -out "$RUN/tokens.txt"
  local cursors=()
  [ "$TARGET" != go ] || cursors=(-cursors "$RUN/cursors.txt" -cursor-query "$FILTERED_QUERY" -recurring-ids "$RUN/recurring.txt")
  log "fetching 20 task ids per user${cursors:+ and page-2 cursors of ?$FILTERED_QUERY} through the API"
  # up to 3 requests per user, 8 at a time: allow for many users (the growth mode's 100,000)
  "$BIN/benchtool" fetch -base "$BASE_URL" -tokens "$RUN/tokens.txt" -ids "$RUN/ids.txt" "${cursors[@]}" \
    -timeout "$((120 + U / 100))s"
  [ "$TARGET" != go ] || scenario_inputs
  if [ "$WARMUP" != 0 ]; then
    # shellcheck disable=SC2046
    bounded /dev/null /dev/null $(wrk_cmd list "$WARMUP") || true
  fi
}

# scenario_inputs: what changes and list-due ask for, read from the database. changes: per user,
# a cursor right before its first event (its seeded events in growth mode: the page is those
# events; 0 when the user has none, as after seed.sql). list-due: a window of 29 days from
# user-1's earliest due date (every user has the same due dates: the seed's now + t days, t
# even), so 15 tasks of each user (t = 2..30) fall in it, whenever the database was seeded.
scenario_inputs() {
  psql_bench -tA -F' ' -c "SELECT 'user-' || u, coalesce((SELECT min(id) - 1 FROM task_events e WHERE e.user_id = 'user-' || u), 0)
      FROM generate_series(1, $U) AS u" > "$RUN/changes.txt"
  DUE_QUERY=$(psql_bench -tAc "SELECT format('due_after=%s&due_before=%s&sort=due_date&limit=20',
        to_char((d - interval '1 second') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
        to_char((d + interval '29 days') AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))
      FROM (SELECT min(due_date) AS d FROM tasks WHERE user_id = 'user-1') AS x WHERE d IS NOT NULL")
}

write_header() {
  local filtered_note=''
  [ "$TARGET" != go ] || filtered_note="; list-filtered = page 2 of \`?$FILTERED_QUERY\`"
  cat <<EOF
# $LABEL — $(date -u '+%Y-%m-%d %H:%M:%S UTC')

- server: $SERVER_DESC
- server RSS after start: $RSS_START MiB (VmRSS; peak RSS column = VmHWM so far, summed over the server's processes)
$(if [ "$KEEP_DB" = 1 ]; then
  echo "- data: $U users x $T tasks and $EVENTS change-feed events per user (bench/seed-growth.sql) in the kept database $BENCH_DB, $GROWTH_NOTE; requests as a random user with its own token"
  echo "- page cache: ${WARM_NOTE:-not warmed (WARM_CACHE=0): each scenario met what the earlier ones and the kernel had left in memory}"
else
  echo "- data: $U users x $T tasks, reseeded before each pass ($([ "$TARGET" = go ] && echo bench/seed.sql || echo bench/seed-fastapi.sql)); requests as a random user with its own token"
fi)
- load: \`wrk -t$THREADS -c$CONNS -d$DURATION --latency -s bench/lua/tasks.lua\` per scenario, keep-alive; $REPEAT pass(es); $WARMUP of list as warm-up per pass; mixed = $MIX % list/get/create/update$filtered_note
- ceiling: right after each pass's list run, \`pgbench -n -c $CONNS -j $PGBENCH_JOBS -T $DUR_S -M $PGBENCH_MODE\` with $([ "$TARGET" = go ] && echo "the SQL of ListTasksNewestFirst (gen/db/tasks.sql.go), what the server sends for list: a random user, LIMIT 21; and right after list-filtered, the same with the SQL of ListTasksByDueDateDesc specialised for its filter and page-2 cursor (see go_pgbench_filtered_script)" || echo "the peer's list SQL (bench/pgbench/list-fastapi.sql)")
- machine: $(nproc) CPUs, $(awk '/MemTotal/{printf "%.0f GiB", $2/1048576}' /proc/meminfo); PostgreSQL $(psql_admin -tAc 'SHOW server_version' | cut -d' ' -f1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2)
- CPU% = % of one core during the run ($(nproc)00% = the machine); other = everything else on the machine (! = over $QUIET_MAX%: noisy); errors = responses with status >= 400 (every non-2xx with CHECK_2XX=1) + socket errors (pgbench: failed transactions)

EOF
}

main() {
  preflight
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local started=$SECONDS pass sc ceiling_script filtered_script
  mkdir -p "$BIN" "$RUN" "$HERE/data/results"
  "${TARGET}_build"
  # Built as the server is: the floor (benchtool floor) is measured against it.
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/benchtool" ./bench/benchtool)
  PG_PID=$(postmaster_pid) || die "cannot find the PostgreSQL postmaster's pid"

  log "starting the server on $BASE_URL (database $BENCH_DB, log $RUN/server.log)"
  "${TARGET}_start"
  wait_healthy
  RSS_START=$(mib "$(kib_of VmRSS)")
  log "up: pid $SERVER_PID, RSS $RSS_START MiB; rate limiting off (RATE_LIMIT_RPS=0), LOG_LEVEL=$LOG_LEVEL"

  ceiling_script=''
  [ "$CEILING" = 1 ] && ceiling_script=$("${TARGET}_pgbench_script")
  local listed=0
  for pass in $(seq 1 "$REPEAT"); do
    prepare_pass
    for sc in "${SCENARIOS[@]}"; do
      warm_cache
      log "pass $pass: $sc ($DURATION, $CONNS connections)"
      measure wrk "$sc" "$pass"
      # The ceiling right after list, on the same (unchanged) data: this machine's speed drifts
      # from minute to minute, so the two are compared from neighbouring runs.
      if [ -n "$ceiling_script" ] && [ "$sc" = list ]; then
        listed=1
        log "pass $pass: database ceiling: pgbench with the list query ($CONNS connections, $DURATION)"
        measure pgbench "$ceiling_script" "$pass" pg-ceiling:list
        if [ "$FLOOR" = 1 ]; then
          log "pass $pass: the stack's floor: list against benchtool floor ($CONNS connections, $DURATION)"
          measure floor "$pass"
        fi
      fi
      if [ "$CEILING" = 1 ] && [ "$TARGET" = go ] && [ "$sc" = list-filtered ]; then
        filtered_script=$(go_pgbench_filtered_script)
        if [ -n "$filtered_script" ]; then
          log "pass $pass: its database ceiling: pgbench with the list-filtered query ($CONNS connections, $DURATION)"
          measure pgbench "$filtered_script" "$pass" pg-ceiling:list-filtered
        fi
      fi
    done
  done
  if [ -n "$ceiling_script" ] && [ "$listed" = 0 ]; then
    log "database ceiling: pgbench with the list query ($CONNS connections, $DURATION); reseeding first"
    "${TARGET}_seed" > /dev/null
    for pass in $(seq 1 "$REPEAT"); do measure pgbench "$ceiling_script" "$pass" pg-ceiling:list; done
  fi
  local peak warnings
  peak=$(mib "$(kib_of VmHWM)")
  local canceled
  warnings=$(grep -c . "$RUN/server.log" || true)
  canceled=$(grep -c 'context canceled' "$RUN/server.log" || true)
  stop_server

  {
    write_header
    echo "$TABLE_HDR"
    printf '%s\n' "${ROWS[@]}"
    echo
    [ "$REPEAT" -le 1 ] || { printf '%s\n' "${ROWS[@]}" | summarize; echo; }
    if [ ${#LATENCY_ROWS[@]} -gt 0 ]; then
      echo "Server-side latency (the server's taskapi_http_request_duration_seconds, read before and after each run:"
      echo "every request it answered, from arrival to answer; wrk's p99 above over-weights slow requests):"
      echo
      echo "| target | scenario | pass | requests | within 20 ms | p99 |"
      echo "|---|---|---:|---:|---:|---|"
      printf '%s\n' "${LATENCY_ROWS[@]}"
      echo
    fi
    for sc in list list-filtered; do
      printf '%s\n' "${ROWS[@]}" | awk -F'|' -v sc="$sc" '{gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $5)}
        $3 == sc {l += $5; nl++; lp[$4] = $5} $3 == "pg-ceiling:" sc {c += $5; nc++; cp[$4] = $5}
        END{ if (!nl || !nc) exit
             printf "- API %s / database ceiling: %.0f / %.0f req/s = %.1f%%", sc, l/nl, c/nc, 100*(l/nl)/(c/nc)
             sep = " (per pass, " sc " and its ceiling measured one after the other: "
             for (p = 1; p <= nl; p++) if ((p in lp) && (p in cp) && cp[p] > 0) { printf "%s%.1f%%", sep, 100*lp[p]/cp[p]; sep = ", " }
             print (sep == ", " ? ")" : "") }'
    done
    printf '%s\n' "${ROWS[@]}" | awk -F'|' '{gsub(/ /, "", $3); gsub(/ /, "", $4); gsub(/ /, "", $5)}
      $3 == "list" {l += $5; nl++; lp[$4] = $5} $3 == "floor:list" {f += $5; nf++; fp[$4] = $5}
      $3 == "pg-ceiling:list" {c += $5; nc++}
      END{ if (!nl || !nf) exit
           printf "- API list / stack floor (benchtool floor: net/http and the service alone): %.0f / %.0f req/s = %.1f%%", l/nl, f/nf, 100*(l/nl)/(f/nf)
           sep = " (per pass: "
           for (p = 1; p <= nl; p++) if ((p in lp) && (p in fp) && fp[p] > 0) { printf "%s%.1f%%", sep, 100*lp[p]/fp[p]; sep = ", " }
           printf "%s", (sep == ", " ? ")" : "")
           if (nc) printf "; stack floor / database ceiling: %.1f%%", 100*(f/nf)/(c/nc)
           print "" }'
    printf '%s\n' "${ROWS[@]}" | awk -F'|' '{gsub(/ /, "", $3); gsub(/ /, "", $5)}
      $3 == "update" {u += $5; nu++} $3 == "complete-recurring" {c += $5; nc++}
      $3 == "list" {l += $5; nl++} $3 == "reminders" {r += $5; nr++} $3 == "mcp-list" {ml += $5; nml++}
      $3 == "create" {cr += $5; ncr++} $3 == "create-no-outbox" {co += $5; nco++}
      $3 == "mixed" {m += $5; nm++} $3 == "mixed-sse" {ms += $5; nms++}
      END{ if (ncr && nco) printf "- create / create-no-outbox: %.0f / %.0f req/s: the outbox write costs create %.1f%% of its throughput (target: at most 15%%)\n", cr/ncr, co/nco, 100*(1-(cr/ncr)/(co/nco))
           if (nm && nms) printf "- mixed-sse / mixed: %.0f / %.0f req/s = %.1f%%: the streams cost mixed %.1f%% (target: at most 15%%)\n", ms/nms, m/nm, 100*(ms/nms)/(m/nm), 100*(1-(ms/nms)/(m/nm))
           if (nu && nc) printf "- complete-recurring / update: %.0f / %.0f req/s: completing a recurring task (and making its next occurrence) costs %.2fx a plain update (target: at most 1.5x)\n", c/nc, u/nu, (u/nu)/(c/nc)
           if (nl && nml) printf "- mcp-list / list: %.0f / %.0f req/s = %.0f%%: list_tasks through MCP against GET /api/tasks (target: at least 50%%)\n", ml/nml, l/nl, 100*(ml/nml)/(l/nl)
           if (nl && nr) printf "- reminders / list: %.0f / %.0f req/s = %.0f%% (target: at least 100%%)\n", r/nr, l/nl, 100*(r/nr)/(l/nl) }'
    [ ${#SSE_RESULTS[@]} -eq 0 ] || printf -- "- mixed-sse event streams (benchtool sse, $SSE_USERS users x $SSE_TABS tabs; delay = arrival - the event's commit time; targets: p99 < 250 ms, server RSS < 150 MB): %s\n" "${SSE_RESULTS[@]}"
    echo "- server: peak RSS $peak MiB, RSS after start $RSS_START MiB; exit status after SIGTERM: $SERVER_RC; its log (LOG_LEVEL=$LOG_LEVEL): $warnings line(s), $canceled of them \"context canceled\" (requests in flight when wrk closed its connections at the end of a run; wrk does not count them)"
    echo "- total errors: $ERRORS; run took $((SECONDS - started)) s"
    # growth.sh reads this line: the database's size after the (last) seed or clean-up
    # (pg_database_size, pg_total_relation_size of tasks and task_events, their row counts).
    [ -z "$GROWTH_SIZES_LINE" ] || echo "<!-- growth-sizes $GROWTH_SIZES_LINE -->"
  } > "$OUT"
  tail -n +3 "$OUT"
  log "results: ${OUT#"$ROOT"/}"
  if [ "$ERRORS" -gt 0 ] && [ "$ALLOW_ERRORS" != 1 ]; then
    die "$ERRORS request(s) were not 2xx or failed (see the errors column; ALLOW_ERRORS=1 to accept)"
  fi
}

main
