#!/usr/bin/env bash
# Upgrade from the first release: CREATE EXTENSION workitem VERSION '1.0.0',
# data through the 1.0.0 API, ALTER EXTENSION workitem UPDATE. Then the
# version is the current one (workitem.control), the data is intact, the operations work on the old
# rows, the pg_regress suite passes against an upgraded database, and an
# upgraded database, data and all, has the schema of a fresh CREATE
# EXTENSION (members, columns, constraints, indexes, triggers, functions
# and privileges, read from the catalogs).
# Gets the cluster in PGHOST/PGPORT, the binaries in PGBIN, the tree in ROOT.
set -uo pipefail
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
ROOT=${ROOT:-$(cd "$(dirname "$0")/.." && pwd)}
export PGUSER=${PGUSER:-postgres}
current=$(sed -n "s/^default_version = '\(.*\)'/\1/p" "$ROOT/workitem.control")
source "$(dirname "$0")/lib/tap.sh"
scratch_db old wi_upg_data
scratch_db reg wi_upg_regress
scratch_db fresh wi_upg_fresh
work=$(mktemp -d)
cleanup() {
    drop_scratch_dbs
    rm -rf "$work"
}
trap cleanup EXIT
create_old() {  # a database with workitem 1.0.0
    "$PGBIN/createdb" "$1" && q "$1" -c "SET client_min_messages = warning; CREATE EXTENSION workitem VERSION '1.0.0'"
}

check "CREATE EXTENSION workitem VERSION '1.0.0'" create_old "$old"
check "... is version 1.0.0" same "$(q "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'workitem'")" 1.0.0

# Data through the 1.0.0 API.
q "$old" >"$work/setup.log" 2>&1 <<'SQL'
SET workitem.actor = 'olga';
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'billing', '7 days', false, 3);
INSERT INTO workitem.calendar (name, time_zone) VALUES ('lisbon', 'Europe/Lisbon');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends) SELECT 'lisbon', d, '09:00', '18:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.calendar_holiday (calendar, day, name) VALUES ('lisbon', '2026-12-08', 'Imaculada Conceição');
INSERT INTO workitem.sla_policy (name, category, calendar) VALUES ('billing', 'billing', 'lisbon');
INSERT INTO workitem.sla_target (policy_id, target, working_time) SELECT id, 'resolution', interval '9 hours' FROM workitem.sla_policy;
SELECT workitem.create_ticket('Closed one', 'x', 'billing', 'c@x', 'c@x', NULL, true);      -- 1
SELECT workitem.resolve(1, 'customer_response', 'Done');
SELECT workitem.close(1);
SELECT workitem.create_ticket('Waiting one', 'x', 'billing', 'c@x', 'c@x', NULL, true);     -- 2
SELECT workitem.start(2, 'olga');
SELECT workitem.wait_more_info(2, 2);
SELECT workitem.create_ticket('Resolved one', 'x', 'billing', 'c@x', 'c@x', NULL, true);    -- 3
SELECT workitem.record_message(3, 'outbound', 'email', 'Re', 'answer');
SELECT workitem.resolve(3, 'customer_response');
SELECT workitem.create_ticket('Open one', 'x', 'billing', 'c@x', 'c@x', NULL, true);        -- 4
SELECT workitem.create_case('A case', 'x', NULL, NULL, true);                               -- 5
INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', 5, 'Step one');          -- 6
SELECT workitem.log_time(4, '10 minutes');
CREATE TABLE public.jobs (id int PRIMARY KEY, status text NOT NULL DEFAULT 'draft');
INSERT INTO public.jobs VALUES (1, 'draft');
SELECT workitem.attach('public.jobs');
UPDATE public.jobs SET status = 'to_do';
SQL
rc=$?
check "data created with the 1.0.0 API" [ $rc = 0 ]
[ $rc = 0 ] || sed 's/^/# /' "$work/setup.log"

