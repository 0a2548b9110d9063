-- SLA clocks: started at submission, paused by the wait types that stop
-- them, met at resolution or first outbound message, recomputed when the
-- priority changes, and the reopen policies. Real time passes between
-- statements here (pg_sleep), so results are shown as exact relations.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET timezone = 'Europe/Paris';
INSERT INTO workitem.calendar VALUES ('office', 'Europe/Paris');
INSERT INTO workitem.calendar_hours SELECT 'office', d, '09:00', '17:00' FROM generate_series(1, 5) d;
INSERT INTO workitem.sla_policy (name, kind, calendar) VALUES ('all tickets', 'ticket', '24x7') RETURNING id AS p_all \gset
INSERT INTO workitem.sla_policy (name, kind, category, priority, calendar, reopen_policy)
VALUES ('network P1', 'ticket', 'sla-net', 'P1', '24x7', 'new_cycle') RETURNING id AS p_p1 \gset
INSERT INTO workitem.sla_policy (name, kind, category, calendar, stop_wait_types, reopen_policy)
VALUES ('network', 'ticket', 'sla-net', '24x7', '{more_info,follow_up}', 'reset') RETURNING id AS p_net \gset
INSERT INTO workitem.sla_policy (name, kind, category, calendar) VALUES ('office days', 'ticket', 'sla-days', 'office') RETURNING id AS p_days \gset
INSERT INTO workitem.sla_target (policy_id, target, working_time, business_days, clock_start) VALUES
    (:p_all, 'resolution', '8 hours', NULL, 'submission'),
    (:p_all, 'first_response', '1 hour', NULL, 'submission'),
    (:p_p1, 'resolution', '2 hours', NULL, 'submission'),
    (:p_net, 'resolution', '4 hours', NULL, 'submission'),
    (:p_net, 'first_response', '30 minutes', NULL, 'assignment'),
    (:p_days, 'resolution', NULL, 2, 'submission');
INSERT INTO workitem.category_config (kind, category, feedback_window)
VALUES ('ticket', 'sla-net', '1 day'), ('ticket', 'sla-any', '1 day'), ('ticket', 'sla-days', '1 day');

-- Most specific policy wins; clocks start at submission (or assignment)
SELECT id AS t FROM workitem.create_ticket('Router down', 'Floor 3', 'sla-net', 'a@x', 'a@x', submit => true) \gset
SELECT p.name FROM workitem.item i JOIN workitem.sla_policy p ON p.id = i.sla_policy_id WHERE i.id = :t;
SELECT target, state, target_time, due_at - started_at AS due_in, remaining <= target_time AS counting_down, label LIKE 'Due: %' AS labelled
  FROM workitem.item_sla WHERE item_id = :t ORDER BY target;
SELECT workitem.sla_state(:t, 'first_response') AS pending_until_assigned;
SELECT status FROM workitem.start(:t, 'nina');
SELECT target, state, due_at - started_at AS due_in FROM workitem.item_sla WHERE item_id = :t ORDER BY target;

-- A stopping wait pauses the clock; the due time moves by the stopped time
SELECT due_at AS due0 FROM workitem.sla_clock WHERE item_id = :t AND target = 'resolution' \gset
SELECT status FROM workitem.wait_until(:t, now() + interval '1 day');
SELECT state, due_at, workitem.sla_due_at(:t) AS due, label ~ '^Due: paused [0-9]+ h [0-9]+ m before due date$' AS label_ok
  FROM workitem.item_sla WHERE item_id = :t AND target = 'resolution';
SELECT pg_sleep(1.2);
SELECT status FROM workitem.resume(:t);
SELECT c.due_at - :'due0'::timestamptz = r.at - p.at AS moved_by_the_pause, c.due_at > :'due0'::timestamptz AS later
  FROM workitem.sla_clock c,
       LATERAL (SELECT at FROM workitem.sla_clock_event WHERE clock_id = c.id AND tenant = c.tenant AND event = 'pause') p,
       LATERAL (SELECT at FROM workitem.sla_clock_event WHERE clock_id = c.id AND tenant = c.tenant AND event = 'resume') r
 WHERE c.item_id = :t AND c.target = 'resolution';
-- a wait type that does not stop the clock lets it run
SELECT id AS t2 FROM workitem.create_ticket('Printer', 'jam', 'sla-any', 'b@x', 'b@x', submit => true) \gset
SELECT status FROM workitem.wait_until(:t2, now() + interval '1 day');
SELECT target, state FROM workitem.item_sla WHERE item_id = :t2 ORDER BY target;
SELECT status FROM workitem.wait_more_info(:t2, 2);
SELECT target, state FROM workitem.item_sla WHERE item_id = :t2 ORDER BY target;
SELECT status FROM workitem.resume(:t2);

-- Priority change mid-run: the new target, the working time used kept
SELECT used_working_time AS used_before FROM workitem.item_sla WHERE item_id = :t AND target = 'resolution' \gset
UPDATE workitem.item SET priority = 'P1' WHERE id = :t;
SELECT policy, target_time, used_working_time >= :'used_before'::interval AS used_kept,
       due_at = started_at + target_time + (SELECT sum(r.at - p.at) FROM workitem.sla_clock_event p
            JOIN workitem.sla_clock_event r ON r.clock_id = p.clock_id AND r.tenant = p.tenant AND r.event = 'resume'
            WHERE p.clock_id = (SELECT id FROM workitem.sla_clock WHERE item_id = :t AND target = 'resolution')
              AND p.event = 'pause') AS pauses_kept
  FROM workitem.item_sla WHERE item_id = :t AND target = 'resolution';
