# shellcheck shell=bash disable=SC2046,SC2034
# Helpers for run.sh (sourced, not run): logging, /proc accounting (CPU, RSS), the idle-machine
# check and the results table. Adapted from the shared wrk/pgbench harness.

CLK_TCK=$(getconf CLK_TCK)

log() { echo "bench: $*" >&2; }
die() { echo "bench: error: $*" >&2; exit 1; }

# seconds DURATION: "10s", "2m", "90" -> whole seconds (wrk accepts the same forms).
seconds() {
  case "$1" in
  *m) echo $(( ${1%m} * 60 )) ;;
  *s) echo "${1%s}" ;;
  *) echo "$1" ;;
  esac
}

# Whole machine: "busy total" clock ticks over all CPUs.
cpu_busy_total() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; print b, b+$5+$6}' /proc/stat; }

# utime+stime+cutime+cstime of the given pids (fields 14..17 of /proc/PID/stat, 12..15 after
# the command's closing parenthesis). cutime/cstime hold children that exited and were reaped,
# e.g. PostgreSQL backends of connections that closed during the run.
ticks_of() {
  [ $# -gt 0 ] || { echo 0; return; }
  local p
  for p in "$@"; do cat "/proc/$p/stat" 2>/dev/null || true; done |
    sed 's/.*) //' | awk '{s+=$12+$13+$14+$15} END{print s+0}'
}

# tree_pids PID: PID and all its descendants.
tree_pids() {
  ps -e -o pid=,ppid= | awk -v r="$1" '{par[$1]=$2}
    END{for (p in par) {q=p; n=0; while (q != "" && q > 1 && n++ < 64) {if (q == r) {print p; break}; q=par[q]}}}'
}

# The postmaster of the cluster at 127.0.0.1:5432 (not the private clusters tests may start).
postmaster_pid() {
  local dir
  dir=$(psql_admin -tAc 'SHOW data_directory') || return 1
  head -1 "$dir/postmaster.pid"
}

# snapshot -> "busy total pg_ticks server_ticks wall_s"
# pg = the cluster's postmaster and its backends; server = SERVER_PID's process tree.
snapshot() {
  local server=0
  [ -z "${SERVER_PID:-}" ] || server=$(ticks_of $(tree_pids "$SERVER_PID"))
  echo "$(cpu_busy_total) $(ticks_of $(tree_pids "$PG_PID")) $server $(date +%s.%N)"
}

# kib_of FIELD: FIELD (VmRSS, VmHWM) of /proc/PID/status summed over SERVER_PID's tree, in KiB.
kib_of() {
  local p
  for p in $(tree_pids "$SERVER_PID"); do cat "/proc/$p/status" 2>/dev/null || true; done |
    awk -v f="$1:" '$1 == f {s += $2} END{print s+0}'
}
mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }

# wait_quiet: wait, at most QUIET_WAIT seconds, until the whole machine used less than QUIET_MAX %
# of one core over 2 s. Other sessions may share the machine; their CPU would skew the numbers.
wait_quiet() {
  local deadline=$((SECONDS + QUIET_WAIT)) a b busy warned=
  while :; do
    a=$(cpu_busy_total); sleep 2; b=$(cpu_busy_total)
    busy=$(awk -v a="$a" -v b="$b" -v t="$CLK_TCK" 'BEGIN{split(a,x," "); split(b,y," "); printf "%d", 100*(y[1]-x[1])/t/2}')
    [ "$busy" -lt "$QUIET_MAX" ] && return 0
    if [ $SECONDS -ge $deadline ]; then
      log "machine still busy (${busy}% of a core) after ${QUIET_WAIT}s; measuring anyway"
      return 0
    fi
    [ -n "$warned" ] || { log "machine busy (${busy}% of a core; another session?), waiting up to ${QUIET_WAIT}s"; warned=1; }
  done
}

TABLE_HDR='| target | scenario | pass | req/s | p50 ms | p99 ms | requests | errors | CPU% server | server µs/req | CPU% postgres | CPU% loadgen | CPU% other | peak RSS MiB |
|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|'

