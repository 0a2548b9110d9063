-- Every cell of the transition table (spec section 2), for every kind:
-- can_transition() and next_statuses() against the table written out here
-- as data (independently of the C table in src/rules.c), and the same cell
-- driven for real: an item is brought into "from" and a plain UPDATE
-- attempts the move, setting what the move needs. Allowed moves must land
-- in the expected status; refused ones must fail with their SQLSTATE and
-- change nothing (neither the row nor the activity log).
BEGIN;
SELECT plan(344);
-- Citus: its plain UPDATEs log the actor on a worker, which gets the
-- transaction's SET LOCAL only when asked to (README "Scale out with Citus");
-- a placeholder setting, without effect, on plain PostgreSQL
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'tester';

-- The table of spec section 2, one row per kind and from-status: the
-- statuses reachable in one move. Tickets and cases share the table;
-- actions are never draft (created in to_do), and resolving one closes it,
-- so from "resolved" (never a resting state for an action) only "closed"
-- is listed; an action has no feedback window to reopen in.
CREATE TEMP TABLE spec_table (kind workitem.kind, from_s workitem.status, allowed workitem.status[]);
INSERT INTO spec_table VALUES
    ('ticket', 'draft',       '{to_do,in_progress,resolved,closed}'),
    ('ticket', 'to_do',       '{in_progress,waiting,resolved,closed}'),
    ('ticket', 'in_progress', '{to_do,waiting,resolved,closed}'),
    ('ticket', 'waiting',     '{to_do,in_progress,waiting,resolved,closed}'),
    ('ticket', 'resolved',    '{to_do,in_progress,closed}'),
    ('ticket', 'closed',      '{}'),
    ('case',   'draft',       '{to_do,in_progress,resolved,closed}'),
    ('case',   'to_do',       '{in_progress,waiting,resolved,closed}'),
    ('case',   'in_progress', '{to_do,waiting,resolved,closed}'),
    ('case',   'waiting',     '{to_do,in_progress,waiting,resolved,closed}'),
    ('case',   'resolved',    '{to_do,in_progress,closed}'),
    ('case',   'closed',      '{}'),
    ('action', 'draft',       '{}'),
    ('action', 'to_do',       '{in_progress,waiting,resolved,closed}'),
    ('action', 'in_progress', '{to_do,waiting,resolved,closed}'),
    ('action', 'waiting',     '{to_do,in_progress,waiting,resolved,closed}'),
    ('action', 'resolved',    '{closed}'),
    ('action', 'closed',      '{}');

CREATE TEMP VIEW cell AS
SELECT k.kind, f.s AS from_s, t.s AS to_s, t.s = ANY (st.allowed) AS allowed
FROM unnest(enum_range(NULL::workitem.kind)) k(kind)
CROSS JOIN unnest(enum_range(NULL::workitem.status)) f(s)
CROSS JOIN unnest(enum_range(NULL::workitem.status)) t(s)
JOIN spec_table st ON st.kind = k.kind AND st.from_s = f.s;

-- 1. can_transition: 3 kinds x 6 x 6 = 108 cells
SELECT is(workitem.can_transition(kind, from_s, to_s), allowed,
          format('can_transition(%s, %s, %s) is %s', kind, from_s, to_s, allowed))
FROM cell ORDER BY kind, from_s, to_s;

-- 2. next_statuses: 3 kinds x 6 = 18
SELECT is(ARRAY(SELECT s FROM workitem.next_statuses(kind, from_s) s ORDER BY s),
          ARRAY(SELECT s FROM unnest(allowed) s ORDER BY s),
          format('next_statuses(%s, %s)', kind, from_s))
FROM spec_table ORDER BY kind, from_s;

-- 3. The cells driven for real.

-- A new item of that kind brought into status "st" by plain UPDATEs.
-- Tickets and cases have a feedback window (so resolved is a resting
-- state) and no assignee; waiting is more_info.
CREATE FUNCTION pg_temp.item_in(k workitem.kind, st workitem.status) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    i bigint;
    c bigint;
