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
# GROWTH_MAINT_MEM (512MB: maintenance_work_mem of the index builds), FLOOR (0 here), and those
# of run.sh (DURATION, CONNS, REPEAT, CEILING, ...), passed on to every size's run.
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

FILES=() started=$SECONDS
for s in "${SIZES[@]}"; do
  log=$(mktemp)
  echo "growth: $s: bench/run.sh on ${PREFIX}_$s (log: $log)" >&2
  # shellcheck disable=SC2086
  if ! KEEP_DB=1 U=${s%x*} T=${s#*x} BENCH_DB=${PREFIX}_$s LABEL=growth-$s SCENARIOS="$SCENARIO_LIST" \
    bash "$HERE/run.sh" 2>&1 | tee "$log" | grep --line-buffered -E '^bench: (seed|taskapi_growth|error|results|pass [0-9]+: [^ ]+ \()' >&2; then
    :
  fi
  file=$(sed -n 's/^bench: results: //p' "$log" | tail -1)
  [ -n "$file" ] || { tail -30 "$log" >&2; fail "the run of size $s failed (log: $log)"; }
  rm -f "$log"
  FILES+=("$ROOT/$file")
done

# rows SIZE FILE: "size scenario pass req/s p99 errors noisy" from a run's table.
rows() {
  awk -F'|' -v size="$1" 'NF > 14 && $4 ~ /^ *[0-9]+ *$/ {
      for (i = 2; i <= 15; i++) gsub(/^ +| +$/, "", $i)
      print size, $3, $4, $5, $7, $9, ($14 ~ /!/ ? 1 : 0) }' "$2"
}

{
  echo "# taskapi growth — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "The same scenarios at each data size (users x tasks per user), one size after the other, each on a"
  echo "database of its own; cell = the mean over passes (req/s) or the worst pass (p99), and in brackets"
  echo "the ratio to the smallest size (req/s: below 1 = slower; p99: above 1 = slower). \`!\` = a noisy run."
  echo "Runs (their headers tell the server, load and machine):"
  for i in "${!SIZES[@]}"; do
    echo "- ${SIZES[$i]}: $(basename "${FILES[$i]}"): $(sed -n 's/^- data: //p' "${FILES[$i]}" | head -1)"
  done
  echo
  for i in "${!SIZES[@]}"; do rows "${SIZES[$i]}" "${FILES[$i]}"; done | awk -v sizes="${SIZES[*]}" '
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
  echo "### Database size"
  echo
  echo "After each size's seed or clean-up, before its run: pg_database_size, pg_total_relation_size of"
  echo "tasks (table, TOAST and indexes) and of task_events; MiB per million tasks = tasks' size / rows."
  echo
  echo "| size | tasks | events | database MiB | tasks MiB | MiB per million tasks | task_events MiB |"
  echo "|---|---:|---:|---:|---:|---:|---:|"
  for i in "${!SIZES[@]}"; do
    sed -n 's/^<!-- growth-sizes \(.*\) -->$/\1/p' "${FILES[$i]}" | tail -1 | awk -v s="${SIZES[$i]}" '
      { printf "| %s | %d | %d | %.0f | %.0f | %.0f | %.0f |\n", s, $4, $5, $1/1048576, $2/1048576, ($4 ? $2/1048576/($4/1e6) : 0), $3/1048576 }'
  done
  echo
  for i in "${!SIZES[@]}"; do
    grep -h -E '^- (API list|create / create-no-outbox|mixed-sse / mixed|complete-recurring / update|mcp-list / list|reminders / list)' "${FILES[$i]}" |
      sed "s/^- /- ${SIZES[$i]}: /" || true
  done
  echo "- growth run took $((SECONDS - started)) s"
} > "$OUT"
cat "$OUT"
echo "growth: results: ${OUT#"$ROOT"/}"
