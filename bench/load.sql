-- Shared by bench/load.sh and test/crash.sh: a population of items and a
-- helper that runs one random operation and records a refusal instead of
-- failing (pgbench 15 aborts a client on the first error).
-- psql variable: items (how many tickets and cases to start with).
CREATE EXTENSION IF NOT EXISTS workitem;
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'load', '7 days', false, 3), ('case', 'load', '7 days', false, 3),
       ('ticket', 'noted', '7 days', true, 2), ('ticket', 'nowindow', NULL, false, 1);
INSERT INTO workitem.sla_policy (name, kind, reopen_policy) VALUES ('load tickets', 'ticket', 'new_cycle');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', interval '8 hours' FROM workitem.sla_policy;

-- Every refusal: which operation, which SQLSTATE.
CREATE TABLE bench_refused (op text NOT NULL, sqlstate text NOT NULL);
-- Every operation that went through.
CREATE TABLE bench_done (op text NOT NULL);

SET workitem.actor = 'loader';
SELECT count(*) FROM (
    SELECT CASE WHEN g % 4 = 0
           THEN (workitem.create_case('Case ' || g, 'load case', 'load', NULL, true)).id
           ELSE (workitem.create_ticket('Ticket ' || g, 'load ticket',
                    (ARRAY['load', 'noted', 'nowindow'])[1 + g % 3], 'c@example.com', 'r@example.com',
                    NULL, g % 10 <> 1)).id END
    FROM generate_series(1, :items) g) s;
INSERT INTO workitem.item (kind, case_id, title)
SELECT 'action', id, 'Step ' || s FROM workitem.item, generate_series(1, 2) s WHERE kind = 'case';
RESET workitem.actor;

CREATE FUNCTION bench_op(op int, id bigint, id2 bigint) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    name text := (ARRAY['start', 'assign', 'unassign', 'wait_more_info', 'wait_until', 'resume',
                        'resolve', 'resolve_any', 'reopen', 'close', 'inbound', 'outbound', 'merge',
                        'split', 'launch_case', 'action', 'cancel', 'create', 'update', 'log_time'])[op];
    res workitem.resolution;
BEGIN
    PERFORM set_config('workitem.actor', 'agent' || (id2 % 8), true);
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
    WHEN 18 THEN PERFORM workitem.create_ticket('New', 'new', 'load', 'c', 'r', NULL, true);
    WHEN 19 THEN UPDATE workitem.item SET status = (enum_range(NULL::workitem.status))[1 + id2 % 6]
                 WHERE item.id = bench_op.id;
    ELSE PERFORM workitem.log_time(id, make_interval(mins => 1 + (id2 % 90)::int));
    END CASE;
    INSERT INTO bench_done VALUES (name);
EXCEPTION WHEN OTHERS THEN
    INSERT INTO bench_refused VALUES (name, SQLSTATE);
END
$$;

-- The checks after a run (test/lib/invariants.sql): wi_bad_rows, wi_bad_events.
\ir ../test/lib/invariants.sql
