#!/usr/bin/env bash
# Two taskapi replicas behind one PgBouncer (transaction mode, stock settings otherwise), with
# their rate limits in Redis and their events published to NATS JetStream, each replica pinned
# to its own CPU. In one run:
#   1. throughput: SCENARIO against replica A alone (wrk -c CONNS), then against A and B together
#      (two wrk, CONNS/2 connections each, one per replica): per replica, total, p99;
#   2. failover: `benchtool creates` (idempotent creates, each key retried on the other replica
#      after a connection error, timeout, 5xx or 429) against both, B stopped with SIGTERM midway;
#      then `benchtool verify-creates` checks by SQL that every key the client attempted is exactly
#      one task, that no task lacks a key, that each has one task.created event, in commit order,
#      and that every event reached JetStream once per Nats-Msg-Id.
# Prints a markdown report and writes it to bench/data/results/replicas-<timestamp>.md. Everything
# it starts (PgBouncer on a free port with a config in a temp dir, the replicas, the loaders, the
# database, the NATS stream, the rate-limit buckets) is removed at the end, also on failure.
#
#   bench/replicas.sh        (go tool task bench:replicas)
#
# Knobs (environment; defaults):
#   SCENARIO (mixed: list|get|create|update|mixed of lua/tasks.lua)  DURATION (10s)  CONNS (32, in total)
#   WARMUP (3s of list per replica; 0 = none)  MIX (60,20,10,10)  U (1000 users) T (100 tasks each)
#   FAILOVER_DURATION (10s)  CREATE_WORKERS (16: users, one sequential client each)
#   STOP_AFTER (half of FAILOVER_DURATION: when B gets SIGTERM)  RETRY_TIMEOUT (30s a key)
#   CPU_A (0) CPU_B (1): taskset -c of each replica  PORT_A (18081) PORT_B (18082)
#   REDIS_URL (redis://127.0.0.1:6379/13)  RATE_LIMIT_RPS (1000) RATE_LIMIT_BURST (2000): per user;
#       high enough that the load is not turned into 429s, yet every request takes a token in Redis
#   NATS (1; 0 = no publishing) NATS_URL (nats://127.0.0.1:4222): a stream of its own per run
#   BENCH_DB (taskapi_bench_replicas; dropped and created, dropped at the end unless KEEP_DB=1)
#   PG_SERVER (postgres://postgres@127.0.0.1:5432)  LOG_LEVEL (warn)  SERVER_ENV ("": extra VAR=value)
#   QUIET_MAX (10) QUIET_WAIT (30)  START_TIMEOUT (60)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
cd "$HERE"
. ./lib.sh

SCENARIO=${SCENARIO:-mixed}
DURATION=${DURATION:-10s}
CONNS=${CONNS:-32}
WARMUP=${WARMUP:-3s}
export MIX=${MIX:-60,20,10,10}
U=${U:-1000}
T=${T:-100}
FAILOVER_DURATION=${FAILOVER_DURATION:-10s}
CREATE_WORKERS=${CREATE_WORKERS:-16}
RETRY_TIMEOUT=${RETRY_TIMEOUT:-30s}
CPU_A=${CPU_A:-0}
CPU_B=${CPU_B:-1}
PORT_A=${PORT_A:-18081}
PORT_B=${PORT_B:-18082}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379/13}
RATE_LIMIT_RPS=${RATE_LIMIT_RPS:-1000}
RATE_LIMIT_BURST=${RATE_LIMIT_BURST:-2000}
NATS=${NATS:-1}
NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
BENCH_DB=${BENCH_DB:-taskapi_bench_replicas}
KEEP_DB=${KEEP_DB:-0}
PG_SERVER=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
LOG_LEVEL=${LOG_LEVEL:-warn}
SERVER_ENV=${SERVER_ENV:-}
QUIET_MAX=${QUIET_MAX:-10}
QUIET_WAIT=${QUIET_WAIT:-30}
START_TIMEOUT=${START_TIMEOUT:-60}
export BETTER_AUTH_SECRET=taskapi-bench-only-secret-0123456789abcdef

