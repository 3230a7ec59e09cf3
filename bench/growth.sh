#!/usr/bin/env bash
# Growth mode: the benchmark's scenarios at several data sizes, side by side. For each size
# UxT (U users x T tasks each) run.sh runs in full on a database of its own that is kept
# (taskapi_growth_UxT, KEEP_DB=1): seeded with bench/seed-growth.sql (indexes built after the
# load) the first time, and used again while its schema version and row count match (see
# growth_seed in run.sh). Then one report: req/s and p99 per scenario and size, each size's
# ratio to the smallest, and each size's database size.
#
#   bench/growth.sh [scenario ...]          (go tool task bench:growth)
#
# Knobs: GROWTH_SIZES ("1000x100 1000x1000 1000x10000 100000x100"), GROWTH_DB_PREFIX
# (taskapi_growth), SCENARIOS (default below: run.sh's go defaults, every sort order, q, tag,
# due-date filters and the change feed), EVENTS (10 change-feed events seeded per user),
# GROWTH_MAX_DRIFT (1: % of rows earlier runs may have changed before a database is reseeded),
# GROWTH_MAINT_MEM (512MB: maintenance_work_mem of the index builds), GROWTH_ROUNDS (1: rounds of
# all sizes, every other one in reverse order, so that the machine's drift between minutes falls
# on every size alike), FLOOR (0 here), and those of run.sh (DURATION, CONNS, REPEAT, CEILING,
# WARM_CACHE, ...), passed on to every size's run.
# Writes bench/data/results/growth-<timestamp>.md (and each size's own run file beside it).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
read -r -a SIZES <<< "${GROWTH_SIZES:-1000x100 1000x1000 1000x10000 100000x100}"
PREFIX=${GROWTH_DB_PREFIX:-taskapi_growth}
DEFAULT_SCENARIOS="list mcp-list list-filtered get
  list-sort:title list-sort:-title list-sort:priority list-sort:-priority list-sort:updated_at list-sort:-updated_at
  list-sort:due_date list-sort:-due_date list-sort:created_at list-q list-tag list-due changes
  create create-no-outbox update mixed mixed-sse reminders complete-recurring"
