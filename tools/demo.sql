-- The workitem demo: one ticket's life, each step printed, and a refused move.
\set ON_ERROR_STOP 1
\set QUIET on
\pset footer off
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
SET workitem.actor = 'alice';

\echo
\echo '== Billing tickets keep a 7-day feedback window and need a resolution note'
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'billing', '7 days', true, 3)
ON CONFLICT (kind, category) DO NOTHING;

\echo '== 1. A customer e-mail becomes a draft ticket'
SELECT id AS ticket, status FROM workitem.create_ticket(
    title => 'Invoice 2026-114 charged twice',
    description => 'My card was charged twice for invoice 2026-114.',
    category => 'billing', primary_contact => 'carol@example.com',
    requester => 'carol@example.com', priority => 'high') \gset
SELECT :ticket AS ticket, status FROM workitem.item WHERE id = :ticket;

\echo '== 2. Submitted: it lands in the queue (to_do) with the category defaults'
SELECT status, feedback_window, require_resolution_note, days_to_wait FROM workitem.submit(:ticket);

\echo '== 3. Alice starts it: it is hers, in progress'
SELECT status, assignee FROM workitem.start(:ticket);

\echo '== 4. She asks the customer for the bank statement: waiting for more info (3 days by default)'
SELECT status, wait_type, wait_until::date - now()::date AS days_to_wait
FROM workitem.wait_more_info(:ticket, reason => 'asked for the bank statement');

\echo '== 5. The statement arrives: resumed, back in progress with Alice'
SELECT status, assignee, wait_type FROM workitem.resume(:ticket);

\echo '== 6. A refused move: an in_progress ticket cannot be closed without resolving it'
\set ON_ERROR_STOP 0
SELECT status FROM workitem.close(:ticket);
\echo '== ...and a billing ticket cannot be resolved without a resolution note'
SELECT status FROM workitem.resolve(:ticket, 'customer_response');
\set ON_ERROR_STOP 1

\echo '== 7. Resolved with a note: the feedback window opens for 7 days'
SELECT status, resolution, feedback_until::date - resolved_at::date AS window_days
FROM workitem.resolve(:ticket, 'customer_response', note => 'Refunded the duplicate charge.');

\echo '== 8. The customer says the refund is missing: reopened within the window'
SELECT status, assignee, resolution FROM workitem.reopen(:ticket, 'refund not received');

\echo '== 9. Resolved again; the first resolution is kept'
SELECT status, resolution, first_resolved_at <= resolved_at AS first_resolution_kept
FROM workitem.resolve(:ticket, 'customer_response', note => 'Refund reference RF-88 sent.');

\echo '== 10. Closed: final'
SELECT status, resolution, closed_at IS NOT NULL AS has_closed_at FROM workitem.close(:ticket);

\echo '== 11. A plain UPDATE is held to the same rules'
\set ON_ERROR_STOP 0
UPDATE workitem.item SET status = 'in_progress' WHERE id = :ticket;
\set ON_ERROR_STOP 1

\echo '== The activity log of the ticket'
SELECT id, actor, what, old_value, new_value, reason FROM workitem.history(:ticket);

\echo '== The notes on the ticket'
SELECT direction, channel, body, is_resolution FROM workitem.message WHERE item_id = :ticket ORDER BY id;

\echo '== 12. Time passes: a second ticket waits for a reply that never comes'
SELECT id AS quiet FROM workitem.create_ticket('Receipt for March', 'Please send the receipt again.',
       'billing', 'dave@example.com', 'dave@example.com', submit => true) \gset
SELECT status, wait_type, wait_until::date - now()::date AS days, close_if_no_reply
FROM workitem.wait_more_info(:quiet, 2, close_if_no_reply => true, reason => 'which receipt number?');
\echo '   run_timers() as the background worker would, three days from now:'
SELECT workitem.run_timers(now() + interval '3 days') AS moved;
SELECT status, resolution FROM workitem.item WHERE id = :quiet;
SELECT actor, what, new_value, reason FROM workitem.history(:quiet) WHERE actor = 'system' AND what = 'status';

