# Shared by bench/attach.sh (tps) and bench/attach_cost.sh (instructions):
# the variants of the attached-trigger benchmark on table tickets, and the
# status update every run makes. Sourced, not run: make bench runs
# bench/*.sh only.

# The SQL that puts variant $1 on tickets; the c_on_* diagnostics of
# attach_cost.sh attach like c_on and change the log instead.
variant_sql() {
    case $1 in
        bare) ;;
        c_off) echo "SELECT workitem.attach('tickets', log_events => false);" ;;
        c_on*) echo "SELECT workitem.attach('tickets', log_events => true);" ;;
        plpgsql) echo "CREATE TRIGGER plpgsql_enforce BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION plpgsql_enforce();" ;;
    esac
}

variant_name() {
    case $1 in
        bare) echo "bare UPDATE (no trigger)" ;;
        c_off) echo "attach(), log_events => false" ;;
        c_on) echo "attach(), log_events => true" ;;
        plpgsql) echo "PL/pgSQL trigger + event row" ;;
        c_on_rowidx) echo "  diagnostic: events on, log with its row index only" ;;
        c_on_noidx) echo "  diagnostic: events on, log with no index" ;;
    esac
}

# A valid move of row $1 (to_do <-> in_progress), whatever its status.
status_update() {
    echo "UPDATE tickets SET status = CASE status WHEN 'to_do' THEN 'in_progress' ELSE 'to_do' END WHERE id = $1;"
}
