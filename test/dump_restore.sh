#!/usr/bin/env bash
# pg_dump -Fc of a database using workitem, pg_restore into a fresh one:
# every table's content is identical (md5 of the ordered rows), sequences
# continue, and the triggers still hold the rules afterwards.
# Gets the cluster in PGHOST/PGPORT and the binaries in PGBIN; prints TAP.
set -uo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
export PGUSER=${PGUSER:-postgres}
source "$(dirname "$0")/lib/tap.sh"
scratch_db src wi_dump_src
scratch_db dst wi_dump_dst
scratch_db plain wi_dump_plain
work=$(mktemp -d)
cleanup() {
    drop_scratch_dbs
    rm -rf "$work"
}
trap cleanup EXIT

"$PGBIN/createdb" "$src" && "$PGBIN/createdb" "$dst" || { echo "not ok 1 - create databases"; echo "1..1"; exit 1; }

# The source: every kind of data the extension keeps.
q "$src" >"$work/setup.log" 2>&1 <<'SQL'
SET client_min_messages = warning;
CREATE EXTENSION workitem;
SET workitem.actor = 'dora';
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'billing', '7 days', true, 3), ('case', 'onboarding', '2 days', false, NULL);
INSERT INTO workitem.calendar (name, time_zone, description) VALUES ('paris', 'Europe/Paris', 'office hours');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'paris', d, s, e FROM generate_series(1, 5) d, (VALUES ('09:00'::time, '12:30'::time), ('13:30', '17:00')) r(s, e);
INSERT INTO workitem.calendar_holiday (calendar, day, starts, ends, name) VALUES
    ('paris', '2026-12-25', NULL, NULL, 'Christmas'), ('paris', '2026-12-24', '13:00', NULL, 'Christmas Eve');
INSERT INTO workitem.sla_policy (name, kind, category, calendar, stop_wait_types, reopen_policy)
VALUES ('billing', 'ticket', 'billing', 'paris', '{more_info,follow_up}', 'new_cycle');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', interval '16 hours' FROM workitem.sla_policy WHERE name = 'billing';
INSERT INTO workitem.sla_target (policy_id, target, business_days)
SELECT id, 'first_response', 1 FROM workitem.sla_policy WHERE name = 'billing';

-- 1: resolved then closed, with messages, a note, time
SELECT workitem.create_ticket('Charged twice', 'Invoice 114', 'billing', 'c@x', 'c@x', 'high', true);
SELECT workitem.start(1);
SELECT workitem.record_message(1, 'outbound', 'email', 'Re: Charged twice', 'Looking into it');
SELECT workitem.log_time(1, '20 minutes', 'checked the invoice');
SELECT workitem.add_expense(1, 'expense', 'Courier', 1, 23.50, 'EUR');
SELECT workitem.resolve(1, 'customer_response', 'Refunded');
SELECT workitem.close(1);
-- 2: waiting for more information; 3: to_do; 4: draft
SELECT workitem.create_ticket('Address change', 'New address', 'billing', 'c@x', 'c@x', NULL, true);
SELECT workitem.start(2, 'eve');
SELECT workitem.wait_more_info(2, 2, false, 'which address?');
SELECT workitem.create_ticket('Refund', 'Please refund', 'billing', 'd@x', 'd@x', NULL, true);
SELECT workitem.create_ticket('Draft', NULL, 'billing');
SELECT workitem.start_timer(2, 'eve');                 -- a timer still running
UPDATE workitem.timer SET started_at = now() - interval '1 hour';
-- a case with actions, a split ticket, a merged one
SELECT workitem.create_case('Onboard ACME', 'new customer', 'onboarding', NULL, true);
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', 5, 'Create account'), ('action', 5, 'Send welcome');
SELECT workitem.resolve(6, 'completed');
SELECT workitem.split((workitem.create_ticket('Two things', 'a and b', 'billing', 'c@x', 'c@x', NULL, true)).id, ARRAY['a', 'b']);
SELECT workitem.merge((workitem.create_ticket('Dup', 'same', 'billing', 'c@x', 'c@x', NULL, true)).id, 3);

-- an attached table of the user's own, with an SLA for its kind (its rows' clocks name it)
INSERT INTO workitem.sla_policy (name, kind) VALUES ('helpdesk', 'ticket');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', interval '1 day' FROM workitem.sla_policy WHERE name = 'helpdesk';
CREATE SCHEMA helpdesk;
CREATE TABLE helpdesk.tickets (id serial PRIMARY KEY, subject text NOT NULL,
                               status text NOT NULL DEFAULT 'new', owner text);