SELECT event, reason FROM workitem.sla_clock_event WHERE item_id = :t AND target = 'resolution' ORDER BY id;

-- First outbound message meets first_response; resolution meets resolution
SELECT workitem.record_message(:t, 'outbound', 'email', 'Re', 'Looking into it') > 0 AS sent;
SELECT target, state, label ~ '^Met: [0-9]+ h [0-9]+ m before due date$' AS label_ok FROM workitem.item_sla WHERE item_id = :t ORDER BY target;
SELECT status FROM workitem.resolve(:t, 'customer_response');
SELECT target, state, due_at FROM workitem.item_sla WHERE item_id = :t ORDER BY target;
-- reopen with new_cycle: the finished cycle is kept, a new one starts
SELECT status FROM workitem.reopen(:t);
SELECT target, cycle, state, used_working_time < interval '1 minute' AS fresh FROM workitem.item_sla WHERE item_id = :t ORDER BY target;
SELECT cycle, state FROM workitem.sla_clock WHERE item_id = :t AND target = 'resolution' ORDER BY cycle;

-- reopen with continue: the clock resumes with the time already used
SELECT id AS t3 FROM workitem.create_ticket('Mail', 'slow', 'sla-any', 'c@x', 'c@x', submit => true) \gset
SELECT pg_sleep(0.5);
SELECT status FROM workitem.resolve(:t3, 'customer_response');
SELECT used AS used_at_resolve FROM workitem.sla_clock WHERE item_id = :t3 AND target = 'resolution' \gset
SELECT status FROM workitem.reopen(:t3);
SELECT cycle, state, used = :'used_at_resolve'::interval AS used_kept, used > interval '0.4 s' AS counted
  FROM workitem.sla_clock WHERE item_id = :t3 AND target = 'resolution';

-- Business days: due at the end of the Nth working day
SELECT id AS t4 FROM workitem.create_ticket('Desk', 'broken', 'sla-days', 'd@x', 'd@x', submit => true) \gset
SELECT due_at = workitem.end_of_working_day('office', started_at, 2) AS end_of_second_day,
       extract(hour FROM due_at AT TIME ZONE 'Europe/Paris') AS hour  -- the office's hour (a worker has its own TimeZone)
  FROM workitem.sla_clock WHERE item_id = :t4 AND target = 'resolution';

-- Overdue: remaining is negative and the state is breached (projected)
SELECT workitem.sla_remaining(:t2, 'resolution', now() + interval '9 hours') < interval '0' AS negative,
       workitem.sla_state(:t2, 'resolution', now() + interval '9 hours') AS state_later,
       workitem.sla_state(:t2, 'resolution', now() + interval '5 hours') AS state_at_62_percent;
-- An item with no policy has no clock
SELECT id AS t5 FROM workitem.create_case('No SLA here', submit => true) \gset
SELECT workitem.sla_state(:t5) AS state, workitem.sla_due_at(:t5) AS due, workitem.sla_label(:t5) AS label;
-- Labels of a stopped clock, exactly as the contract words them
SELECT workitem.clock_label('paused', '24x7', '8 hours', '5 hours 55 minutes', NULL, NULL, now()) AS before,
       workitem.clock_label('paused', '24x7', '8 hours', '9 hours 3 minutes', NULL, NULL, now()) AS after;
-- in the database's time zone: on Citus the view's day is computed on the workers
RESET timezone;
SELECT day = current_date AS today, policy, target, met, missed FROM workitem.sla_breaches
 WHERE policy IN ('all tickets', 'network', 'network P1') ORDER BY policy, target;
SET timezone = 'Europe/Paris';
-- Time in each status, from the log
SELECT status, times_entered, wall_clock >= working_time AS wall_covers_working
  FROM workitem.status_durations WHERE item_id = :t ORDER BY status::workitem.status;  -- text in the view: the enum orders by the lifecycle

-- Labels are for people (issue 18): the due time to the minute (seconds
-- dropped), in the session's TimeZone with its abbreviation; before, the
-- label printed microseconds, "Due: 2026-11-30 15:30:25.595132+00".
SET timezone = 'UTC';
SELECT workitem.clock_label('running', '24x7', '8 hours', '0', '2026-11-30 07:30+00',
                            '2026-11-30 15:30:25.595132+00', '2026-11-30 08:00+00') AS label_utc;
SET timezone = 'Europe/Paris';
SELECT workitem.clock_label('running', '24x7', '8 hours', '0', '2026-11-30 07:30+00',
                            '2026-11-30 15:30:25.595132+00', '2026-11-30 08:00+00') AS label_paris_winter,
       workitem.clock_label('running', '24x7', '8 hours', '0', '2026-07-01 07:30+00',
                            '2026-07-01 15:30:59.999999+00', '2026-07-01 08:00+00') AS label_paris_summer;
SET timezone = 'America/Sao_Paulo';
SELECT workitem.clock_label('running', '24x7', '8 hours', '0', '2026-11-30 07:30+00',
                            '2026-11-30 15:30:25+00', '2026-11-30 08:00+00') AS label_numeric_zone;
SET timezone = 'Europe/Paris';
SELECT workitem.sla_label(:t2) ~ '^Due: \d{4}-\d\d-\d\d \d\d:\d\d CES?T$' AS item_label_to_the_minute;
