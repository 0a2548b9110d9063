#!/usr/bin/env bash
# make demo: set up, then tell one ticket's story against a throwaway cluster.
source "$(dirname "$0")/common.sh"
ensure_deps
build_install
start_cluster
psql -X -v ON_ERROR_STOP=1 -f "$ROOT/tools/demo.sql"