INSERT INTO helpdesk.tickets (subject) VALUES ('printer'), ('screen');
SELECT workitem.attach('helpdesk.tickets',
       label_map => '{"new": "draft", "open": "to_do", "working": "in_progress", "pending": "waiting",
                      "solved": "resolved", "closed": "closed"}', assignee_column => 'owner');
UPDATE helpdesk.tickets SET status = 'open';
UPDATE helpdesk.tickets SET status = 'working', owner = 'fred' WHERE id = 1;
SQL
rc=$?
check "the source database is set up" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$work/setup.log"

tables_sql="SELECT c.oid::regclass FROM pg_class c
            WHERE c.relnamespace IN ('workitem'::regnamespace, 'helpdesk'::regnamespace) AND c.relkind = 'r'
            ORDER BY c.relnamespace::regnamespace::text, c.relname"
check "the log has rows of items and of the attached table" \
    [ "$(q "$src" -c "SELECT count(DISTINCT item_id) > 5 AND count(*) FILTER (WHERE source IS NOT NULL) >= 3 FROM workitem.event")" = t ]

check "pg_dump -Fc succeeds" "$PGBIN/pg_dump" -Fc -f "$work/db.dump" "$src" 2>"$work/dump.err"
check "pg_restore into a fresh database succeeds, without errors" \
    "$PGBIN/pg_restore" --exit-on-error -d "$dst" "$work/db.dump" 2>"$work/restore.err"
[ -s "$work/restore.err" ] && sed 's/^/# /' "$work/restore.err"

# Table by table: the same rows.
for t in $(q "$src" -c "$tables_sql"); do
    sum_sql="SELECT count(*) || ' ' || md5(COALESCE(string_agg(t::text, E'\n' ORDER BY t::text), '')) FROM $t t"
    a=$(q "$src" -c "$sum_sql" 2>&1) b=$(q "$dst" -c "$sum_sql" 2>&1)
    check "$t: same rows after restore (${a%% *} rows)" same "$b" "$a"
done
check "the same tables on both sides" same "$(q "$dst" -c "$tables_sql")" "$(q "$src" -c "$tables_sql")"
seq_sql="SELECT string_agg(s.schemaname || '.' || s.sequencename || '=' || COALESCE(s.last_value::text, 'null'), ' '
                           ORDER BY s.schemaname, s.sequencename)
         FROM pg_sequences s WHERE s.schemaname IN ('workitem', 'helpdesk')"
check "every sequence has its value" same "$(q "$dst" -c "$seq_sql")" "$(q "$src" -c "$seq_sql")"
check "the calendar computes the same working time" same \
    "$(q "$dst" -c "SELECT workitem.business_time('paris', '2026-12-21 08:00+01', '2026-12-28 18:00+01')")" \
    "$(q "$src" -c "SELECT workitem.business_time('paris', '2026-12-21 08:00+01', '2026-12-28 18:00+01')")"
check "the SLA views read the same" same \
    "$(q "$dst" -c "SELECT string_agg(item_id || target || state || COALESCE(due_at::text, '-'), ',' ORDER BY item_id, target) FROM workitem.item_sla")" \
    "$(q "$src" -c "SELECT string_agg(item_id || target || state || COALESCE(due_at::text, '-'), ',' ORDER BY item_id, target) FROM workitem.item_sla")"
check "the roles keep their privileges" same \
    "$(q "$dst" -c "SELECT has_table_privilege('workitem_agent', 'workitem.item', 'UPDATE')
                           AND NOT has_table_privilege('workitem_agent', 'workitem.event', 'SELECT')
                           AND has_function_privilege('workitem_agent', 'workitem.resolve(bigint,workitem.resolution,text)', 'EXECUTE')")" t

# A plain SQL dump replayed by psql loads the same way (COPY ... FROM stdin).
"$PGBIN/createdb" "$plain"
f0=$failed
check "pg_dump (plain format) succeeds" "$PGBIN/pg_dump" -f "$work/db.sql" "$src" 2>"$work/plain-dump.err"
[ "$failed" = "$f0" ] || sed 's/^/# /' "$work/plain-dump.err"
check "a plain-format dump replays through psql without errors" \
    "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -d "$plain" -f "$work/db.sql" -o /dev/null
