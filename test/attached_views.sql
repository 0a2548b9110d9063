-- The flow views for rows of attached tables (issue 15): daily_flow and
-- daily_flow_between() count a row's creation and status events (item_id
-- NULL, labels mapped to ours) under the table's kind, category NULL and
-- source_name the table, next to the items' counts.
-- Days differ: the log's times are moved back by hand.
BEGIN;
\ir lib/on_every_node.sql
SELECT plan(6);
SET LOCAL workitem.actor = 'ann';
SET LOCAL TimeZone = 'UTC';
-- a schema off the search_path: the table's name is schema-qualified in every reader
CREATE SCHEMA av;
CREATE TABLE av.desk (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('av.desk');
SELECT workitem.attach('av.desk',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "solved": "resolved", "gone": "closed"}');
-- (on Citus too: by IMMUTABLE steps, Citus refuses a STABLE timestamptz -
-- interval on a column in an UPDATE, and in UTC a day is 24 hours; the
-- table by its OID, Citus sends a regclass literal of an UPDATE to the
-- workers by name, where it is the worker's OID, not the log's)
CREATE FUNCTION pg_temp.day_back() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('UPDATE workitem.event SET at = ((at AT TIME ZONE ''UTC'') - interval ''1 day'') AT TIME ZONE ''UTC''
                     WHERE source = %s::oid', 'av.desk'::regclass::oid);
END
$$;

-- two days ago: three rows created (the first log rows), one at work
INSERT INTO av.desk VALUES (1, 'new'), (2, 'new'), (3, 'open');
SELECT pg_temp.day_back();
-- yesterday: two resolved
UPDATE av.desk SET status = 'open' WHERE id IN (1, 2);
UPDATE av.desk SET status = 'solved' WHERE id IN (1, 2);
SELECT pg_temp.day_back();
-- today: 1 reopened and resolved again, 2 closed once resolved, 3 resolved and closed
UPDATE av.desk SET status = 'open' WHERE id = 1;
UPDATE av.desk SET status = 'solved' WHERE id IN (1, 3);
UPDATE av.desk SET status = 'gone' WHERE id IN (2, 3);
-- and an item today, closed at resolve (no feedback window)
SELECT id AS a FROM workitem.create_ticket('A', 'd', 'av', 'c', 'r', NULL, true) \gset
SELECT 1 FROM workitem.start(:a);
SELECT 1 FROM workitem.resolve(:a, 'customer_response');

SELECT results_eq($$SELECT day, kind, category, created, submitted, resolved, closed, reopened
                    FROM workitem.daily_flow WHERE source_name = 'av.desk' ORDER BY day$$,
                  $$VALUES (current_date - 2, 'ticket', NULL::text, 3::bigint, 3::bigint, 0::bigint, 0::bigint, 0::bigint),
                           (current_date - 1, 'ticket', NULL, 0, 0, 2, 0, 0),
                           (current_date, 'ticket', NULL, 0, 0, 2, 2, 1)$$,
                  'daily_flow: the rows of the attached table per day, under its kind, category NULL');
SELECT results_eq($$SELECT day, kind, category, created, submitted, resolved, closed, reopened
                    FROM workitem.daily_flow WHERE source_name IS NULL$$,
                  $$VALUES (current_date, 'ticket', 'av', 1::bigint, 1::bigint, 1::bigint, 1::bigint, 0::bigint)$$,
                  'daily_flow: the item counts as before, source_name NULL');
SELECT set_eq($$SELECT * FROM workitem.daily_flow_between(current_date - 2, current_date)$$,
              $$SELECT * FROM workitem.daily_flow$$,
              'daily_flow_between(): the rows of daily_flow, attached rows included');
SELECT results_eq($$SELECT day, kind, category, resolved, source_name FROM workitem.daily_flow_between(current_date - 1, current_date - 1)$$,
                  $$VALUES (current_date - 1, 'ticket', NULL::text, 2::bigint, 'av.desk')$$,
                  'daily_flow_between(): one day, the attached rows of that day');
-- flow_per_day stays the items' (Citus cannot run its per-day read with the tables beside it)
SELECT results_eq($$SELECT day, kind, created, submitted, resolved, closed, reopened, backlog_change
                    FROM workitem.flow_per_day WHERE created + submitted + resolved + closed + reopened > 0$$,
                  $$VALUES (current_date, 'ticket', 1::bigint, 1::bigint, 1::bigint, 1::bigint, 0::bigint, 0::bigint)$$,
                  'flow_per_day: the items only, as before');
-- the column contract: source_name appended, last
SELECT is((SELECT a.attnum FROM pg_attribute a
           WHERE a.attrelid = 'workitem.daily_flow'::regclass AND a.attname = 'source_name' AND a.atttypid = 'text'::regtype),
          (SELECT max(attnum) FROM pg_attribute WHERE attrelid = 'workitem.daily_flow'::regclass),
          'source_name is the last column of daily_flow');
SELECT * FROM finish();
ROLLBACK;
