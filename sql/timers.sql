-- Time-driven moves: run_timers(at) with explicit times, so every case is
-- deterministic. The moves themselves are stamped with the real now().
-- A database of its own: items of the other tests must not fall due here.
SET client_min_messages = warning;
DROP DATABASE IF EXISTS workitem_timers;
CREATE DATABASE workitem_timers;
\set suite_db :DBNAME
\c workitem_timers
SET client_min_messages = warning;
CREATE EXTENSION workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'agent1';
CREATE TEMP VIEW sys_events AS
  SELECT item_id, what, old_value, new_value,
         regexp_replace(reason, '\d{4}-\d\d-\d\d [0-9:.+]+', '<time>', 'g') AS reason
    FROM workitem.event WHERE actor = 'system';

INSERT INTO workitem.category_config (kind, category, feedback_window, days_to_wait)
VALUES ('ticket', 'timers', '2 days', 3), ('case', 'timers', '2 days', 3);
CREATE FUNCTION pg_temp.ticket() RETURNS bigint LANGUAGE sql AS
$$ SELECT id FROM workitem.create_ticket('Timer', 'story', 'timers', 'c@x', 'c@x', submit => true) $$;

-- a follow-up reached: back to in_progress (assigned) or to_do, highlighted
SELECT pg_temp.ticket() AS f1 \gset
SELECT pg_temp.ticket() AS f2 \gset
SELECT status FROM workitem.start(:f1);
SELECT status FROM workitem.wait_until(:f1, now() + interval '1 hour', 'call back at 10');
SELECT status FROM workitem.wait_until(:f2, now() + interval '1 hour', 'call back at 10');
-- not yet due
SELECT workitem.run_timers(now() + interval '59 minutes') AS moved;
SELECT workitem.run_timers(now() + interval '61 minutes') AS moved;
SELECT id = :f1 AS f1, status, assignee, highlighted, wait_type, wait_until FROM workitem.item
 WHERE id IN (:f1, :f2) ORDER BY id;
SELECT item_id = :f1 AS f1, what, old_value, new_value,
       reason FROM sys_events WHERE what = 'status' ORDER BY item_id;
-- idempotent: nothing left to do
SELECT workitem.run_timers(now() + interval '61 minutes') AS moved;
-- the flag lasts until a person moves the item
SELECT highlighted FROM workitem.start(:f2);

-- days to wait run out: back, or closed no_customer_response when asked
SELECT pg_temp.ticket() AS m1 \gset
SELECT pg_temp.ticket() AS m2 \gset
SELECT status, days_to_wait FROM workitem.wait_more_info(:m1);
SELECT status FROM workitem.wait_more_info(:m2, 2, close_if_no_reply => true);
SELECT workitem.run_timers(now() + interval '1 day') AS moved;
SELECT workitem.run_timers(now() + interval '2 days 1 minute') AS moved;
SELECT workitem.run_timers(now() + interval '3 days 1 minute') AS moved;
SELECT id = :m1 AS m1, status, resolution, highlighted, closed_at IS NOT NULL AS closed
  FROM workitem.item WHERE id IN (:m1, :m2) ORDER BY id;
SELECT item_id = :m1 AS m1, what, new_value, reason FROM sys_events
 WHERE item_id IN (:m1, :m2) AND what IN ('status', 'resolution') ORDER BY item_id, what;

-- a case cannot be closed no_customer_response: it comes back instead
SELECT id AS c1 FROM workitem.create_case('Case', category => 'timers', submit => true) \gset
SELECT status FROM workitem.wait_more_info(:c1, 1, close_if_no_reply => true);
SELECT workitem.run_timers(now() + interval '1 day 1 minute') AS moved;
SELECT status, resolution, highlighted FROM workitem.item WHERE id = :c1;

-- a wait changed or ended by hand before its time: nothing happens
SELECT pg_temp.ticket() AS h1 \gset
SELECT pg_temp.ticket() AS h2 \gset
SELECT status FROM workitem.wait_until(:h1, now() + interval '1 hour');
SELECT status FROM workitem.wait_until(:h1, now() + interval '5 hours');
SELECT status FROM workitem.wait_more_info(:h2, 1);
SELECT status FROM workitem.resume(:h2);
SELECT workitem.run_timers(now() + interval '2 hours') AS moved;
SELECT status, wait_type FROM workitem.item WHERE id IN (:h1, :h2) ORDER BY id;
SELECT count(*) AS system_events FROM sys_events WHERE item_id IN (:h1, :h2);
SELECT workitem.run_timers(now() + interval '5 hours 1 minute') AS moved;
SELECT status, highlighted FROM workitem.item WHERE id = :h1;