BEGIN
    IF k = 'action' THEN
        INSERT INTO workitem.item (kind, status, title) VALUES ('case', 'to_do', 'the case')
        RETURNING id INTO c;
        INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', c, 'an action')
        RETURNING id INTO i;
    ELSE
        INSERT INTO workitem.item (kind, title, description, category, primary_contact,
                                   requester, feedback_window)
        VALUES (k, 'a ' || k, 'what it is about', 'general', 'carol@example.com',
                'carol@example.com', '7 days')
        RETURNING id INTO i;
    END IF;
    IF st = 'draft' THEN
        RETURN i;
    END IF;
    UPDATE workitem.item SET status = 'to_do' WHERE id = i AND status = 'draft';
    IF st = 'in_progress' THEN
        UPDATE workitem.item SET status = 'in_progress', assignee = 'alice' WHERE id = i;
    ELSIF st = 'waiting' THEN
        UPDATE workitem.item SET status = 'waiting', wait_type = 'more_info' WHERE id = i;
    ELSIF st = 'resolved' THEN
        UPDATE workitem.item SET status = 'resolved',
            resolution = CASE k WHEN 'ticket' THEN 'customer_response' ELSE 'completed' END::workitem.resolution
        WHERE id = i;
    ELSIF st = 'closed' THEN
        UPDATE workitem.item SET status = 'closed',
            resolution = CASE k WHEN 'ticket' THEN 'spam' ELSE 'cancelled' END::workitem.resolution
        WHERE id = i;
    END IF;
    IF (SELECT status FROM workitem.item WHERE id = i) <> st THEN
        RAISE 'test set-up: % % did not reach %', k, i, st;
    END IF;
    RETURN i;
END $$;

-- The UPDATE that attempts the move, with what the move needs.
CREATE FUNCTION pg_temp.move_sql(k workitem.kind, i bigint, f workitem.status, t workitem.status)
RETURNS text LANGUAGE sql AS $$
SELECT format('UPDATE workitem.item SET status = %L%s WHERE id = %s', t,
    CASE
        WHEN f = t AND f <> 'waiting' THEN ''                -- restating the status
        WHEN t = 'to_do' THEN ', assignee = NULL'             -- submit, unassign, resume, reopen
        WHEN t = 'in_progress' THEN ', assignee = ''bob'''    -- start, resume, reopen
        WHEN t = 'waiting' THEN ', wait_type = ''follow_up'', wait_until = now() + interval ''2 days'''
        WHEN t = 'resolved' THEN format(', resolution = %L',
            CASE k WHEN 'ticket' THEN 'customer_response' ELSE 'completed' END)
        WHEN t = 'closed' AND f = 'resolved' THEN ''          -- close after the window
        WHEN t = 'closed' THEN format(', resolution = %L',
            CASE WHEN k = 'ticket' AND f = 'waiting' THEN 'no_customer_response'  -- no reply in time
                 WHEN k = 'ticket' THEN 'spam' ELSE 'cancelled' END)
        ELSE ''
    END, i)
$$;

-- (plpgsql, not inlined: on Citus, the query over workitem.item would carry
-- its argument, a call of pg_temp.item_in(), to the workers)
CREATE FUNCTION pg_temp.status_of(i bigint) RETURNS workitem.status LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT status FROM workitem.item WHERE id = i);
END $$;

-- The row and its log, to show that a refused move changed nothing.
-- (plpgsql: Citus plans each query with the id as a value; an SQL function
-- is inlined with its parameter, which Citus cannot plan)
CREATE FUNCTION pg_temp.snapshot(i bigint) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    r text;
    n bigint;
BEGIN
    SELECT row_to_json(it)::text INTO r FROM workitem.item it WHERE it.id = i;
    SELECT count(*) INTO n FROM workitem.event e WHERE e.item_id = i;
    RETURN r || ' events=' || n;
END $$;

CREATE FUNCTION pg_temp.check_cell(k workitem.kind, f workitem.status, t workitem.status,
                                   allowed boolean) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
    i bigint := pg_temp.item_in(k, f);
    sql text := pg_temp.move_sql(k, i, f, t);
    before text := pg_temp.snapshot(i);
    what text := format('%s %s -> %s', k, f, t);