\echo '== 13. An SLA: urgent tickets are resolved within 4 working hours, Mon-Fri 09:00-17:00 Paris'
INSERT INTO workitem.calendar (name, time_zone) VALUES ('paris-office', 'Europe/Paris') ON CONFLICT DO NOTHING;
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'paris-office', d, '09:00', '17:00' FROM generate_series(1, 5) d ON CONFLICT DO NOTHING;
INSERT INTO workitem.sla_policy (name, kind, priority, calendar) VALUES ('urgent', 'ticket', 'urgent', 'paris-office')
ON CONFLICT (name) DO NOTHING;
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '4 hours' FROM workitem.sla_policy WHERE name = 'urgent' ON CONFLICT DO NOTHING;
SELECT id AS urgent FROM workitem.create_ticket('Card terminal down', 'No payment possible in shop 3',
       'billing', 'erin@example.com', 'erin@example.com', priority => 'urgent', submit => true) \gset
SELECT target, policy, target_time, state, label
FROM workitem.item_sla WHERE item_id = :urgent;
\echo '   waiting for the customer stops the clock; the label says how much was left'
SELECT status FROM workitem.wait_more_info(:urgent, 1, reason => 'which terminal id?');
SELECT state, due_at, label
FROM workitem.item_sla WHERE item_id = :urgent;

\echo '== 14. The same rules on a table that is not ours: attach()'
CREATE SCHEMA IF NOT EXISTS helpdesk;
CREATE TABLE IF NOT EXISTS helpdesk.tickets (id serial PRIMARY KEY, subject text NOT NULL,
       status text NOT NULL DEFAULT 'new', owner text);
SELECT workitem.attach('helpdesk.tickets',
       label_map => '{"new": "draft", "open": "to_do", "working": "in_progress", "solved": "resolved", "closed": "closed"}',
       assignee_column => 'owner') \g /dev/null
INSERT INTO helpdesk.tickets (subject) VALUES ('Printer on fire') RETURNING id AS hd \gset
UPDATE helpdesk.tickets SET status = 'open' WHERE id = :hd;
\set ON_ERROR_STOP 0
UPDATE helpdesk.tickets SET status = 'new' WHERE id = :hd;
\set ON_ERROR_STOP 1
SELECT source, row_key, what, old_value, new_value FROM workitem.activity_log WHERE source = 'helpdesk.tickets'::regclass;

\echo '== 15. Work time: an on-site category whose timer runs while the technician works'
INSERT INTO workitem.category_config (kind, category, feedback_window, auto_timer)
VALUES ('ticket', 'on-site', '7 days', true) ON CONFLICT (kind, category) DO NOTHING;
SELECT id AS site FROM workitem.create_ticket('Router down in branch 4', 'No network since 8:00',
       'on-site', 'gus@example.com', 'gus@example.com', submit => true) \gset
SELECT status, assignee FROM workitem.start(:site);
\echo '   start() started the timer of the assignee'
SELECT item_id, resource, auto FROM workitem.timer WHERE item_id = :site;
\echo '   (the demo moves the start back 40 minutes, as if alice had worked that long)'
UPDATE workitem.timer SET started_at = now() - interval '40 minutes' WHERE item_id = :site;
\echo '   bob starts his own timer; a second click on start changes nothing'
SELECT resource, started_at = now() AS started_now FROM workitem.start_timer(:site, 'bob');
SELECT resource, started_at = now() AS started_now FROM workitem.start_timer(:site, 'bob');
SELECT duration, tracked, note FROM workitem.log_time(:site, '30 minutes', 'travel planning');
\echo '   products and expenses: a spare part, the drive to the site'
SELECT kind, description, quantity, unit_price, currency
FROM workitem.add_expense(:site, 'product', 'Spare router', 1, 89.90, 'EUR');
SELECT kind, description, quantity, unit_price, currency
FROM workitem.add_expense(:site, 'expense', 'Travel, 42 km', 42, 0.30, 'eur');
\echo '   resolving stops every running timer into a tracked entry'
SELECT status FROM workitem.resolve(:site, 'customer_response', 'Replaced the router');
SELECT resource, duration, tracked, note FROM workitem.time_entry WHERE item_id = :site ORDER BY id;
\echo '   a typo fixed: the change is logged with the old and new duration'
UPDATE workitem.time_entry SET duration = '25 minutes' WHERE item_id = :site AND NOT tracked;
SELECT what, old_value, new_value, reason FROM workitem.history(:site)
WHERE what IN ('timer', 'time_entry', 'expense') ORDER BY id;
\echo '   per item and day, for billing'
SELECT day, currency, time_tracked, time_typed, products, expenses
FROM workitem.work_per_day WHERE item_id = :site ORDER BY currency NULLS FIRST;
\echo '   once closed, the work time is frozen'
SELECT status FROM workitem.close(:site);
\set ON_ERROR_STOP 0
UPDATE workitem.time_entry SET duration = '2 hours' WHERE item_id = :site;
\set ON_ERROR_STOP 1
