-- Shared by bench/load.sh and test/crash.sh: a population of items and a
-- helper that runs one random operation and records a refusal instead of
-- failing (pgbench 15 aborts a client on the first error).
-- psql variables: items (how many tickets and cases to start with);
-- optional: tenants (1: all in tenant 'default'; N: item g in tenant
-- 'tenant<g % N>', and bench_op's new tickets spread the same way), sla
-- (1: a resolution clock on every ticket; 0: none), noted (1: a category
-- that requires a resolution note; 0: that category without the rule).
\if :{?tenants} \else \set tenants 1 \endif
\if :{?sla} \else \set sla 1 \endif
\if :{?noted} \else \set noted 1 \endif
CREATE EXTENSION IF NOT EXISTS workitem;
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'load', '7 days', false, 3), ('case', 'load', '7 days', false, 3),
       ('ticket', 'noted', '7 days', :noted = 1, 2), ('ticket', 'nowindow', NULL, false, 1);
INSERT INTO workitem.sla_policy (name, kind, reopen_policy) SELECT 'load tickets', 'ticket', 'new_cycle' WHERE :sla = 1;
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', interval '8 hours' FROM workitem.sla_policy;
SELECT set_config('bench.items', :'items', false), set_config('bench.tenants', :'tenants', false) \g /dev/null
-- bench_op's sessions (pgbench) spread new tickets over the tenants too
SELECT format('ALTER DATABASE %I SET bench.tenants = %L', current_database(), :'tenants') WHERE :tenants > 1 \gexec

-- Every refusal: which operation, which SQLSTATE.
CREATE TABLE bench_refused (op text NOT NULL, sqlstate text NOT NULL);
-- Every operation that went through.
CREATE TABLE bench_done (op text NOT NULL);

SET workitem.actor = 'loader';
-- one item at a time, each in its tenant; actions through create_action()
-- (in their case's tenant: an INSERT ... SELECT reaches Citus's shards as COPY)
DO $$
DECLARE
    n int := current_setting('bench.tenants')::int;
    c record;
BEGIN
    FOR g IN 1 .. current_setting('bench.items')::int LOOP
        PERFORM set_config('workitem.tenant', CASE WHEN n > 1 THEN 'tenant' || g % n ELSE 'default' END, true);
        IF g % 4 = 0 THEN
            PERFORM workitem.create_case('Case ' || g, 'load case', 'load', NULL, true);
        ELSE
            PERFORM workitem.create_ticket('Ticket ' || g, 'load ticket',
                        (ARRAY['load', 'noted', 'nowindow'])[1 + g % 3], 'c@example.com', 'r@example.com',
                        NULL, g % 10 <> 1);
        END IF;
    END LOOP;
    FOR c IN SELECT id FROM workitem.item WHERE kind = 'case' ORDER BY id LOOP
        PERFORM workitem.create_action(c.id, 'Step 1');
        PERFORM workitem.create_action(c.id, 'Step 2');
    END LOOP;
END
$$;
RESET workitem.actor;
RESET workitem.tenant;

-- tenant: the item's, when the caller knows it (bench/citus.sh's routed
-- run): named in workitem.tenant, as a multi-tenant application does, and
-- in the plain UPDATE's WHERE; NULL: by id only.
CREATE FUNCTION bench_op(op int, id bigint, id2 bigint, tenant text DEFAULT NULL) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := (ARRAY['start', 'assign', 'unassign', 'wait_more_info', 'wait_until', 'resume',
                        'resolve', 'resolve_any', 'reopen', 'close', 'inbound', 'outbound', 'merge',
                        'split', 'launch_case', 'action', 'cancel', 'create', 'update', 'log_time',
                        'create_action'])[op];
    tenants int := coalesce(nullif(current_setting('bench.tenants', true), '')::int, 1);
    res workitem.resolution;
    st workitem.status;
BEGIN
    PERFORM set_config('workitem.actor', 'agent' || (id2 % 8), true);
    IF bench_op.tenant IS NOT NULL THEN
        PERFORM set_config('workitem.tenant', bench_op.tenant, true);
    END IF;
    CASE op
    WHEN 1 THEN PERFORM workitem.start(id);
    WHEN 2 THEN PERFORM workitem.assign(id, 'agent' || (id2 % 8));
    WHEN 3 THEN PERFORM workitem.unassign(id, 'load');
    WHEN 4 THEN PERFORM workitem.wait_more_info(id, 1 + (id2 % 5)::int, id2 % 3 = 0);
    WHEN 5 THEN PERFORM workitem.wait_until(id, now() + make_interval(hours => 1 + (id2 % 48)::int));
    WHEN 6 THEN PERFORM workitem.resume(id);
    WHEN 7 THEN PERFORM workitem.resolve(id, 'completed', 'done');
    WHEN 8 THEN
        res := (enum_range(NULL::workitem.resolution))[1 + id2 % 10];
        PERFORM workitem.resolve(id, res, CASE WHEN id2 % 2 = 0 THEN 'note' END);
    WHEN 9 THEN PERFORM workitem.reopen(id, 'load');
    WHEN 10 THEN PERFORM workitem.close(id);
    WHEN 11 THEN PERFORM workitem.record_message(id, 'inbound', 'email', 'Re', 'reply');
    WHEN 12 THEN PERFORM workitem.record_message(id, 'outbound', 'email', 'Answer', 'answer');
    WHEN 13 THEN PERFORM workitem.merge(id, id2);
    WHEN 14 THEN PERFORM workitem.split(id, ARRAY['part 1', 'part 2']);
    WHEN 15 THEN PERFORM workitem.launch_case(id, 'launched');
    WHEN 16 THEN INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', id, 'new step');
    WHEN 17 THEN PERFORM workitem.cancel(id, 'load');
    WHEN 18 THEN
        IF tenants > 1 THEN
            PERFORM set_config('workitem.tenant', 'tenant' || id2 % tenants, true);
        END IF;
        PERFORM workitem.create_ticket('New', 'new', 'load', 'c', 'r', NULL, true);
    -- (a CASE, not an array subscript: Citus 13.2.2 on PostgreSQL 15.20
    -- crashes on an UPDATE of a distributed table with a subscript in SET)
    WHEN 19 THEN
        IF bench_op.tenant IS NULL THEN
            UPDATE workitem.item SET status = CASE id2 % 6 WHEN 0 THEN 'draft'::workitem.status
                WHEN 1 THEN 'to_do' WHEN 2 THEN 'in_progress' WHEN 3 THEN 'waiting'
                WHEN 4 THEN 'resolved' ELSE 'closed' END
            WHERE item.id = bench_op.id;
        ELSE
            -- the status computed here: routed to one shard, Citus sends the
            -- CASE over a parameter as it is, and the worker finds no % for it
            st := (enum_range(NULL::workitem.status))[1 + id2 % 6];  -- the same six, in order
            UPDATE workitem.item SET status = st WHERE item.id = bench_op.id AND item.tenant = bench_op.tenant;
        END IF;
    WHEN 20 THEN PERFORM workitem.log_time(id, make_interval(mins => 1 + (id2 % 90)::int));
    ELSE PERFORM workitem.create_action(id, 'new step');
    END CASE;
    INSERT INTO bench_done VALUES (name);
EXCEPTION WHEN OTHERS THEN
    INSERT INTO bench_refused VALUES (name, SQLSTATE);
END
$$;

-- The checks after a run (test/lib/invariants.sql): wi_bad_rows, wi_bad_events.
\ir ../test/lib/invariants.sql
