#!/usr/bin/env bash
# The same benchmark against the FastAPI seed peer (the original design), for a side-by-side
# comparison: copies /work/shared/peers/fastapi-seed (PEER_DIR) to a temp dir, installs its Debian
# packages when missing, starts it (uvicorn, PEER_WORKERS=2, asyncio + h11) on its own database
# taskapi_bench_fastapi, and runs list get create update mixed (it has no sort or cursor, so no
# list-filtered) plus the pgbench ceiling of its own list SQL. Same knobs as run.sh.
#
#   bench/fastapi.sh [scenario ...]
set -euo pipefail
TARGET=fastapi exec "$(dirname "$0")/run.sh" "$@"