DUR_S=$(seconds "$DURATION")
FO_S=$(seconds "$FAILOVER_DURATION")
STOP_AFTER=${STOP_AFTER:-$(awk -v d="$FO_S" 'BEGIN{printf "%g", d/2}')}
STAMP=$(date -u +%Y%m%dT%H%M%S)
RUNID=r$STAMP
DIRECT_URL=$PG_SERVER/$BENCH_DB
BIN=$HERE/.bin
RUN=$HERE/data/replicas
OUT=$HERE/data/results/replicas-$STAMP.md
STREAM=''
[ "$NATS" != 1 ] || STREAM=BENCH_REPLICAS_$STAMP

declare -A PID=() URL=() CPU=() RC=() STOP_S=()
URL[A]=http://127.0.0.1:$PORT_A URL[B]=http://127.0.0.1:$PORT_B
CPU[A]=$CPU_A CPU[B]=$CPU_B
PGB_PID='' PGB_DIR='' PGB_PORT='' LOADERS=() DB_MADE=0 ROWS=()

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 "$PG_SERVER/postgres" "$@"; }
psql_db() { psql -X -q -tA -v ON_ERROR_STOP=1 "$DIRECT_URL" "$@"; }

preflight() {
  if ! command -v wrk >/dev/null || ! command -v pgbouncer >/dev/null; then
    [ "$(id -u)" = 0 ] || die "wrk and pgbouncer are needed: apt-get install wrk pgbouncer"
    log "installing wrk and pgbouncer (Debian)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk pgbouncer; } >/dev/null ||
      die "apt-get install wrk pgbouncer failed"
  fi
  local t
  for t in go psql redis-cli curl taskset timeout /usr/bin/time; do
    command -v "$t" >/dev/null || die "$t is missing"
  done
  [ "$(id -u)" != 0 ] || command -v setpriv >/dev/null || die "setpriv is missing (util-linux): PgBouncer must not run as root"
  [ "$(nproc)" -ge 2 ] || log "only $(nproc) CPU: both replicas share it"
  pg_isready -q -d "$PG_SERVER/postgres" || die "PostgreSQL is not answering at $PG_SERVER"
  [ "$(redis-cli -u "$REDIS_URL" ping 2>/dev/null)" = PONG ] || die "Redis is not answering at $REDIS_URL"
  if [ "$NATS" = 1 ]; then
    local hp=${NATS_URL#*://}
    (exec 3<>"/dev/tcp/${hp%:*}/${hp##*:}") 2>/dev/null || die "NATS is not answering at $NATS_URL (NATS=0 to run without)"
  fi
  case "$SCENARIO" in list | get | create | update | mixed) ;; *) die "SCENARIO must be list, get, create, update or mixed" ;; esac
  [ "$DUR_S" -gt 0 ] 2>/dev/null && [ "$FO_S" -gt 0 ] 2>/dev/null || die "DURATION and FAILOVER_DURATION: e.g. 10s"
  [ "$CONNS" -ge 2 ] || die "CONNS must be at least 2 (CONNS/2 per replica when both run)"
  for t in A B; do
    ! curl -s -o /dev/null --max-time 2 "${URL[$t]}/" || die "something already listens on ${URL[$t]} (set PORT_$t)"
  done
}

# stop_replica A|B: SIGTERM, up to 20 s (SHUTDOWN_TIMEOUT is 15 s), then SIGKILL; keeps its exit
# status in RC and how long it took in STOP_S.
stop_replica() {
  local r=$1 p=${PID[$1]:-} t0
  [ -n "$p" ] || return 0
  t0=$(date +%s.%N)
  kill -TERM "$p" 2>/dev/null || true
  for _ in $(seq 1 100); do alive "$p" || break; sleep 0.2; done
  if alive "$p"; then
    log "replica $r ($p) did not stop within 20 s: SIGKILL"
    kill -KILL "$p" 2>/dev/null || true
  fi
  RC[$r]=0
  wait "$p" 2>/dev/null || RC[$r]=$?
  STOP_S[$r]=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  PID[$r]=''
  log "replica $r stopped (SIGTERM; exit status ${RC[$r]} after ${STOP_S[$r]} s)"
}

