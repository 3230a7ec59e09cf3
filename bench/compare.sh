#!/usr/bin/env bash
# Side by side, in alternating rounds: taskapi (run.sh) and the FastAPI peer (fastapi.sh), each
# run in full (its own database, seed, scenarios, ceiling), ROUNDS times, in ABBA order (go then
# fastapi, then fastapi then go, ...). This machine's speed drifts by tens of percent between
# minutes, so a ratio of two runs made a whole benchmark apart can say more about the minute
# than about the servers; here each ratio compares the two runs of one round, and the summary
# gives the median of the rounds' ratios (and their range) against the issue's targets.
#
#   bench/compare.sh          (go tool task bench:compare)
#
# Knobs: ROUNDS (3), and those of run.sh (DURATION, CONNS, ...), passed on to every run; the
# scenarios are each target's defaults. Writes bench/data/results/compare-<timestamp>.md.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROUNDS=${ROUNDS:-3}
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || { echo "compare: ROUNDS must be a positive integer" >&2; exit 2; }
unset SCENARIOS REPEAT LABEL TARGET
OUT=$HERE/data/results/compare-$(date -u +%Y%m%dT%H%M%S).md
mkdir -p "$HERE/data/results"

# run TARGET ROUND: one full benchmark; prints its results file.
run() {
  local log file
  log=$(mktemp)
  echo "compare: round $2: $1" >&2
  if ! TARGET=$1 LABEL="$1-round$2" bash "$HERE/run.sh" > "$log" 2>&1; then
    cat "$log" >&2
    echo "compare: the $1 run of round $2 failed" >&2
    exit 1
  fi
  file=$(sed -n 's/^bench: results: //p' "$log" | tail -1)
  rm -f "$log"
  echo "$HERE/../$file"
}

GO_FILES=() FASTAPI_FILES=()
for round in $(seq 1 "$ROUNDS"); do
  if [ $((round % 2)) = 1 ]; then
    GO_FILES+=("$(run go "$round")")
    FASTAPI_FILES+=("$(run fastapi "$round")")
  else
    FASTAPI_FILES+=("$(run fastapi "$round")")
    GO_FILES+=("$(run go "$round")")
  fi
done

# rows TARGET FILE...: "round target scenario req/s p50 p99 errors peakRSS" from the results
# tables (their first column is the run's label).
rows() {
  local target=$1 round=0 f
  shift
  for f in "$@"; do
    round=$((round + 1))
    awk -F'|' -v r="$round" -v t="$target" 'NF > 14 && $4 ~ /^ *[0-9]+ *$/ {
        for (i = 2; i <= 15; i++) gsub(/ /, "", $i)
        print r, t, $3, $5, $6, $7, $9, $15 }' "$f"
  done
}

{
  echo "# taskapi vs the FastAPI design, $ROUNDS alternating round(s) — $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
  echo
  echo "Each round runs both benchmarks in full, one right after the other (ABBA order); the"
  echo "ratio is taskapi's req/s over FastAPI's in the same round. Runs:"
  for i in "${!GO_FILES[@]}"; do
    echo "- round $((i + 1)): $(basename "${GO_FILES[$i]}"), $(basename "${FASTAPI_FILES[$i]}")"
  done
  echo
  { rows go "${GO_FILES[@]}"; rows fastapi "${FASTAPI_FILES[@]}"; } | awk -v rounds="$ROUNDS" '
    BEGIN { target["list"] = 25; target["get"] = 25; target["create"] = 15; target["update"] = 15; target["mixed"] = 15
            n = split("list list-filtered get create update mixed", order, " ") }
    function median(a, k,    i, j, t) {
      for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
      return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2 }
    { rps[$2, $3, $1] = $4; p99[$2, $3, $1] = $6; errors += $7; if ($3 !~ /:/ && $8 + 0 > peak[$2]) peak[$2] = $8 + 0 }
    END {
      print "| scenario | round | FastAPI req/s | taskapi req/s | ratio | taskapi p99 ms |"
      print "|---|---:|---:|---:|---:|---:|"
      for (s = 1; s <= n; s++) for (r = 1; r <= rounds; r++) {
        sc = order[s]
        if (!(("go", sc, r) in rps)) continue
        fa = (("fastapi", sc, r) in rps) ? rps["fastapi", sc, r] : ""
        ratio = (fa != "" && fa > 0) ? sprintf("%.1fx", rps["go", sc, r] / fa) : "—"
        printf "| %s | %d | %s | %s | %s | %s |\n", sc, r, (fa == "" ? "—" : fa), rps["go", sc, r], ratio, p99["go", sc, r]
      }
      print ""
      print "| scenario | median ratio | min..max | target | taskapi worst p99 ms |"
      print "|---|---:|---:|---|---:|"
      for (s = 1; s <= n; s++) {
        sc = order[s]; k = 0; lo = ""; hi = ""; worst = 0
        for (r = 1; r <= rounds; r++) {
          if ((("go", sc, r) in p99) && (p99["go", sc, r] + 0 > worst)) worst = p99["go", sc, r] + 0
          if (!((("go", sc, r) in rps) && (("fastapi", sc, r) in rps)) || rps["fastapi", sc, r] <= 0) continue
          x = rps["go", sc, r] / rps["fastapi", sc, r]; v[++k] = x
          if (lo == "" || x < lo) lo = x; if (hi == "" || x > hi) hi = x
        }
        if (!worst) continue
        if (k == 0) { printf "| %s | — | — | | %.2f |\n", sc, worst; continue }
        m = median(v, k)
        verdict = (sc in target) ? sprintf("%dx: %s", target[sc], m >= target[sc] ? "met" : "**not met**") : ""
        printf "| %s | %.1fx | %.1fx..%.1fx | %s | %.2f |\n", sc, m, lo, hi, verdict, worst
      }
      print ""
      printf "- errors in all runs: %d; peak RSS: taskapi %s MiB, FastAPI %s MiB\n", errors, peak["go"], peak["fastapi"]
    }'
  for i in "${!GO_FILES[@]}"; do
    sed -n "s/^- API \(list[a-z-]*\) \/ database ceiling: /- round $((i + 1)), taskapi \1 \/ database ceiling: /p" "${GO_FILES[$i]}"
    sed -n "s/^- API list \/ stack floor /- round $((i + 1)), taskapi list \/ stack floor /p" "${GO_FILES[$i]}"
  done
} > "$OUT"
cat "$OUT"
echo "compare: results: ${OUT#"$HERE"/../}"