BEGIN
    IF f = t AND f <> 'waiting' THEN
        -- Not a move: the same status restated is an edit that changes nothing.
        RETURN NEXT lives_ok(sql, what || ': restating the status is not a move');
        RETURN NEXT is(pg_temp.snapshot(i), before, what || ': row and log unchanged');
    ELSIF allowed THEN
        RETURN NEXT lives_ok(sql, what || ': allowed');
        RETURN NEXT is((SELECT status FROM workitem.item WHERE id = i),
                       CASE WHEN k = 'action' AND t = 'resolved' THEN 'closed' ELSE t END,
                       what || ': lands in ' ||
                       CASE WHEN k = 'action' AND t = 'resolved' THEN 'closed (an action closes when resolved)' ELSE t::text END);
    ELSIF f = 'closed' THEN
        RETURN NEXT throws_ok(sql, 'WI009',
                              format('item %s: a closed %s never changes (column status)', i, k),
                              what || ': refused, closed is final (WI009)');
        RETURN NEXT is(pg_temp.snapshot(i), before, what || ': refused move changed nothing');
    ELSE
        RETURN NEXT throws_ok(sql, 'WI001',
                              format('item %s: %s cannot move from %s to %s', i,
                                     CASE k WHEN 'action' THEN 'an action' ELSE 'a ' || k END, f, t),
                              what || ': refused (WI001)');
        RETURN NEXT is(pg_temp.snapshot(i), before, what || ': refused move changed nothing');
    END IF;
END $$;

-- tickets and cases: 2 x 36 cells x 2 tests; actions: 4 reachable
-- from-statuses x 6 x 2 (draft and resolved are never an action's status)
SELECT pg_temp.check_cell(kind, from_s, to_s, allowed)
FROM cell
WHERE NOT (kind = 'action' AND from_s IN ('draft', 'resolved'))
ORDER BY kind, from_s, to_s;

-- closed is final for the operations that make a ticket wait on new items
-- too: split() and launch_case() refuse a closed ticket as the trigger
-- does, and make no child or case (on Citus they check it before making
-- them: test/citus.sh)
SELECT pg_temp.item_in('ticket', 'closed') AS closed_ticket \gset
SELECT pg_temp.snapshot(:closed_ticket) AS closed_before \gset
SELECT throws_ok(format('SELECT workitem.split(%s, ARRAY[''a'', ''b''])', :closed_ticket), 'WI009',
                 format('item %s: a closed ticket never changes', :closed_ticket),
                 'split() of a closed ticket: refused, closed is final (WI009)');
SELECT throws_ok(format('SELECT workitem.launch_case(%s, ''its case'')', :closed_ticket), 'WI009',
                 format('item %s: a closed ticket never changes', :closed_ticket),
                 'launch_case() of a closed ticket: refused, closed is final (WI009)');
SELECT is(pg_temp.snapshot(:closed_ticket), :'closed_before', '... the ticket and its log unchanged');
SELECT is((SELECT count(*)::int FROM workitem.item WHERE parent_id = :closed_ticket), 0,
          '... and no child ticket or case made');

-- 4. Per-kind rules the table alone does not show
-- Actions are never draft: created in to_do whatever the INSERT says, and
-- never created in another status.
SELECT is(pg_temp.status_of(pg_temp.item_in('action', 'to_do')),
          'to_do'::workitem.status, 'a new action is in to_do');
INSERT INTO workitem.item (kind, status, title) VALUES ('case', 'to_do', 'case for drafts');
WITH a AS (INSERT INTO workitem.item (kind, status, case_id, title)
           SELECT 'action', 'draft', max(id), 'asked as draft' FROM workitem.item WHERE kind = 'case'
           RETURNING status)
SELECT is(status, 'to_do'::workitem.status, 'an action inserted as draft is stored in to_do') FROM a;
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, status, case_id, title, assignee)
                         VALUES ('action', 'in_progress', %s, 'x', 'bob')$$,
                        (SELECT max(id) FROM workitem.item WHERE kind = 'case')),
                 'WI001', 'a new action is created in to_do, not in in_progress',
                 'an action is not created in in_progress');