-- a reply just before the days run out wakes the item; the timer finds nothing
SELECT pg_temp.ticket() AS r1 \gset
SELECT status FROM workitem.start(:r1);
SELECT status FROM workitem.wait_more_info(:r1, 1, close_if_no_reply => true);
SELECT workitem.record_message(:r1, 'inbound', 'email', 'Re: Timer', 'here is the log') > 0 AS stored;
SELECT workitem.run_timers(now() + interval '1 day 1 minute') AS moved;
SELECT status, resolution, highlighted FROM workitem.item WHERE id = :r1;
SELECT count(*) AS system_events FROM sys_events WHERE item_id = :r1;

-- a feedback window over: closed
SELECT pg_temp.ticket() AS w1 \gset
SELECT status, feedback_until - resolved_at AS window FROM workitem.resolve(:w1, 'customer_response');
SELECT workitem.run_timers(now() + interval '47 hours') AS moved;
SELECT workitem.run_timers(now() + interval '49 hours') AS moved;
SELECT status, resolution, closed_at IS NOT NULL AS closed FROM workitem.item WHERE id = :w1;
SELECT what, old_value, new_value, reason FROM sys_events WHERE item_id = :w1;
-- a reopened item is not closed by its old window
SELECT pg_temp.ticket() AS w2 \gset
SELECT status FROM workitem.resolve(:w2, 'customer_response');
SELECT status, feedback_until FROM workitem.reopen(:w2, 'not fixed');
SELECT workitem.run_timers(now() + interval '49 hours') AS moved;
SELECT status FROM workitem.item WHERE id = :w2;

-- a split ticket whose children were all finished behind the trigger's back
SELECT pg_temp.ticket() AS s1 \gset
SELECT array_length(workitem.split(:s1, ARRAY['part one', 'part two']), 1) AS children;
SET session_replication_role = replica;
UPDATE workitem.item SET status = 'closed', resolution = 'rejected', resolved_at = now(),
       first_resolved_at = now(), closed_at = now() WHERE parent_id = :s1;
RESET session_replication_role;
SELECT status, wait_type FROM workitem.item WHERE id = :s1;
SELECT workitem.run_timers(now()) AS moved;
SELECT status, resolution FROM workitem.item WHERE id = :s1;
SELECT what, new_value, reason FROM sys_events WHERE item_id = :s1 AND what = 'resolution';

-- max_items bounds one run
SELECT pg_temp.ticket() AS b1 \gset
SELECT pg_temp.ticket() AS b2 \gset
SELECT pg_temp.ticket() AS b3 \gset
SELECT count(*) FROM (SELECT workitem.wait_until(id, now() + interval '1 minute')
                        FROM workitem.item WHERE id IN (:b1, :b2, :b3)) w;
SELECT workitem.run_timers(now() + interval '2 minutes', 2) AS moved;
SELECT workitem.run_timers(now() + interval '2 minutes', 2) AS moved;
SELECT workitem.run_timers(now() + interval '2 minutes', 2) AS moved;

