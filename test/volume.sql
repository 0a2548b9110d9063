-- Reads that cost what they return (issue 13): transitions finds the time
-- the left status was entered by index, so a filter on at reaches the log;
-- daily_flow_between() and agent_queue() serve a time window and one
-- person's queue with the rows of the views.
BEGIN;
\ir lib/on_every_node.sql
SELECT plan(18);
-- Citus: SET LOCAL reaches the workers (where the triggers run and the
-- log's reads are planned) only when asked to; a placeholder, without
-- effect, elsewhere
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'ann';
INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'vol', '7 days');

-- A story over several days: the log's times are moved back by hand (as
-- the owner), so that times in a status and days differ.
SELECT id AS a FROM workitem.create_ticket('A', 'd', 'vol', 'c', 'r', NULL, true) \gset
SELECT id AS b FROM workitem.create_ticket('B', 'd', 'vol', 'c', 'r', NULL, true) \gset
SELECT id AS c FROM workitem.create_ticket('C', 'd', 'vol', 'c', 'r', NULL, false) \gset
SELECT 1 FROM workitem.start(:a);
SELECT 1 FROM workitem.wait_more_info(:a);
SELECT 1 FROM workitem.resume(:a);
SELECT 1 FROM workitem.resolve(:a, 'customer_response');
SELECT 1 FROM workitem.reopen(:a, 'again');
SELECT 1 FROM workitem.start(:b, 'bob');
SELECT 1 FROM workitem.submit(:c);
-- (not a temporary table: on Citus it is on every node; in a schema off the
-- search_path, so that every reader names it alike; rolled back with the rest)
CREATE SCHEMA vol;
CREATE TABLE vol.jobs (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('vol.jobs');
SELECT workitem.attach('vol.jobs');
INSERT INTO vol.jobs VALUES (1, 'to_do'), (2, 'to_do');
UPDATE vol.jobs SET status = 'in_progress' WHERE id = 1;
DELETE FROM vol.jobs WHERE id = 2;
INSERT INTO vol.jobs VALUES (2, 'to_do');
-- (the story's tenant's log: on Citus each node draws ids from a range of
-- its own, and another tenant's rows a test before left may be on another
-- node; the last id taken first, and by IMMUTABLE steps: Citus refuses a
-- STABLE timestamptz - interval on a column in an UPDATE; in UTC, hours
-- are hours)
SELECT max(id) + 1 AS top FROM workitem.event WHERE tenant = 'default' \gset
UPDATE workitem.event SET at = ((at AT TIME ZONE 'UTC') - (:top - id) * interval '7 hours 13 minutes') AT TIME ZONE 'UTC'
 WHERE tenant = 'default';

-- The 1.1.0 definition (lag() over the whole log), as the reference.
CREATE TEMP VIEW old_transitions AS
WITH changes AS (
    SELECT e.id AS event_id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what, e.reason,
           CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_label,
           CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_label,
           lag(e.at) OVER w AS previous_at
    FROM workitem.event e
    WHERE e.what IN ('created', 'status')
    WINDOW w AS (PARTITION BY e.item_id, e.source, e.row_key ORDER BY e.id)
)
SELECT c.event_id, c.item_id, c.source, c.row_key, COALESCE(i.kind, a.kind) AS kind, c.at, c.actor,
       c.what = 'created' AS is_creation, c.from_label::workitem.status AS from_status,
       c.to_label::workitem.status AS to_status, c.reason, c.previous_at AS entered_previous_at,
       c.at - c.previous_at AS time_in_previous,
       CASE WHEN c.previous_at IS NOT NULL
            THEN workitem.business_time(COALESCE(p.calendar, '24x7'), c.previous_at, c.at) END AS working_time_in_previous
FROM changes c
LEFT JOIN workitem.item i ON i.id = c.item_id
LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
LEFT JOIN workitem.attached_table a ON a.tbl = c.source
WHERE c.to_label = ANY (enum_range(NULL::workitem.status)::text[])
  AND (c.from_label IS NULL OR c.from_label = ANY (enum_range(NULL::workitem.status)::text[]));

SELECT ok((SELECT count(*) FROM workitem.transitions WHERE item_id IN (:a, :b, :c) OR source IS NOT NULL) >= 14,
          'the story has its transitions');
SELECT set_eq($$SELECT event_id, item_id, source, row_key, kind::workitem.kind, at, actor, is_creation,
                     from_status::workitem.status, to_status::workitem.status, reason, entered_previous_at,
                     time_in_previous, working_time_in_previous FROM workitem.transitions$$,
              'SELECT * FROM old_transitions',
              'transitions: every row and column as the lag() definition gave them, attached rows (a key deleted and inserted again) included');
SELECT is((SELECT count(*) FROM workitem.transitions WHERE entered_previous_at IS NOT NULL AND time_in_previous > '0'),
          (SELECT count(*) FROM old_transitions WHERE entered_previous_at IS NOT NULL AND time_in_previous > '0'),
          'and the times in the previous status are real ones');

-- daily_flow_between(): the rows of daily_flow for those days.
SELECT ok((SELECT count(DISTINCT day) FROM workitem.daily_flow) >= 3, 'the story spans several days');
SELECT set_eq($$SELECT * FROM workitem.daily_flow_between(current_date - 3, current_date - 1)$$,
              $$SELECT * FROM workitem.daily_flow WHERE day BETWEEN current_date - 3 AND current_date - 1$$,
              'daily_flow_between(from, to): the rows of daily_flow for those days');
SELECT set_eq($$SELECT * FROM workitem.daily_flow_between(current_date - 100, current_date)$$,
              $$SELECT * FROM workitem.daily_flow$$, 'and all of it over all the days');

-- agent_queue(): one person's queue in the order of the view.
SELECT 1 FROM workitem.create_ticket('D', 'd', 'vol', 'c', 'r', NULL, true);
UPDATE workitem.item SET highlighted = true WHERE id = :c;
SELECT results_eq($$SELECT section, id FROM workitem.agent_queue('ann') ORDER BY section, position$$,
                  $$SELECT section, id FROM workitem.queue WHERE assignee = 'ann' ORDER BY section, position$$,
                  'agent_queue(assignee): the rows of queue for that assignee, in its order');
SELECT results_eq($$SELECT section, id, position FROM workitem.agent_queue(NULL)$$,
                  $$SELECT section, id, row_number() OVER (PARTITION BY section ORDER BY position)
                    FROM workitem.queue WHERE assignee IS NULL ORDER BY section, position$$,
                  'agent_queue(NULL): the unassigned items, position counted within them');
SELECT is((SELECT count(*) FROM workitem.agent_queue(NULL, 1)), 1::bigint, 'max_rows limits the page');

-- inbox(): the inbox's first rows, as the view numbers them. Items under
-- an SLA policy (running clocks, due at different times; one waits with
-- its clock running), without one, flagged ones, ties.
INSERT INTO workitem.sla_policy (name, category) VALUES ('vol-sla', 'sla');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '8 hours' FROM workitem.sla_policy WHERE name = 'vol-sla';
SELECT count(*) FROM (SELECT workitem.create_ticket('S' || g, 'd', CASE WHEN g % 3 = 0 THEN 'vol' ELSE 'sla' END,
                                                    'c', 'r', NULL, true) FROM generate_series(1, 12) g) s;
-- (the ids read first: an operation called in a query over workitem.item
-- would run on its shards, where Citus refuses the operation's own reads)
SELECT array_agg(id) AS s246 FROM workitem.item WHERE title IN ('S2', 'S4', 'S6') \gset
SELECT id AS s4 FROM workitem.item WHERE title = 'S4' \gset
SELECT count(workitem.start(i, 'cy')) FROM unnest(:'s246'::bigint[]) i;
SELECT count(workitem.wait_until(:s4, now() + interval '2 days'));
UPDATE workitem.item SET needs_attention = true, attention_reason = 'x' WHERE title IN ('S5', 'S9');
SET LOCAL session_replication_role = replica;
-- (by IMMUTABLE steps: Citus refuses a STABLE timestamptz +/- interval on a
-- column in an UPDATE; in UTC, hours and minutes are hours and minutes)
UPDATE workitem.sla_clock SET due_at = ((due_at AT TIME ZONE 'UTC') + (item_id % 4) * interval '1 hour') AT TIME ZONE 'UTC'
 WHERE state = 'running';
UPDATE workitem.item SET status_changed_at = ((status_changed_at AT TIME ZONE 'UTC') - (id % 5) * interval '1 minute') AT TIME ZONE 'UTC'
 WHERE title LIKE 'S%';
RESET session_replication_role;
SELECT ok((SELECT count(*) FROM workitem.queue WHERE section = 'inbox' AND resolution_due_at IS NOT NULL) >= 5
          AND EXISTS (SELECT FROM workitem.queue WHERE section = 'waiting' AND resolution_state = 'running'),
          'the inbox has items due at various times, and a waiting item''s clock runs');
SELECT results_eq(format($$SELECT * FROM workitem.inbox(%s)$$, n),
                  format($$SELECT * FROM workitem.queue WHERE section = 'inbox' AND position <= %s ORDER BY position$$, n),
                  format('inbox(%s): the first %s rows of the inbox, as the queue view has them', n, n))
FROM unnest(ARRAY[1, 3, 6, 9, 1000]) n;
SELECT throws_ok('SELECT * FROM workitem.inbox(0)', '22023', 'max_rows must be at least 1, not 0', 'inbox(0) is refused');

-- The filter on at reaches the log: no window function over all of it.
-- (Last: on Citus, after this EXPLAIN, the reads of daily_flow above are
-- refused in the same transaction: "cannot switch local execution status
-- from local execution required to local execution disabled")
CREATE FUNCTION pg_temp.plan_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE l text; r text := '';
BEGIN
  FOR l IN EXECUTE 'EXPLAIN (COSTS OFF) ' || q LOOP r := r || l || E'\n'; END LOOP;
  RETURN r;
END $$;
SET LOCAL enable_seqscan = off;
SELECT unalike(pg_temp.plan_of($$SELECT * FROM workitem.transitions WHERE at >= now() - interval '1 hour'$$),
              '%WindowAgg%', 'transitions of a time window: no window function over the log');
SELECT matches(pg_temp.plan_of($$SELECT * FROM workitem.transitions WHERE at >= now() - interval '1 hour'$$),
               'Index Cond: \(at >=', 'transitions of a time window: the log is read through its time index');
RESET enable_seqscan;

SELECT * FROM finish();
ROLLBACK;