-- Wait types by kind
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'paused' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'to_do')),
                 'WI003', NULL, 'a ticket cannot wait paused');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'paused' WHERE id = %s$$,
                        pg_temp.item_in('action', 'to_do')),
                 'WI003', NULL, 'an action cannot wait paused');
SELECT lives_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'paused' WHERE id = %s$$,
                       pg_temp.item_in('case', 'to_do')),
                'a case can wait paused');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'split' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'to_do')),
                 'WI003', NULL, 'split is reserved to workitem.split()');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'case_launched' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'in_progress')),
                 'WI003', NULL, 'case_launched is reserved to workitem.launch_case()');
SELECT throws_ok(format($$UPDATE workitem.item SET wait_type = 'split' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'waiting')),
                 'WI003', NULL, 'changing a wait to split is refused too');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting' WHERE id = %s$$,
                        pg_temp.item_in('case', 'to_do')),
                 'WI010', NULL, 'waiting needs a wait type');
-- Resolutions by kind
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'rejected' WHERE id = %s$$,
                        pg_temp.item_in('case', 'to_do')),
                 'WI004', NULL, 'a case cannot be rejected');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'customer_response' WHERE id = %s$$,
                        pg_temp.item_in('action', 'in_progress')),
                 'WI004', NULL, 'an action cannot be resolved customer_response');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'split_completed' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'in_progress')),
                 'WI004', NULL, 'split_completed is reserved to the engine');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'in_progress')),
                 'WI004', NULL, 'resolving needs a resolution');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'closed', resolution = 'customer_response' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'in_progress')),
                 'WI004', NULL, 'a direct close takes only a closing resolution');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'closed', resolution = 'no_customer_response' WHERE id = %s$$,
                        pg_temp.item_in('ticket', 'to_do')),
                 'WI004', NULL, 'no_customer_response closes directly only from waiting');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'closed', resolution = 'spam' WHERE id = %s$$,
                        pg_temp.item_in('case', 'to_do')),
                 'WI004', NULL, 'a case cannot be closed as spam');
-- Closing resolutions skip the feedback window; an action's resolution closes it
CREATE TEMP TABLE spam_id AS SELECT pg_temp.item_in('ticket', 'to_do') AS id;
WITH u AS (UPDATE workitem.item SET status = 'resolved', resolution = 'spam'
           WHERE id = (SELECT id FROM spam_id) RETURNING status)
SELECT is(status, 'closed'::workitem.status, 'a ticket resolved as spam is closed at once') FROM u;
SELECT is(status, 'closed'::workitem.status, 'an action resolved unable_to_complete (with a reason) is closed')
FROM (SELECT pg_temp.item_in('action', 'in_progress') id) x,
     LATERAL workitem.resolve(x.id, 'unable_to_complete', 'no parts left') r;
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'unable_to_complete' WHERE id = %s$$,
                        pg_temp.item_in('action', 'in_progress')),
                 'WI014', NULL, 'unable_to_complete needs a reason');
-- Reopening clears the resolution; resolving a second time keeps the first
CREATE TEMP TABLE reopened AS SELECT pg_temp.item_in('ticket', 'resolved') AS id;
CREATE TEMP TABLE first_resolution AS
SELECT first_resolved_at FROM workitem.item WHERE id = (SELECT id FROM reopened);
SELECT is(row(r.status, r.resolution, r.resolved_at IS NULL),
          row('to_do'::workitem.status, NULL::workitem.resolution, true),
          'a reopened ticket with no assignee is to_do, without its resolution')
FROM reopened x, LATERAL workitem.reopen(x.id, 'not fixed') r;
SET LOCAL workitem.actor = 'dora';
SELECT is(row(r.status, r.resolved_by, r.first_resolved_at, r.first_resolved_by),
          row('resolved'::workitem.status, 'dora'::text, f.first_resolved_at, 'tester'::text),
          'resolved again by dora: first_resolved_at and first_resolved_by (tester) are kept')
FROM reopened x, first_resolution f, LATERAL workitem.resolve(x.id, 'customer_response') r;
SET LOCAL workitem.actor = 'tester';

SELECT * FROM finish();
ROLLBACK;
