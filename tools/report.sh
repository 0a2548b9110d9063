#!/usr/bin/env bash
# make report: eight weeks of history (tools/report_history.sql) and the
# demo story (tools/demo.sql) on a throwaway cluster, then the dashboard
# drawn from the views for BI tools (tools/report.py) into doc/dashboard.png.
source "$(dirname "$0")/common.sh"
ensure_deps
/usr/bin/python3 -c 'import matplotlib' 2>/dev/null || apt_install python3-matplotlib
build_install
start_cluster
psql -X -q -v ON_ERROR_STOP=1 -f "$ROOT/tools/report_history.sql" >/dev/null
psql -X -q -f "$ROOT/tools/demo.sql" >/dev/null 2>&1
/usr/bin/python3 "$ROOT/tools/report.py" "${REPORT:-$ROOT/doc/dashboard.png}"
