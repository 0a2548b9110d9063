-- The flow views for rows of attached tables (issue 15): daily_flow,
-- daily_flow_between() and flow_per_day count a row's creation and status
-- events (item_id NULL, labels mapped to ours) under the table's kind,
-- category NULL and source_name the table, next to the items' counts.
-- Days differ: the log's times are moved back by hand.
BEGIN;
SELECT plan(9);
SET LOCAL workitem.actor = 'ann';
SET LOCAL TimeZone = 'UTC';
-- a schema off the search_path: the table's name is schema-qualified in every reader
CREATE SCHEMA av;
CREATE TABLE av.desk (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('av.desk',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "solved": "resolved", "gone": "closed"}');
CREATE FUNCTION pg_temp.day_back() RETURNS void LANGUAGE sql AS $$
    SET session_replication_role = replica;
    UPDATE workitem.event SET at = at - interval '1 day' WHERE source = 'av.desk'::regclass;
    RESET session_replication_role;
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
SELECT results_eq($$SELECT day, kind, created, submitted, resolved, closed, reopened, backlog_change
                    FROM workitem.flow_per_day WHERE source_name = 'av.desk' ORDER BY day$$,
                  $$VALUES (current_date - 2, 'ticket', 3::bigint, 3::bigint, 0::bigint, 0::bigint, 0::bigint, 3::bigint),
                           (current_date - 1, 'ticket', 0, 0, 2, 0, 0, 0),
                           (current_date, 'ticket', 0, 0, 2, 2, 1, -2)$$,
                  'flow_per_day: the attached table every day, its kind and backlog change');
SELECT results_eq($$SELECT day, kind, created, submitted, resolved, closed, reopened, backlog_change
                    FROM workitem.flow_per_day WHERE source_name IS NULL AND created + submitted + resolved > 0$$,
                  $$VALUES (current_date, 'ticket', 1::bigint, 1::bigint, 1::bigint, 1::bigint, 0::bigint, 0::bigint)$$,
                  'flow_per_day: the item counts as before');
SELECT is((SELECT count(*) FROM workitem.flow_per_day), 3::bigint * (3 + 1),
          'flow_per_day: every day, every kind and every attached table, zeros included');
SELECT is((SELECT sum(backlog_change)::bigint FROM workitem.flow_per_day WHERE source_name = 'av.desk'),
          (SELECT count(*) FROM av.desk WHERE status <> 'gone'),
          'the running sum of the table''s backlog_change is its open rows');
-- the column contract: source_name appended, last
SELECT is((SELECT array_agg(c.relname::text ORDER BY 1) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
           WHERE c.relnamespace = 'workitem'::regnamespace AND c.relname IN ('daily_flow', 'flow_per_day')
             AND a.attname = 'source_name' AND a.atttypid = 'text'::regtype
             AND a.attnum = (SELECT max(attnum) FROM pg_attribute WHERE attrelid = c.oid)),
          ARRAY['daily_flow', 'flow_per_day'], 'source_name is the last column of daily_flow and flow_per_day');
SELECT * FROM finish();
ROLLBACK;