# fmt_row LABEL SCENARIO PASS "RESULT ..." "snapshot before" "snapshot after" "loadgen_user_s loadgen_sys_s" RSS_MIB
# -> one table row. CPU% = percent of one core over the run (2 cores = 200%). other = machine
# total - loadgen - postgres - server, i.e. anything else running; over QUIET_MAX it is marked "!".
# server µs/req = the server's CPU time per request (CPU% server / req/s), which noise moves less.
fmt_row() {
  awk -v label="$1" -v sc="$2" -v pass="$3" -v res="$4" -v s0="$5" -v s1="$6" -v lg="$7" -v rss="$8" \
      -v tck="$CLK_TCK" -v noisy="$QUIET_MAX" 'BEGIN{
    n=split(res, kv, " "); for (i=2;i<=n;i++){split(kv[i], a, "="); r[a[1]]=a[2]}
    split(s0, x, " "); split(s1, y, " "); split(lg, w, " ")
    wall=y[5]-x[5]
    total=100*(y[1]-x[1])/tck/wall
    loadgen=100*(w[1]+w[2])/wall
    pg=100*(y[3]-x[3])/tck/wall
    sv=100*(y[4]-x[4])/tck/wall
    other=total-loadgen-pg-sv; if (other > -0.5 && other < 0.5) other=0
    errs=r["err_connect"]+r["err_read"]+r["err_write"]+r["err_timeout"]+r["non2xx"]
    printf "| %s | %s | %d | %.0f | %.2f | %.2f | %d | %d | %s | %s | %.0f | %.0f | %.0f%s | %s |\n",
      label, sc, pass, r["rps"], r["p50_ms"], r["p99_ms"], r["requests"], errs,
      (rss == "-" ? "-" : sprintf("%.0f", sv)), (rss == "-" || r["rps"] == 0 ? "-" : sprintf("%.0f", 1e4*sv/r["rps"])),
      pg, loadgen, other, (other > noisy ? " !" : ""), rss
  }'
}

is_noisy() { case "$1" in *" ! |"*) return 0 ;; *) return 1 ;; esac; }
row_field() { echo "$1" | awk -F'|' -v i="$2" '{gsub(/^ +| +$/, "", $(i+1)); print $(i+1)}'; }

# summarize < rows -> per target+scenario: runs, mean req/s, min..max, median p50, worst p99, errors
summarize() {
  echo "| target | scenario | runs | req/s mean | req/s min..max | p50 ms (median) | p99 ms (worst) | errors | noisy runs |"
  echo "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  awk -F'|' '{
      for (i=2;i<=15;i++) gsub(/^ +| +$/, "", $i)
      k=$2 "|" $3; if (!(k in n)) order[++m]=k
      n[k]++; s[k]+=$5; if (!(k in mn) || $5+0<mn[k]) mn[k]=$5+0; if ($5+0>mx[k]) mx[k]=$5+0
      p50[k]=p50[k] " " $6; if ($7+0>p99[k]) p99[k]=$7+0; e[k]+=$9; if ($14 ~ /!/) z[k]++ }
    END{ for (i=1;i<=m;i++){k=order[i]; split(k, kk, "|"); c=split(p50[k], v, " ")
      for (a=2;a<=c;a++){t=v[a]+0; b=a-1; while (b>0 && v[b]+0>t){v[b+1]=v[b]; b--}; v[b+1]=t}
      med=(c%2)? v[(c+1)/2] : (v[c/2]+v[c/2+1])/2
      printf "| %s | %s | %d | %.0f | %.0f..%.0f | %.2f | %.2f | %d | %d |\n", kk[1], kk[2], n[k], s[k]/n[k], mn[k], mx[k], med, p99[k], e[k], z[k]+0} }'
}

# --- for replicas.sh (run.sh has its own alive) -----------------------------------------------

# alive PID: running and not a zombie.
alive() {
  local s
  s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || true
  [ -n "$s" ] && [ "$s" != Z ]
}

# free_port FROM: the first TCP port from FROM up on 127.0.0.1 that nothing listens on.
free_port() {
  local p=$1
  while (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; do p=$((p + 1)); done
  echo "$p"
}