cleanup() {
  local rc=$? p
  set +e
  trap - EXIT INT TERM
  for p in "${LOADERS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  stop_replica A
  stop_replica B
  if [ -n "$PGB_PID" ]; then kill -TERM "$PGB_PID" 2>/dev/null; wait "$PGB_PID" 2>/dev/null; fi
  [ -z "$PGB_DIR" ] || rm -rf "$PGB_DIR"
  [ -z "$STREAM" ] || [ ! -x "$BIN/benchtool" ] || "$BIN/benchtool" nats-delete-stream -nats "$NATS_URL" -stream "$STREAM" ||
    log "could not remove the NATS stream $STREAM"
  # The rate-limit buckets of this run's users (they would expire by themselves).
  seq 1 $((U + CREATE_WORKERS)) | sed 's/^/DEL taskapi:ratelimit:user-/' | redis-cli -u "$REDIS_URL" > /dev/null 2>&1
  if [ "$DB_MADE" = 1 ] && [ "$KEEP_DB" != 1 ]; then
    psql_admin -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" || log "could not drop $BENCH_DB"
  fi
  exit "$rc"
}

# start_pgbouncer: PgBouncer in transaction mode on a free port, its config in a temp dir: the
# same settings as internal/testdb.StartPgBouncer (stock but for the mode, the addresses and
# trust authentication; no ignore_startup_parameters), with the stock pool sizes. As the postgres
# user when run as root (PgBouncer refuses root).
start_pgbouncer() {
  local hostport=${PG_SERVER##*@} asuser=()
  PGB_PORT=$(free_port 16400)
  PGB_DIR=$(mktemp -d /tmp/taskapi-bench-pgbouncer.XXXXXX)
  cat > "$PGB_DIR/pgbouncer.ini" <<EOF
[databases]
$BENCH_DB = host=${hostport%:*} port=${hostport##*:} dbname=$BENCH_DB user=postgres

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $PGB_PORT
unix_socket_dir = $PGB_DIR
auth_type = trust
auth_file = $PGB_DIR/users.txt
pool_mode = transaction
logfile = $PGB_DIR/pgbouncer.log
EOF
  echo '"postgres" ""' > "$PGB_DIR/users.txt"
  if [ "$(id -u)" = 0 ]; then
    chown -R postgres: "$PGB_DIR"
    asuser=(setpriv --reuid=postgres --regid=postgres --clear-groups --)
  fi
  "${asuser[@]}" pgbouncer "$PGB_DIR/pgbouncer.ini" > /dev/null 2>&1 &
  PGB_PID=$!
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$PGB_PORT") 2>/dev/null && break
    alive "$PGB_PID" || break
    sleep 0.2
  done
  (exec 3<>"/dev/tcp/127.0.0.1/$PGB_PORT") 2>/dev/null || { cat "$PGB_DIR/pgbouncer.log" >&2; die "PgBouncer did not start"; }
  POOLED_URL="postgres://postgres@127.0.0.1:$PGB_PORT/$BENCH_DB?sslmode=disable"
  log "PgBouncer $(pgbouncer --version | head -1 | awk '{print $2}') up: pid $PGB_PID, port $PGB_PORT, transaction mode (config $PGB_DIR/pgbouncer.ini)"
}

# start_replica A|B: the server pinned to its CPU, through PgBouncer, in a clean environment.
start_replica() {
  local r=$1 port=${URL[$1]##*:} nats_env=() deadline
  [ "$NATS" != 1 ] || nats_env=(NATS_URL="$NATS_URL" NATS_STREAM="$STREAM" NATS_SUBJECT_PREFIX="bench-replicas-$STAMP")
  mkdir -p "$RUN/cwd"
  # shellcheck disable=SC2086
  (cd "$RUN/cwd" && exec env -i PATH="$PATH" HOME="$HOME" \
    DATABASE_URL="$POOLED_URL" DB_POOLER=transaction MIGRATION_DATABASE_URL="$DIRECT_URL" MIGRATE_ON_START=false \
    BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" ADDR="127.0.0.1:$port" LOG_LEVEL="$LOG_LEVEL" \
    REDIS_URL="$REDIS_URL" RATE_LIMIT_RPS="$RATE_LIMIT_RPS" RATE_LIMIT_BURST="$RATE_LIMIT_BURST" "${nats_env[@]}" $SERVER_ENV \
    taskset -c "${CPU[$r]}" "$BIN/taskapi" serve) > "$RUN/server-$r.log" 2>&1 &
  PID[$r]=$!
  deadline=$((SECONDS + START_TIMEOUT))
  until [ "$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "${URL[$r]}/healthz")" = 200 ]; do
    alive "${PID[$r]}" || { tail -20 "$RUN/server-$r.log" >&2; die "replica $r exited during start-up"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$RUN/server-$r.log" >&2; die "replica $r did not become healthy"; }
    sleep 0.3
  done
  log "replica $r up: pid ${PID[$r]}, ${URL[$r]}, CPU ${CPU[$r]} ($(taskset -pc "${PID[$r]}" | sed 's/.*: //'))"
}

# drain: let the replicas finish what the seed gave them (reminders due, events to publish).
drain() {
  local deadline=$((SECONDS + 180)) left
  while :; do
    left=$(psql_db -c "SELECT (SELECT count(*) FROM tasks WHERE reminder_open AND remind_at <= now()
        AND reminded_at IS DISTINCT FROM remind_at) + CASE WHEN $NATS = 1 THEN (SELECT count(*) FROM task_events WHERE NOT published) ELSE 0 END")
    [ "$left" = 0 ] && return 0
    [ $SECONDS -lt $deadline ] || die "the seed's reminders and events were not processed within 180 s ($left left)"
    sleep 1
  done
}

# cpu_snapshot -> "busy total ticksA ticksB ticksPG ticksPGB wall"
cpu_snapshot() {
  echo "$(cpu_busy_total) $(ticks_of ${PID[A]:-}) $(ticks_of ${PID[B]:-}) $(ticks_of $(tree_pids "$PG_PID")) $(ticks_of "$PGB_PID") $(date +%s.%N)"
}

# run_wrk NAME URL CONNS OUTFILE: wrk in the background (its pid in LOADERS), CPU time in OUTFILE.time.
run_wrk() {
  env SCENARIO="$SCENARIO" TOKENS_FILE="$RUN/tokens-wrk.txt" IDS_FILE="$RUN/ids.txt" \
    timeout -k 5 $((DUR_S + 60)) /usr/bin/time -f '%U %S' -o "$4.time" \
    wrk -t1 -c"$3" -d"$DURATION" --latency -s "$HERE/lua/tasks.lua" "$2" > "$4" 2>&1 &
  LOADERS+=($!)
}

wait_loaders() {
  local p rc=0
  for p in "${LOADERS[@]}"; do wait "$p" || rc=1; done
  LOADERS=()
  return $rc
}

# throughput RUN REPLICAS...: SCENARIO against each replica at once, CONNS split between them.
throughput() {
  local run=$1 r s0 s1 conns res
  shift
  conns=$((CONNS / $#))
  wait_quiet
  s0=$(cpu_snapshot)
  for r in "$@"; do run_wrk "$r" "${URL[$r]}" "$conns" "$RUN/wrk-$run-$r.txt"; done
  wait_loaders || { cat "$RUN"/wrk-"$run"-*.txt >&2; die "wrk failed ($run)"; }
  s1=$(cpu_snapshot)
  local lines=()
  for r in "$@"; do
    res=$(grep '^RESULT ' "$RUN/wrk-$run-$r.txt") || { cat "$RUN/wrk-$run-$r.txt" >&2; die "wrk gave no RESULT ($run $r)"; }
    lines+=("$r ${CPU[$r]} $conns $(tail -1 "$RUN/wrk-$run-$r.txt.time") $res")
    alive "${PID[$r]}" || die "replica $r died during $run"
  done
  # One row per replica, then (for two) their total: req/s and requests summed, the worst p99.
  ROWS+=("$(printf '%s\n' "${lines[@]}" | awk -v run="$run" -v s0="$s0" -v s1="$s1" -v tck="$CLK_TCK" -v noisy="$QUIET_MAX" '
    { for (i = 6; i <= NF; i++) { split($i, a, "="); v[NR, a[1]] = a[2] }
      name[NR] = $1; cpu[NR] = $2; conns[NR] = $3; lg[NR] = $4 + $5 }
    END {
      split(s0, x, " "); split(s1, y, " "); wall = y[7] - x[7]
      total = 100 * (y[1] - x[1]) / tck / wall; pg = 100 * (y[5] - x[5]) / tck / wall; pgb = 100 * (y[6] - x[6]) / tck / wall
      inst["A"] = 100 * (y[3] - x[3]) / tck / wall; inst["B"] = 100 * (y[4] - x[4]) / tck / wall
      for (i = 1; i <= NR; i++) {
        e = v[i, "err_connect"] + v[i, "err_read"] + v[i, "err_write"] + v[i, "err_timeout"] + v[i, "non2xx"]
        if (NR > 1) printf "| %s | %s | %s | %d | %.0f | %.2f | %.2f | %d | %d | %.0f | %.0f | | | %.0f | |\n", run, name[i], cpu[i], conns[i],
          v[i, "rps"], v[i, "p50_ms"], v[i, "p99_ms"], v[i, "requests"], e, inst[name[i]], 1e4 * inst[name[i]] / v[i, "rps"], 100 * lg[i] / wall
        rps += v[i, "rps"]; req += v[i, "requests"]; err += e; ic += inst[name[i]]; lgs += lg[i]; c += conns[i]
        if (v[i, "p99_ms"] > p99) p99 = v[i, "p99_ms"]; if (v[i, "p50_ms"] > p50) p50 = v[i, "p50_ms"]
        who = who (i > 1 ? "+" : "") name[i]
      }
      other = total - 100 * lgs / wall - pg - pgb - ic; if (other > -0.5 && other < 0.5) other = 0
      if (NR == 1) { # one replica: its row is the total
        printf "| %s | **%s** | %s | %d | **%.0f** | %.2f | %.2f | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f%s |", run, who, cpu[1], c, rps, p50, p99, req, err,
          ic, 1e4 * ic / rps, pgb, pg, 100 * lgs / wall, other, (other > noisy ? " !" : "")
        exit
      }
      printf "| %s | **%s** | | %d | **%.0f** | %.2f | %.2f | %d | %d | %.0f | %.0f | %.0f | %.0f | %.0f | %.0f%s |", run, who, c, rps, p50, p99, req, err,
        ic, 1e4 * ic / rps, pgb, pg, 100 * lgs / wall, other, (other > noisy ? " !" : "")
    }')")
  log "$run: $(printf '%s\n' "${ROWS[-1]}" | tail -1)"
}

main() {
  preflight
  trap cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM
  local started=$SECONDS
  mkdir -p "$BIN" "$RUN" "$HERE/data/results"
  rm -f "$RUN"/wrk-* "$RUN"/creates*.txt
  log "building ./cmd/taskapi and bench/benchtool into bench/.bin/"
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/taskapi" ./cmd/taskapi)
  (cd "$ROOT" && CGO_ENABLED=0 go build -trimpath -ldflags='-s -w' -o "$BIN/benchtool" ./bench/benchtool)
  PG_PID=$(postmaster_pid) || die "cannot find the PostgreSQL postmaster's pid"

  log "database $BENCH_DB: fresh, migrated, seeded with $U users x $T tasks"
  psql_admin -c "DROP DATABASE IF EXISTS $BENCH_DB WITH (FORCE)" -c "CREATE DATABASE $BENCH_DB" 2>&1 |
    grep -v 'does not exist, skipping' >&2 || true
  DB_MADE=1
  env -i PATH="$PATH" HOME="$HOME" DATABASE_URL="$DIRECT_URL" BETTER_AUTH_SECRET="$BETTER_AUTH_SECRET" LOG_LEVEL=warn \
    "$BIN/taskapi" migrate up > "$RUN/migrate.log" 2>&1 || { cat "$RUN/migrate.log" >&2; die "migrate up failed"; }
  timeout 300 psql -X -q -v ON_ERROR_STOP=1 "$DIRECT_URL" -v users="$U" -v tasks="$T" -f seed.sql > /dev/null
  "$BIN/benchtool" tokens -users $((U + CREATE_WORKERS)) -out "$RUN/tokens.txt"
  head -n "$U" "$RUN/tokens.txt" > "$RUN/tokens-wrk.txt" # users 1..U for wrk, the rest for the creates

  start_pgbouncer
  start_replica A
  "$BIN/benchtool" fetch -base "${URL[A]}" -tokens "$RUN/tokens-wrk.txt" -ids "$RUN/ids.txt"
  log "waiting for the seed's due reminders to be announced$([ "$NATS" = 1 ] && echo " and every event published")"
  drain
  if [ "$WARMUP" != 0 ]; then
    SCENARIO=list DURATION=$WARMUP run_wrk A "${URL[A]}" "$CONNS" "$RUN/warmup-A.txt"
    wait_loaders || true
  fi

  log "1/3: $SCENARIO, replica A alone ($CONNS connections, $DURATION)"
  throughput single A

  start_replica B
  if [ "$WARMUP" != 0 ]; then
    SCENARIO=list DURATION=$WARMUP run_wrk B "${URL[B]}" "$CONNS" "$RUN/warmup-B.txt"
    wait_loaders || true
  fi
  log "2/3: $SCENARIO, replicas A and B ($((CONNS / 2)) connections each, $DURATION)"
  throughput dual A B

  log "3/3: idempotent creates against A and B ($CREATE_WORKERS users, $FAILOVER_DURATION); B gets SIGTERM after ${STOP_AFTER}s"
  wait_quiet
  local fo_t0 stopped_at
  fo_t0=$(date +%s.%N)
  timeout -k 5 $((FO_S + 120)) "$BIN/benchtool" creates -targets "${URL[A]},${URL[B]}" -tokens "$RUN/tokens.txt" \
    -from "$U" -c "$CREATE_WORKERS" -duration "$FAILOVER_DURATION" -retry-timeout "$RETRY_TIMEOUT" \
    -prefix "$RUNID" -out "$RUN/creates.txt" > "$RUN/creates-summary.txt" 2> "$RUN/creates-err.txt" &
  LOADERS+=($!)
  sleep "$STOP_AFTER"
  stopped_at=$(awk -v a="$fo_t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}')
  stop_replica B
  local creates_ok=1
  wait_loaders || creates_ok=0
  cat "$RUN/creates-err.txt" >&2
  local creates_line
  creates_line=$(grep '^CREATES ' "$RUN/creates-summary.txt") || die "benchtool creates gave no summary"
  alive "${PID[A]}" || die "replica A died during the failover run"
  log "$creates_line"

  log "verifying by SQL$([ "$NATS" = 1 ] && echo " and against the NATS stream")"
  local verify_ok=1 nats_args=()
  [ "$NATS" != 1 ] || nats_args=(-nats "$NATS_URL" -stream "$STREAM")
  "$BIN/benchtool" verify-creates -db "$DIRECT_URL" -log "$RUN/creates.txt" "${nats_args[@]}" > "$RUN/verify.md" || verify_ok=0

  local warnA warnB pgb_ver
  pgb_ver=$(pgbouncer --version | head -1 | awk '{print $2}')
  stop_replica A
  warnA="$(grep -c . "$RUN/server-A.log" || true) line(s), $(grep -c 'context canceled' "$RUN/server-A.log" || true) of them \"context canceled\""
  warnB="$(grep -c . "$RUN/server-B.log" || true) line(s), $(grep -c 'context canceled' "$RUN/server-B.log" || true) of them \"context canceled\""

  {
    cat <<EOF
# replicas — $(date -u '+%Y-%m-%d %H:%M:%S UTC')

- replicas: bench/.bin/taskapi serve x 2, A pinned to CPU $CPU_A and B to CPU $CPU_B (\`taskset -c\`; so GOMAXPROCS 1 and a pool of 4 each), through one PgBouncer $pgb_ver (pool_mode = transaction, stock settings otherwise: default_pool_size 20, max_client_conn 100), DB_POOLER=transaction; REDIS_URL=$REDIS_URL RATE_LIMIT_RPS=$RATE_LIMIT_RPS RATE_LIMIT_BURST=$RATE_LIMIT_BURST (per user, shared in Redis); $([ "$NATS" = 1 ] && echo "NATS_URL=$NATS_URL, stream $STREAM (removed at the end)" || echo "no NATS"); LOG_LEVEL=$LOG_LEVEL${SERVER_ENV:+ $SERVER_ENV}; commit $(git -C "$ROOT" rev-parse --short HEAD)$(git -C "$ROOT" diff --quiet HEAD -- . ':!bench' || echo '+changes'), $(go version | cut -d' ' -f3)
- data: $BENCH_DB (fresh), $U users x $T tasks (bench/seed.sql), not reseeded between the runs (creates and updates of the first run stay)
- load: \`wrk -t1 --latency -s bench/lua/tasks.lua\`, SCENARIO=$SCENARIO$([ "$SCENARIO" = mixed ] && echo " ($MIX % list/get/create/update)"), $DURATION; \`single\`: one wrk, $CONNS connections, to A alone (B not started yet); \`dual\`: two wrk at once, $((CONNS / 2)) connections each, one per replica; $WARMUP of list per replica first
- machine: $(nproc) CPUs; PostgreSQL $(psql_admin -tAc 'SHOW server_version' | cut -d' ' -f1); $(wrk -v 2>&1 | head -1 | cut -d' ' -f1-2); wrk, PgBouncer and PostgreSQL are not pinned
- CPU% = % of one core over the run; instance µs/req = its CPU time per request; other = the rest of the machine (! = over $QUIET_MAX%: noisy); the total row's p50/p99 are the worse of the two replicas' (two wrk processes: their distributions are not merged)

| run | replica | CPU | conns | req/s | p50 ms | p99 ms | requests | errors | CPU% replica(s) | replica µs/req | CPU% pgbouncer | CPU% postgres | CPU% wrk | CPU% other |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|
EOF
    printf '%s\n' "${ROWS[@]}"
    echo
    printf '%s\n' "${ROWS[@]}" | awk -F'|' '$3 ~ /\*\*/ {gsub(/[ *]/, "", $2); gsub(/[ *]/, "", $6); r[$2] = $6}
      END { if (r["single"] > 0) printf "- scale-out: A+B together / A alone = %.0f / %.0f req/s = %.2fx\n", r["dual"], r["single"], r["dual"] / r["single"] }'
    echo "$creates_line" | awk -v stop="$stopped_at" -v stop_s="${STOP_S[B]:-?}" -v rc="${RC[B]:-?}" -v w="$CREATE_WORKERS" -v d="$FAILOVER_DURATION" '{
      for (i = 2; i <= NF; i++) { split($i, a, "="); v[a[1]] = a[2] }
      printf "- failover: %s users creating with an Idempotency-Key each, one after the other, for %s against A and B; B got SIGTERM %s s in (it stopped in %s s, exit status %s). %d keys, %d created (%.0f/s), %d gave up; %d requests: %d connection errors, %d 5xx, %d 429, %d other 4xx, %d retries on the other replica, %d answers replayed (Idempotent-Replayed); 201s by replica (A,B): %s; create p50 %.2f ms, p99 %.2f ms\n",
        w, d, stop, stop_s, rc, v["keys"], v["created"], v["rps"], v["failed"], v["requests"], v["conn_errors"], v["status_5xx"], v["status_429"], v["other_4xx"], v["failovers"], v["replayed"], v["per_target"], v["p50_ms"], v["p99_ms"] }'
    cat "$RUN/verify.md"
    echo "- replicas: A exit status after SIGTERM ${RC[A]:-?} (stopped in ${STOP_S[A]:-?} s); logs (LOG_LEVEL=$LOG_LEVEL): A: $warnA; B: $warnB (the canceled ones are requests in flight when wrk closed its connections at the end of a run; bench/data/replicas/server-*.log)"
    echo "- run took $((SECONDS - started)) s"
  } > "$OUT"
  tail -n +3 "$OUT"
  log "results: ${OUT#"$ROOT"/}"
  [ "$creates_ok" = 1 ] || die "benchtool creates failed (see the failover line)"
  [ "$verify_ok" = 1 ] || die "verification failed: something was lost or duplicated (see above)"
  local errs
  errs=$(printf '%s\n' "${ROWS[@]}" | awk -F'|' '$3 ~ /\*\*/ {s += $10} END{print s+0}')
  [ "$errs" = 0 ] || die "$errs request(s) of the throughput runs were not 2xx or failed"
}

main
