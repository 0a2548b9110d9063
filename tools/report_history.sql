-- make report: eight weeks of history for the dashboard, before the demo
-- story (tools/demo.sql); the first item is the oldest, as the day
-- dimension starts at the day of the first log row. Tickets go through the real operations; then,
-- as the owner, their log and clocks are moved back in time (each item to
-- a day of its own, its moves hours apart), as a database weeks old would
-- have them. Deterministic (setseed).
\set ON_ERROR_STOP 1
\set QUIET on
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
SET workitem.actor = 'report';
SELECT setseed(0.17);
INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'support', '90 days')
ON CONFLICT (kind, category) DO NOTHING;
INSERT INTO workitem.calendar (name, time_zone) VALUES ('paris-office', 'Europe/Paris') ON CONFLICT DO NOTHING;
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'paris-office', d, '09:00', '17:00' FROM generate_series(1, 5) d ON CONFLICT DO NOTHING;
INSERT INTO workitem.sla_policy (name, kind, category, calendar) VALUES ('support', 'ticket', 'support', 'paris-office')
ON CONFLICT (name) DO NOTHING;
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '8 hours' FROM workitem.sla_policy WHERE name = 'support' ON CONFLICT DO NOTHING;
CREATE TEMP TABLE hist AS
SELECT (workitem.create_ticket('Support request ' || g, 'Question ' || g, 'support', 'c' || g || '@example.com',
                               'c' || g || '@example.com', submit => true)).id AS id,
       g, CASE WHEN g = 1 THEN 56 ELSE (random() * 55)::int END AS age_days, random() AS fate
FROM generate_series(1, 420) g;
SELECT count(workitem.start(id, 'agent' || (g % 4))) FROM hist WHERE fate < 0.93;
SELECT count(workitem.wait_more_info(id)) FROM hist WHERE fate < 0.3;
SELECT count(workitem.resume(id)) FROM hist WHERE fate < 0.25;
SELECT count(workitem.resolve(id, 'customer_response')) FROM hist WHERE fate < 0.82 AND (fate >= 0.3 OR fate < 0.25);
SELECT count(workitem.close(id)) FROM hist WHERE fate < 0.7 AND (fate >= 0.3 OR fate < 0.25);
-- back in time: the item's first move on its day at 08:00 plus some hours,
-- each later move 1 to 20 hours after the one before
SET session_replication_role = replica;
CREATE TEMP TABLE moved AS
SELECT e.id, date_trunc('day', now()) - h.age_days * interval '1 day' + interval '8 hours'
       + sum(CASE WHEN e.what IN ('created', 'status') THEN interval '1 hour' * (1 + random() * 19) ELSE interval '1 second' END)
             OVER (PARTITION BY e.item_id ORDER BY e.id) AS at
FROM workitem.event e JOIN hist h ON h.id = e.item_id;
UPDATE workitem.event e SET at = m.at FROM moved m WHERE m.id = e.id;
UPDATE workitem.item i SET created_at = f.first, submitted_at = f.first, status_changed_at = f.last
FROM (SELECT item_id, min(at) AS first, max(at) AS last FROM workitem.event GROUP BY item_id) f, hist h
WHERE f.item_id = i.id AND h.id = i.id;
-- the resolution clocks: stopped at the resolution, met within 8 working hours
UPDATE workitem.sla_clock c SET started_at = i.submitted_at, stopped_at = r.at,
       used = interval '1 hour' * (0.5 + random() * 13 * (0.3 + h.fate)),
       state = 'met', due_at = NULL, since = NULL
FROM hist h JOIN workitem.item i ON i.id = h.id
JOIN LATERAL (SELECT max(e.at) AS at FROM workitem.event e WHERE e.item_id = h.id AND e.what = 'status'
              AND e.new_value = 'resolved') r ON r.at IS NOT NULL
WHERE c.item_id = h.id AND c.target = 'resolution';
UPDATE workitem.sla_clock c SET state = 'missed' FROM hist h
WHERE c.item_id = h.id AND c.state = 'met' AND c.used > interval '8 hours';
RESET session_replication_role;