-- an item that cannot move (here a user's trigger refuses it) is reported
-- and skipped; the others of its batch move
CREATE FUNCTION public.refuse_poison() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN IF NEW.title = 'poison' THEN RAISE EXCEPTION 'poison refuses to move' USING ERRCODE = 'P0001'; END IF;
   RETURN NEW; END $$;
SELECT pg_temp.ticket() AS p1 \gset
SELECT pg_temp.ticket() AS p2 \gset
SELECT pg_temp.ticket() AS p3 \gset
SELECT count(*) FROM (SELECT workitem.wait_until(id, now() + interval '1 minute')
                        FROM workitem.item WHERE id IN (:p1, :p2, :p3)) w;
UPDATE workitem.item SET title = 'poison' WHERE id = :p2;
CREATE TRIGGER refuse_poison BEFORE UPDATE ON workitem.item FOR EACH ROW EXECUTE FUNCTION public.refuse_poison();
SELECT workitem.run_timers(now() + interval '2 minutes') AS moved;
SELECT id = :p2 AS poison, status FROM workitem.item WHERE id IN (:p1, :p2, :p3) ORDER BY id;
DROP TRIGGER refuse_poison ON workitem.item;
SELECT workitem.run_timers(now() + interval '2 minutes') AS moved;

-- SLA alarms: each warning threshold and the breach once
INSERT INTO workitem.calendar (name, time_zone) VALUES ('timers-cal', 'UTC') ON CONFLICT DO NOTHING;
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'timers-cal', d, '00:00', '24:00' FROM generate_series(1, 7) d;
INSERT INTO workitem.sla_policy (name, kind, category, calendar, warn_at)
VALUES ('timers', 'ticket', 'timers-sla', 'timers-cal', '{0.5,0.75}') RETURNING id AS pol \gset
INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (:pol, 'resolution', '8 hours');
SELECT id AS q1 FROM workitem.create_ticket('SLA', 'story', 'timers-sla', 'c@x', 'c@x', submit => true) \gset
SELECT state, alarm_at = started_at + interval '4 hours' AS first_alarm_at_half
  FROM workitem.sla_clock WHERE item_id = :q1;
SELECT workitem.run_timers(now() + interval '3 hours 59 minutes') AS moved;
SELECT workitem.run_timers(now() + interval '4 hours 1 minute') AS moved;
SELECT workitem.run_timers(now() + interval '4 hours 2 minutes') AS moved;
SELECT warned, breached_at, alarm_at = started_at + interval '6 hours' AS next_at_three_quarters
  FROM workitem.sla_clock WHERE item_id = :q1;
-- a stopped clock has no alarm
SELECT status FROM workitem.wait_more_info(:q1, 5);
SELECT state, alarm_at FROM workitem.sla_clock WHERE item_id = :q1;
SELECT workitem.run_timers(now() + interval '7 hours') AS moved;
SELECT status FROM workitem.resume(:q1);
-- late run: the 75 % warning and the breach fire together, once each
SELECT workitem.run_timers(now() + interval '9 hours') AS moved;
SELECT workitem.run_timers(now() + interval '10 hours') AS moved;
SELECT warned, breached_at = due_at AS breached_at_due, alarm_at FROM workitem.sla_clock WHERE item_id = :q1;
SELECT what, new_value ~ '^\d{4}-' OR new_value ~ '%$' AS value_ok, reason FROM sys_events
 WHERE item_id = :q1 ORDER BY what, new_value;
SELECT event, reason FROM workitem.sla_clock_event WHERE item_id = :q1 AND event IN ('warning', 'breach')
 ORDER BY id;

-- days to wait run out on an assigned item: back to in_progress, not to_do
SELECT pg_temp.ticket() AS e1 \gset
SELECT status, assignee FROM workitem.start(:e1);
SELECT status FROM workitem.wait_more_info(:e1, 1);
SELECT workitem.run_timers(now() + interval '1 day 1 minute') AS moved;
SELECT status, assignee, highlighted, wait_type FROM workitem.item WHERE id = :e1;
SELECT what, old_value, new_value, reason FROM sys_events WHERE item_id = :e1 AND what = 'status';
-- highlighted lasts until the next status change by a person: a change of
-- priority is not one
UPDATE workitem.item SET priority = 'p2' WHERE id = :e1;
SELECT status, priority, highlighted FROM workitem.item WHERE id = :e1;

-- close if no reply: only an inbound message counts as a reply, an outbound
-- one sent during the wait does not keep the item open
SELECT pg_temp.ticket() AS o1 \gset
SELECT status FROM workitem.wait_more_info(:o1, 1, close_if_no_reply => true);
SELECT workitem.record_message(:o1, 'outbound', 'email', 'Re: Timer', 'a reminder') > 0 AS stored;
SELECT status, wait_type FROM workitem.item WHERE id = :o1;
SELECT workitem.run_timers(now() + interval '1 day 1 minute') AS moved;
SELECT status, resolution, closed_at IS NOT NULL AS closed FROM workitem.item WHERE id = :o1;

-- only more_info stops the SLA clock by default: in a follow_up wait it runs,
-- keeps its alarm, and warns and breaches while the item waits
SELECT id AS q3 FROM workitem.create_ticket('SLA 3', 'story', 'timers-sla', 'c@x', 'c@x', submit => true) \gset
SELECT status, wait_type FROM workitem.wait_until(:q3, now() + interval '5 days', 'call back on Monday');
SELECT state, alarm_at = started_at + interval '4 hours' AS alarm_at_half
  FROM workitem.sla_clock WHERE item_id = :q3;
SELECT workitem.run_timers(now() + interval '9 hours') AS moved;
SELECT warned, breached_at = due_at AS breached_at_due, due_at = started_at + interval '8 hours' AS due_in_8h
  FROM workitem.sla_clock WHERE item_id = :q3;
SELECT status, wait_type FROM workitem.item WHERE id = :q3;
SELECT what, reason FROM sys_events WHERE item_id = :q3 ORDER BY what, new_value;

-- a change of priority that selects another policy moves the alarm with
-- the due time (spec section 3: the due time is recomputed)
INSERT INTO workitem.sla_policy (name, kind, category, priority, calendar, warn_at)
VALUES ('timers-p1', 'ticket', 'timers-sla', 'p1', 'timers-cal', '{0.5}') RETURNING id AS pol1 \gset
INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (:pol1, 'resolution', '2 hours');
SELECT id AS q2 FROM workitem.create_ticket('SLA 2', 'story', 'timers-sla', 'c@x', 'c@x', submit => true) \gset
SELECT alarm_at = started_at + interval '4 hours' AS alarm_at_half_of_8h FROM workitem.sla_clock WHERE item_id = :q2;
UPDATE workitem.item SET priority = 'p1' WHERE id = :q2;
SELECT target_time, alarm_at = started_at + interval '1 hour' AS alarm_at_half_of_2h,
       due_at = started_at + interval '2 hours' AS due_in_2h
  FROM workitem.sla_clock WHERE item_id = :q2;
SELECT workitem.run_timers(now() + interval '61 minutes') AS moved;
SELECT warned FROM workitem.sla_clock WHERE item_id = :q2;

-- a threshold that is no float8 (1/3) fires once: it is kept exactly in
-- warned, so the next run finds it there and neither warns again nor keeps
-- the clock's alarm on it
INSERT INTO workitem.sla_policy (name, kind, category, calendar, warn_at)
VALUES ('timers-third', 'ticket', 'timers-third', 'timers-cal', ARRAY[1/3::numeric]) RETURNING id AS pol3 \gset
INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (:pol3, 'resolution', '9 hours');
SELECT id AS q4 FROM workitem.create_ticket('SLA 4', 'story', 'timers-third', 'c@x', 'c@x', submit => true) \gset
SELECT workitem.run_timers(now() + interval '3 hours 1 minute') AS moved;
SELECT workitem.run_timers(now() + interval '3 hours 2 minutes') AS moved;
SELECT count(*) AS warnings FROM sys_events WHERE item_id = :q4 AND what = 'sla_warning';
SELECT warned = ARRAY[1/3::numeric] AS warned_exactly, alarm_at = due_at AS alarm_at_due
  FROM workitem.sla_clock WHERE item_id = :q4;
-- a clock warned before the fix holds the threshold as float8 made it: no
-- second warning either
UPDATE workitem.sla_clock SET warned = ARRAY[(1/3::numeric)::float8::numeric] WHERE item_id = :q4
RETURNING warned, alarm_at = due_at AS alarm_at_due;
SELECT workitem.run_timers(now() + interval '3 hours 3 minutes') AS moved;
SELECT count(*) AS warnings FROM sys_events WHERE item_id = :q4 AND what = 'sla_warning';

-- a paused case and a ticket whose case was launched wait until a person
-- (or the case) ends the wait: no timer ends them, however late it runs
SELECT id AS c2 FROM workitem.create_case('Paused case', category => 'timers', submit => true) \gset
SELECT status, wait_type, wait_until FROM workitem.pause(:c2, 'waiting for the budget');
SELECT pg_temp.ticket() AS l1 \gset
SELECT workitem.launch_case(:l1, 'Replace the router') IS NOT NULL AS launched;
SELECT status, wait_type, wait_until FROM workitem.item WHERE id = :l1;
SELECT workitem.run_timers(now() + interval '400 days') IS NOT NULL AS ran;
SELECT id = :c2 AS c2, status, wait_type, highlighted FROM workitem.item WHERE id IN (:c2, :l1) ORDER BY id;
SELECT count(*) AS system_events FROM sys_events WHERE item_id IN (:c2, :l1);

-- bad input
SELECT workitem.run_timers(NULL);
SELECT workitem.run_timers(now(), NULL);
SELECT workitem.run_timers('infinity');
SELECT workitem.run_timers(now(), 0);

-- every automatic move is the system's, with a reason
SELECT count(*) FILTER (WHERE reason IS NULL) AS without_reason FROM sys_events;

\c :suite_db
DROP DATABASE workitem_timers;