all_sql="SELECT string_agg(x, ' ' ORDER BY x) FROM (SELECT 'item:' || md5(string_agg(t::text, ',' ORDER BY t.id)) x FROM workitem.item t
         UNION ALL SELECT 'event:' || md5(string_agg(t::text, ',' ORDER BY t.id)) FROM workitem.event t
         UNION ALL SELECT 'message:' || md5(string_agg(t::text, ',' ORDER BY t.id)) FROM workitem.message t
         UNION ALL SELECT 'clock:' || md5(string_agg(t::text, ',' ORDER BY t.id)) FROM workitem.sla_clock t) s"
check "... with the same items, log, messages and clocks" same "$(q "$plain" -c "$all_sql")" "$(q "$src" -c "$all_sql")"

# The rules after restore.
check "a closed item is still refused (WI009)" same \
    "$(sqlstate "$dst" "UPDATE workitem.item SET status = 'in_progress' WHERE id = 1")" WI009
check "an invalid move is still refused (WI001)" same \
    "$(sqlstate "$dst" "UPDATE workitem.item SET status = 'draft' WHERE id = 3")" WI001
check "the resolution note is still required by the category (WI005)" same \
    "$(sqlstate "$dst" "SELECT workitem.resolve(3, 'customer_response')")" WI005
before=$(q "$dst" -c "SELECT max(id) FROM workitem.event")
check "an allowed move works" same "$(q "$dst" -c "SELECT status FROM workitem.start(3, 'gus')")" in_progress
check "... and logs its events after the restored ones" same \
    "$(q "$dst" -c "SELECT string_agg(what || ':' || COALESCE(old_value, '') || '>' || new_value, ' ' ORDER BY id)
                    FROM workitem.event WHERE id > $before")" "status:to_do>in_progress assignee:>gus"
check "an inbound message still wakes a waiting item" same \
    "$(q "$dst" -c "SELECT workitem.record_message(2, 'inbound', 'email', 'Re', 'this one') IS NOT NULL;
                    SELECT status || ' ' || highlighted FROM workitem.item WHERE id = 2")" "t
in_progress true"
check "a running timer survives and stops into a tracked entry" same \
    "$(q "$dst" -c "SELECT tracked FROM workitem.stop_timer(2, 'eve') WHERE duration >= interval '1 hour'")" t
check "a new item gets the next id" same \
    "$(q "$dst" -c "SELECT id = (SELECT max(id) FROM workitem.item i2 WHERE i2.id < t.id) + 1 FROM workitem.create_ticket('After restore') t")" t
check "the attached table's trigger still refuses (WI001)" same \
    "$(sqlstate "$dst" "UPDATE helpdesk.tickets SET status = 'new' WHERE id = 2")" WI001
check "... and logs an allowed move with the table and row" same \
    "$(q "$dst" -c "UPDATE helpdesk.tickets SET status = 'solved' WHERE id = 1;
                    SELECT source::text || ' ' || row_key || ' ' || old_value || '>' || new_value
                    FROM workitem.event WHERE source IS NOT NULL AND what = 'status' ORDER BY id DESC LIMIT 1")" \
    "helpdesk.tickets 1 in_progress>resolved"
check "... and stops the row's restored SLA clock (met)" same \
    "$(q "$dst" -c "SELECT state FROM workitem.sla_clock WHERE source = 'helpdesk.tickets'::regclass AND row_key = '1'")" met
# The owner's COPY loads rows as they are (that is how pg_restore loads
# them); anybody else's COPY goes through the trigger.
q "$dst" -c "CREATE ROLE wi_dump_agent_$$ IN ROLE workitem_agent" >/dev/null
copy_state=$(printf 'SET ROLE wi_dump_agent_%s;\nCOPY workitem.item (kind, status, title) FROM STDIN;\nticket\twaiting\tsmuggled\n\\.\n' $$ |
             "$PGBIN/psql" -X -q -v VERBOSITY=verbose -d "$dst" 2>&1 | sed -n 's/^ERROR:  \([0-9A-Z]\{5\}\):.*/\1/p' | head -n 1)
q "$dst" -c "DROP ROLE wi_dump_agent_$$" >/dev/null
check "a COPY by an agent is held to the rules (WI001)" same "$copy_state" WI001

echo "1..$n"
[ "$failed" = 0 ]