SCENARIO_LIST="${*:-${SCENARIOS:-$DEFAULT_SCENARIOS}}"
SCENARIO_LIST=${SCENARIO_LIST//$'\n'/ } # run.sh reads one line
export FLOOR=${FLOOR:-0}
unset LABEL TARGET U T BENCH_DB
STAMP=$(date -u +%Y%m%dT%H%M%S)
OUT=$HERE/data/results/growth-$STAMP.md
mkdir -p "$HERE/data/results"

fail() { echo "growth: $*" >&2; exit 1; }
[ ${#SIZES[@]} -gt 0 ] || fail "GROWTH_SIZES is empty"
for s in "${SIZES[@]}"; do
  [[ "$s" =~ ^[1-9][0-9]*x[1-9][0-9]*$ ]] || fail "GROWTH_SIZES: $s is not USERSxTASKS (e.g. 1000x100)"
  [ "${s%x*}" -ge "${SSE_USERS:-200}" ] || [[ " $SCENARIO_LIST " != *" mixed-sse "* ]] ||
    fail "GROWTH_SIZES: $s has fewer users than mixed-sse streams for (SSE_USERS=${SSE_USERS:-200})"
done

ROUNDS=${GROWTH_ROUNDS:-1}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || fail "GROWTH_ROUNDS must be a positive number, not $ROUNDS"

# FILES[i]: the run files of size i, one per round, space-separated (no spaces in their paths).
FILES=() started=$SECONDS
for round in $(seq 1 "$ROUNDS"); do
  order=$(seq 0 $((${#SIZES[@]} - 1)))
  [ $((round % 2)) = 1 ] || order=$(seq $((${#SIZES[@]} - 1)) -1 0)
  for i in $order; do
    s=${SIZES[$i]}
    log=$(mktemp)
    echo "growth: round $round of $ROUNDS, $s: bench/run.sh on ${PREFIX}_$s (log: $log)" >&2
    # shellcheck disable=SC2086
    if ! KEEP_DB=1 U=${s%x*} T=${s#*x} BENCH_DB=${PREFIX}_$s LABEL=growth-$s SCENARIOS="$SCENARIO_LIST" \
      bash "$HERE/run.sh" 2>&1 | tee "$log" | grep --line-buffered -E '^bench: (seed|taskapi_growth|error|results|page cache|pass [0-9]+: [^ ]+ \()' >&2; then
      :
    fi
    file=$(sed -n 's/^bench: results: //p' "$log" | tail -1)
    [ -n "$file" ] || { tail -30 "$log" >&2; fail "the run of size $s failed (log: $log)"; }
    rm -f "$log"
    FILES[i]="${FILES[i]:+${FILES[i]} }$ROOT/$file"
  done
done
# last FILES_OF_SIZE: the newest run file of a size
last() { local f; for f in $1; do :; done; echo "$f"; }

# rows SIZE FILE: "size scenario pass req/s p99 errors noisy" from a run's table.
rows() {
  awk -F'|' -v size="$1" 'NF > 14 && $4 ~ /^ *[0-9]+ *$/ {
      for (i = 2; i <= 15; i++) gsub(/^ +| +$/, "", $i)
      print size, $3, $4, $5, $7, $9, ($14 ~ /!/ ? 1 : 0) }' "$2"
}

# latency_rows SIZE FILE: "size scenario within20 p99ms" from a run's server-side latency table
# (within20: the share of requests answered within 20 ms, in %; p99ms: the upper bound, in ms,
# of the histogram bucket holding the 99th percentile; 1e9 when it lies above the last bucket).
latency_rows() {
  awk -F'|' -v size="$1" 'NF == 8 && $5 ~ /^ *[0-9]+ *$/ {
      for (i = 2; i <= 7; i++) gsub(/^ +| +$/, "", $i)
      w = $6; sub(/%$/, "", w); p = $7; sub(/^<= /, "", p); sub(/ ms$/, "", p); if (p ~ /over/) p = 1e9
      if (w ~ /^[0-9.]+$/) print size, $3, w, p }' "$2"
}

{
  echo "# taskapi growth — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "The same scenarios at each data size (users x tasks per user), the sizes one after the other, each on a"
  echo "database of its own; cell = the mean over passes and rounds (req/s) or the worst of them (p99), and in brackets"
  echo "the ratio to the smallest size (req/s: below 1 = slower; p99: above 1 = slower). \`!\` = a noisy run."
  echo "Runs ($ROUNDS round(s) of every size, every other round in reverse order; their headers tell the server, load and machine):"
  for i in "${!SIZES[@]}"; do
    for f in ${FILES[$i]}; do
      echo "- ${SIZES[$i]}: $(basename "$f"): $(sed -n 's/^- data: //p' "$f" | head -1); page cache: $(sed -n 's/^- page cache: //p' "$f" | head -1)"
    done
  done
  echo
  for i in "${!SIZES[@]}"; do for f in ${FILES[$i]}; do rows "${SIZES[$i]}" "$f"; done; done | awk -v sizes="${SIZES[*]}" '
    BEGIN { ns = split(sizes, size, " "); base = 1
            for (i = 1; i <= ns; i++) { split(size[i], ut, "x"); n[i] = ut[1] * ut[2]; if (n[i] < n[base]) base = i } }
    { k = $1 SUBSEP $2; if (!(($2) in seen)) { seen[$2] = 1; order[++m] = $2 }
      rps[k] += $4; runs[k]++; if ($5 + 0 > p99[k]) p99[k] = $5 + 0; err[k] += $6; noisy[k] += $7; errors += $6 }
    # cell: the value, ! when a run was noisy, its errors, and its ratio to the base size (bv)
    function cell(v, bv, fmt, k, isbase,    s) {
      if (!(k in runs)) return "—"
      s = sprintf(fmt, v) (noisy[k] ? " !" : "") (err[k] ? " (" err[k] " errors)" : "")
      if (!isbase && bv > 0) s = s sprintf(" (%.2fx)", v / bv)
      return s }
    function table(title, what,    i, j, sc, k, b, bv, v, hdr, sep, line) {
      print "### " title; print ""
      hdr = "| scenario |"; sep = "|---|"
      for (j = 1; j <= ns; j++) { hdr = hdr " " size[j] (j == base ? " (base)" : "") " |"; sep = sep "---:|" }
      print hdr; print sep
      for (i = 1; i <= m; i++) {
        sc = order[i]; line = "| " sc " |"; b = size[base] SUBSEP sc
        bv = !(b in runs) ? 0 : (what == "rps") ? rps[b] / runs[b] : p99[b]
        for (j = 1; j <= ns; j++) {
          k = size[j] SUBSEP sc
          v = (k in runs) ? ((what == "rps") ? rps[k] / runs[k] : p99[k]) : 0
          line = line " " cell(v, bv, (what == "rps") ? "%.0f" : "%.2f", k, j == base) " |"
        }
        print line
      }
      print "" }
    END { table("Throughput, req/s (ratio to the smallest size)", "rps")
          table("p99 latency, ms (ratio to the smallest size)", "p99")
          printf "- errors in all runs: %d\n\n", errors }'
  echo "### Server-side latency: share of requests answered within 20 ms, and the bucket holding p99"
  echo
  echo "From each run's server-side table (the server's own duration histogram, every request; wrk's p99"
  echo "above over-weights slow requests): the lowest share and the highest p99 bucket over the passes and rounds."
  echo
  for i in "${!SIZES[@]}"; do for f in ${FILES[$i]}; do latency_rows "${SIZES[$i]}" "$f"; done; done | awk -v sizes="${SIZES[*]}" '
    BEGIN { ns = split(sizes, size, " ") }
    { k = $1 SUBSEP $2; if (!(($2) in seen)) { seen[$2] = 1; order[++m] = $2 }
      if (!(k in w) || $3 + 0 < w[k]) w[k] = $3 + 0
      if (!(k in p) || $4 + 0 > p[k]) p[k] = $4 + 0 }
    END { if (!m) { print "(no server-side latency in these runs)"; exit }
          hdr = "| scenario |"; sep = "|---|"
          for (j = 1; j <= ns; j++) { hdr = hdr " " size[j] " |"; sep = sep "---:|" }
          print hdr; print sep
          for (i = 1; i <= m; i++) {
            line = "| " order[i] " |"
            for (j = 1; j <= ns; j++) {
              k = size[j] SUBSEP order[i]
              line = line " " ((k in w) ? sprintf("%.2f%%, p99 %s", w[k], (p[k] >= 1e9 ? "over 10 s" : "<= " p[k] " ms")) : "—") " |"
            }
            print line
          } }'
  echo
  echo "### Database size"
  echo
  echo "After each size's seed or clean-up, before its run: pg_database_size, pg_total_relation_size of"
  echo "tasks (table, TOAST and indexes) and of task_events; MiB per million tasks = tasks' size / rows."
  echo
  echo "| size | tasks | events | database MiB | tasks MiB | MiB per million tasks | task_events MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for i in "${!SIZES[@]}"; do
    sed -n 's/^<!-- growth-sizes \(.*\) -->$/\1/p' "$(last "${FILES[$i]}")" | tail -1 | awk -v s="${SIZES[$i]}" '
      { printf "| %s | %d | %d | %.0f | %.0f | %.0f | %.0f |\n", s, $4, $5, $1/1048576, $2/1048576, ($4 ? $2/1048576/($4/1e6) : 0), $3/1048576 }'
  done
  echo
  for i in "${!SIZES[@]}"; do
    # shellcheck disable=SC2086
    grep -h -E '^- (API list|create / create-no-outbox|mixed-sse / mixed|complete-recurring / update|mcp-list / list|reminders / list)' ${FILES[$i]} |
      sed "s/^- /- ${SIZES[$i]}: /" || true
  done
  echo "- growth run took $((SECONDS - started)) s"
} > "$OUT"
cat "$OUT"
echo "growth: results: ${OUT#"$ROOT"/}"
