#!/usr/bin/env bash
# make test-citus: builds and installs workitem into $PG_CONFIG's install,
# then test/citus.sh (which builds Citus there from ../shared/vendor when
# it is missing, and runs a coordinator and two workers on loopback).
source "$(dirname "$0")/common.sh"
build_install
export PGBIN ROOT PG_CONFIG
exec "$ROOT/test/citus.sh"
