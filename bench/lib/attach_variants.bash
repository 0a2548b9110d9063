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
        # events on, and a row filter: evaluated for the old and the new row of each UPDATE
        c_filter) echo "SELECT workitem.attach('tickets', log_events => true, filter => 'note IS NOT NULL');" ;;
        plpgsql) echo "CREATE TRIGGER plpgsql_enforce BEFORE UPDATE ON tickets FOR EACH ROW EXECUTE FUNCTION plpgsql_enforce();" ;;
        # events on, and an SLA policy for the kind: every row has the two
        # running clocks its creation would have started (issue 15)
        c_sla) cat <<'SQL'
SELECT workitem.attach('tickets', log_events => true);

INSERT INTO workitem.sla_policy (name, kind) VALUES ('bench tickets', 'ticket');

INSERT INTO workitem.sla_target (policy_id, target, working_time) SELECT p.id, t, '8 hours' FROM workitem.sla_policy p, unnest('{resolution,first_response}'::text[]) t WHERE p.name = 'bench tickets';

INSERT INTO workitem.sla_clock (source, row_key, target, policy_id, calendar, target_time, state, started_at, since, due_at) SELECT 'tickets'::regclass, k.id::text, t.target, t.policy_id, '24x7', t.working_time, 'running', now(), now(), now() + t.working_time FROM tickets k, workitem.sla_target t JOIN workitem.sla_policy p ON p.id = t.policy_id WHERE p.name = 'bench tickets';

SQL
            ;;
    esac
}

variant_name() {
    case $1 in
        bare) echo "bare UPDATE (no trigger)" ;;
        c_off) echo "attach(), log_events => false" ;;
        c_on) echo "attach(), log_events => true" ;;
        c_sla) echo "attach(), events on, an SLA policy (2 clocks a row)" ;;
        c_filter) echo "attach(), events on, a row filter" ;;
        plpgsql) echo "PL/pgSQL trigger + event row" ;;
        c_on_rowidx) echo "  diagnostic: events on, log with its row index only" ;;
        c_on_noidx) echo "  diagnostic: events on, log with no index" ;;
    esac
}

# A valid move of row $1 (to_do <-> in_progress), whatever its status.
status_update() {
    echo "UPDATE tickets SET status = CASE status WHEN 'to_do' THEN 'in_progress' ELSE 'to_do' END WHERE id = $1;"
}