# The rows as they are, over the columns 1.0.0 has (1.1.0 may add some).
fingerprint() {   # fingerprint <db> <label>: one line per table; the rows in $work/<label>.rows
    local db=$1 t cols
    : >"$work/$2.rows"
    for t in $(q "$db" -c "SELECT c.oid::regclass FROM pg_class c WHERE c.relnamespace = 'workitem'::regnamespace
                              AND c.relkind = 'r' ORDER BY c.relname"); do
        # the columns the table had before the upgrade
        if [ "$2" = before ]; then
            q "$db" -c "SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute
                        WHERE attrelid = '$t'::regclass AND attnum > 0 AND NOT attisdropped" >"$work/cols.$t"
        fi
        [ -s "$work/cols.$t" ] || continue
        cols=$(cat "$work/cols.$t")
        q "$db" -c "SELECT '$t ' || r::text FROM (SELECT $cols FROM $t) r ORDER BY 1" >>"$work/$2.rows"
        echo "$t $(q "$db" -c "SELECT count(*) || ' ' || md5(COALESCE(string_agg(r::text, E'\n' ORDER BY r::text), ''))
                               FROM (SELECT $cols FROM $t) r")"
    done
}
fingerprint "$old" before >"$work/before"

check "ALTER EXTENSION workitem UPDATE succeeds" q "$old" -c "SET client_min_messages = warning; ALTER EXTENSION workitem UPDATE"
check "the version is now $current" same "$(q "$old" -c "SELECT extversion FROM pg_extension WHERE extname = 'workitem'")" "$current"
fingerprint "$old" after >"$work/after"
check "every table's rows are intact ($(wc -l <"$work/before") tables, $(wc -l <"$work/before.rows") rows)" \
    diff -q "$work/before" "$work/after"
diff "$work/before.rows" "$work/after.rows" | sed 's/^/# /'


# The operations on the old rows.
check "a closed item stays closed (WI009)" same \
    "$(sqlstate "$old" "UPDATE workitem.item SET status = 'in_progress' WHERE id = 1")" WI009
check "the waiting item resumes" same "$(q "$old" -c "SELECT status FROM workitem.resume(2)")" in_progress
check "... and resolves" same "$(q "$old" -c "SELECT status FROM workitem.resolve(2, 'customer_response')")" resolved
check "the resolved item reopens within its window" same "$(q "$old" -c "SELECT status FROM workitem.reopen(3, 'again')")" to_do
check "the open item starts" same "$(q "$old" -c "SELECT status || ' ' || assignee FROM workitem.start(4, 'pia')")" "in_progress pia"
check "an invalid move on an old row is refused (WI001)" same \
    "$(sqlstate "$old" "UPDATE workitem.item SET status = 'draft' WHERE id = 4")" WI001
check "the old case takes a new action, and it is resolved" same \
    "$(q "$old" -c "INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', 5, 'Step two');
                    SELECT status FROM workitem.resolve(6, 'completed')")" closed
check "history() of an old item, old and new events" same \
    "$(q "$old" -c "SELECT string_agg(COALESCE(old_value, '') || '>' || new_value, ' ' ORDER BY id)
                    FROM workitem.history(2) WHERE what = 'status'")" "to_do>in_progress in_progress>waiting waiting>in_progress in_progress>resolved"
check "the SLA clock of an old item kept running through the upgrade" same \
    "$(q "$old" -c "SELECT state FROM workitem.item_sla WHERE item_id = 4 AND target = 'resolution'")" running
check "the attached table is still enforced (WI001)" same \
    "$(sqlstate "$old" "UPDATE public.jobs SET status = 'draft'")" WI001
check "the new views show the old rows" same \
    "$(q "$old" -c "SELECT (SELECT count(*) FROM workitem.items) = (SELECT count(*) FROM workitem.item)
                           AND (SELECT count(*) FROM workitem.transitions WHERE item_id = 1) = 3")" t
check "the roles exist and have their privileges after the upgrade" same \
    "$(q "$old" -c "SELECT has_function_privilege('workitem_agent', 'workitem.resolve(bigint,workitem.resolution,text)', 'EXECUTE')
                           AND NOT has_function_privilege('workitem_reader', 'workitem.resolve(bigint,workitem.resolution,text)', 'EXECUTE')
                           AND NOT has_table_privilege('workitem_agent', 'workitem.event', 'DELETE')")" t

# The pg_regress suite, against a database upgraded from 1.0.0.
check "an empty 1.0.0 database for the suite" create_old "$reg"
check "... upgraded" q "$reg" -c "SET client_min_messages = warning; ALTER EXTENSION workitem UPDATE"
# Not timers: sql/timers.sql makes a database of its own (workitem_timers)
# with a fresh CREATE EXTENSION and runs there, so it would not test the
# upgraded database at all; it runs in the ordinary suite.
tests=$(cd "$ROOT" && ls sql/*.sql | sed 's|^sql/||; s|\.sql$||' | grep -vx timers | sort)
mkdir -p "$work/regress"
(cd "$ROOT" && "$PGBIN/../lib/pgxs/src/test/regress/pg_regress" --inputdir=. --outputdir="$work/regress" \
    --bindir="$PGBIN" --use-existing --dbname="$reg" $tests) >"$work/regress.log" 2>&1
for t in $tests; do
    if grep -qE "^(test $t +\.\.\. ok|ok [0-9]+ +- $t )" "$work/regress.log"; then
        check "pg_regress $t on the upgraded database" true
    else
        check "pg_regress $t on the upgraded database" false
        grep -E "$t" "$work/regress.log" | sed 's/^/# /'
        [ -f "$work/regress/regression.diffs" ] && head -n 40 "$work/regress/regression.diffs" | sed 's/^/# /'
    fi
done

# The upgraded database, with its data, against a fresh install: the fresh
# one runs extension/current/*.sql, the upgraded one 1.0.0 and every upgrade
# script since, so a change made in one and forgotten in the other differs.
check "a fresh CREATE EXTENSION workitem" "$PGBIN/createdb" "$fresh"
q "$fresh" -c "SET client_min_messages = warning; CREATE EXTENSION workitem"
# What the extension is, read from the catalogs (user objects left out):
# members, columns, constraints, indexes, triggers, function bodies, ACLs.
schema() {
    q "$1" <<'SQL'
SELECT 'member ' || pg_describe_object(classid, objid, objsubid)
  FROM pg_depend WHERE deptype = 'e'
   AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'workitem')
UNION ALL
SELECT format('column %s.%s %s %s %s %s %s', table_name, ordinal_position, column_name, data_type,
              collation_name, is_nullable, column_default)
  FROM information_schema.columns WHERE table_schema = 'workitem'
UNION ALL
SELECT format('constraint %s %s %s %s', conrelid::regclass, conname, pg_get_constraintdef(oid), convalidated)
  FROM pg_constraint WHERE connamespace = 'workitem'::regnamespace
UNION ALL
SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'workitem'
UNION ALL
SELECT format('trigger %s %s', tgrelid::regclass, pg_get_triggerdef(oid))
  FROM pg_trigger WHERE NOT tgisinternal AND tgrelid IN
        (SELECT oid FROM pg_class WHERE relnamespace = 'workitem'::regnamespace)
UNION ALL
SELECT format('function %s %s %s', oid::regprocedure, md5(pg_get_functiondef(oid)), proacl)
  FROM pg_proc WHERE pronamespace = 'workitem'::regnamespace AND prokind <> 'a'
UNION ALL
SELECT format('acl %s %s', oid::regclass, relacl)
  FROM pg_class WHERE relnamespace = 'workitem'::regnamespace
UNION ALL
SELECT format('view %s %s', oid::regclass, md5(pg_get_viewdef(oid)))
  FROM pg_class WHERE relnamespace = 'workitem'::regnamespace AND relkind = 'v'
UNION ALL
SELECT format('type %s %s', oid::regtype, (SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder)
                                           FROM pg_enum WHERE enumtypid = t.oid))
  FROM pg_type t WHERE typnamespace = 'workitem'::regnamespace AND typtype = 'e'
UNION ALL
SELECT format('comment %s %s', pg_describe_object(classoid, objoid, objsubid), md5(description))
  FROM pg_description WHERE classoid IN ('pg_class'::regclass, 'pg_proc'::regclass, 'pg_type'::regclass)
   AND (objoid IN (SELECT oid FROM pg_class WHERE relnamespace = 'workitem'::regnamespace)
        OR objoid IN (SELECT oid FROM pg_proc WHERE pronamespace = 'workitem'::regnamespace))
ORDER BY 1;
SQL
}
schema "$old" >"$work/upgraded.txt"
schema "$fresh" >"$work/fresh.txt"
nmembers=$(grep -c '^member ' "$work/fresh.txt")
check "the upgraded database, with its data, has the schema of a fresh one ($nmembers members, $(wc -l <"$work/fresh.txt") catalog lines)" \
    diff "$work/upgraded.txt" "$work/fresh.txt"
check "... the member list is not empty" [ "$nmembers" -gt 50 ]

# One session across the upgrade: the C code's statements depend on the
# schema (the tenant columns of 1.2.0, src/plans.c); those it planned
# before ALTER EXTENSION UPDATE are made anew after it (an SLA clock's
# INSERT ... ON CONFLICT names the new unique key).
scratch_db one wi_upg_session
check "one session: an empty 1.0.0 database" create_old "$one"
check "one session: SLA clocks started before and after ALTER EXTENSION UPDATE" same "$(q "$one" 2>&1 <<'SQL'
SET client_min_messages = warning;
SET workitem.actor = 'olga';
INSERT INTO workitem.sla_policy (name) VALUES ('all');
INSERT INTO workitem.sla_target (policy_id, target, working_time) SELECT id, 'resolution', '4 hours' FROM workitem.sla_policy;
CREATE TEMP TABLE made AS SELECT (workitem.create_ticket('a', 'b', 'c', 'a@x', 'a@x', submit => true)).id;
ALTER EXTENSION workitem UPDATE;
INSERT INTO made SELECT (workitem.create_ticket('a', 'b', 'c', 'a@x', 'a@x', submit => true)).id;
SELECT string_agg(item_id || ' ' || state || ' ' || tenant, ', ' ORDER BY item_id) FROM workitem.sla_clock;
SQL
)" "1 running default, 2 running default"

echo "1..$n"
[ "$failed" = 0 ]
