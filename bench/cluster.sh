#!/usr/bin/env bash
# A PostgreSQL cluster of the bench's own, configured for the data sizes of the growth mode
# instead of the machine's stock one (128 MB of shared buffers, 1 GB of WAL between
# checkpoints): made with Debian's initdb, run as the postgres user, kept between runs.
#
#   bench/cluster.sh start     (go tool task bench:cluster -- start)   prints its PG_SERVER
#   bench/cluster.sh stop | status | url
#
#   PG_SERVER=$(bench/cluster.sh url) go tool task bench:growth
#
# Knobs: CLUSTER_DIR (/var/tmp/taskapi-bench-pg), CLUSTER_PORT (5433), and the settings
# written at initdb (change them with stop, remove CLUSTER_DIR, start):
#   CLUSTER_SHARED_BUFFERS (6GB: a quarter of this machine's memory, PostgreSQL's advice for a
#   dedicated server), CLUSTER_MAX_WAL_SIZE (8GB), CLUSTER_MAX_CONNECTIONS (200).
# Everything else is initdb's default, except what this machine's stock cluster sets too:
# autovacuum off (the bench vacuums before each pass; a worker waking mid-run on the small sizes
# would slow them alone) and TLS on (the server connects with sslmode=prefer).
set -euo pipefail
DIR=${CLUSTER_DIR:-/var/tmp/taskapi-bench-pg}
PORT=${CLUSTER_PORT:-5433}
URL="postgres://postgres@127.0.0.1:$PORT"

die() { echo "cluster: $*" >&2; exit 1; }
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || die "no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

case "${1:-}" in
start)
  if [ ! -f "$DIR/PG_VERSION" ]; then
    mkdir -p "$DIR"
    [ "$(id -u)" != 0 ] || chown postgres: "$DIR"
    as_postgres "$bin/initdb" -D "$DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$DIR/postgresql.conf" <<EOF
# bench/cluster.sh
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$DIR'
shared_buffers = ${CLUSTER_SHARED_BUFFERS:-6GB}
max_wal_size = ${CLUSTER_MAX_WAL_SIZE:-8GB}
max_connections = ${CLUSTER_MAX_CONNECTIONS:-200}
autovacuum = off
EOF
    if [ -r /etc/ssl/private/ssl-cert-snakeoil.key ]; then
      install -m 600 /etc/ssl/private/ssl-cert-snakeoil.key "$DIR/server.key"
      install -m 644 /etc/ssl/certs/ssl-cert-snakeoil.pem "$DIR/server.crt"
      [ "$(id -u)" != 0 ] || chown postgres: "$DIR/server.key" "$DIR/server.crt"
      echo "ssl = on" >> "$DIR/postgresql.conf"
    fi
  fi
  as_postgres "$bin/pg_ctl" -D "$DIR" status >/dev/null 2>&1 ||
    as_postgres "$bin/pg_ctl" -D "$DIR" -l "$DIR/server.log" -w start >/dev/null
  echo "$URL"
  ;;
stop) as_postgres "$bin/pg_ctl" -D "$DIR" -m fast stop ;;
status) as_postgres "$bin/pg_ctl" -D "$DIR" status ;;
url) echo "$URL" ;;
*) die "usage: $0 start | stop | status | url" ;;
esac
