#!/usr/bin/env bash
# make bench: the benchmarks in bench/, against a throwaway cluster.
source "$(dirname "$0")/common.sh"
shopt -s nullglob
scripts=("$ROOT"/bench/*.sh)
if [ ${#scripts[@]} -eq 0 ]; then echo "no benchmarks yet"; exit 0; fi
ensure_deps
build_install
start_cluster
for s in "${scripts[@]}"; do echo "== $(basename "$s")"; "$s"; done
