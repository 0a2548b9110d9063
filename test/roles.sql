-- Roles and privileges: what workitem_reader, workitem_agent and
-- workitem_admin can and cannot do, through login roles that are members
-- (SET ROLE), and that PUBLIC gets nothing.
-- The roles are made before the test's transaction and dropped after it:
-- on Citus, CREATE ROLE reaches the workers only outside a transaction.
SET client_min_messages = warning;
DROP TABLE IF EXISTS public.roles_tickets;
DROP ROLE IF EXISTS wi_t_reader, wi_t_agent, wi_t_admin, wi_t_nobody;
CREATE ROLE wi_t_reader LOGIN IN ROLE workitem_reader;
CREATE ROLE wi_t_agent LOGIN IN ROLE workitem_agent;
CREATE ROLE wi_t_admin LOGIN IN ROLE workitem_admin;
CREATE ROLE wi_t_nobody LOGIN;
-- On Citus a transaction cannot change users once it wrote the shards (each
-- user has its own connections to the workers: "cannot perform query on
-- placements that were modified in this transaction by a different user"):
-- there every statement commits by itself, the items in a tenant of the
-- test's own, and the end removes what the test made.
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
\if :citus
SET workitem.tenant = 'wi_roles_test';
-- (each test reports, and the end always runs: nothing is left behind)
\set ON_ERROR_STOP 0
\else
BEGIN;
\endif
SELECT plan(65);

-- Set-up as the owner: a calendar and an SLA policy for the category, so
-- the agent's moves start, pause and stop clocks (SPI in the trigger).
INSERT INTO workitem.calendar (name, time_zone) VALUES ('roles_cal', 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'roles_cal', d, '00:00', '24:00' FROM generate_series(1, 7) d;
INSERT INTO workitem.sla_policy (name, category, calendar) VALUES ('roles_policy', 'roles', 'roles_cal');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, t, '8 hours' FROM workitem.sla_policy, unnest(ARRAY['resolution', 'first_response']) t
WHERE name = 'roles_policy';
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'roles', '7 days', true, 2);
CREATE TEMP TABLE ids (name text PRIMARY KEY, id bigint);
GRANT SELECT, INSERT ON ids TO PUBLIC;
INSERT INTO ids SELECT 'owned', id FROM workitem.create_ticket('Owned', 'by the owner', 'roles', 'c@x', 'c@x', submit => true);
CREATE TABLE public.roles_tickets (id int PRIMARY KEY, status text NOT NULL DEFAULT 'draft');
ALTER TABLE public.roles_tickets OWNER TO wi_t_admin;

------------------------------------------------------------------------
-- PUBLIC and a role with no workitem role
------------------------------------------------------------------------
SELECT is((SELECT count(*)::int FROM pg_proc p
           WHERE p.pronamespace = 'workitem'::regnamespace
             AND (p.proacl IS NULL OR EXISTS (SELECT 1 FROM aclexplode(p.proacl) a
                                              WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))),
          0, 'PUBLIC may execute no function of the schema');
SELECT is((SELECT count(*)::int FROM pg_class c
           WHERE c.relnamespace = 'workitem'::regnamespace AND c.relkind IN ('r', 'v', 'S')
             AND EXISTS (SELECT 1 FROM aclexplode(c.relacl) a WHERE a.grantee = 0)),
          0, 'PUBLIC has no privilege on any table, view or sequence');
SELECT is((SELECT count(*)::int FROM pg_proc WHERE pronamespace = 'workitem'::regnamespace AND prosecdef),
          0, 'no function is SECURITY DEFINER');
SELECT is((SELECT array_agg(rolname::text ORDER BY rolname) FROM pg_roles
           WHERE rolname IN ('workitem_reader', 'workitem_agent', 'workitem_admin') AND NOT rolcanlogin),
          ARRAY['workitem_admin', 'workitem_agent', 'workitem_reader'], 'the three roles exist, NOLOGIN');
SELECT is((SELECT count(*)::int FROM aclexplode((SELECT relacl FROM pg_class WHERE oid = 'workitem.event'::regclass))
           WHERE grantee <> (SELECT relowner FROM pg_class WHERE oid = 'workitem.event'::regclass)),
          0, 'nobody but the owner has a privilege on workitem.event');

SET ROLE wi_t_nobody;
SELECT throws_ok('SELECT workitem.actor()', '42501', NULL, 'without a role: no use of the schema');
SELECT throws_ok('SELECT count(*) FROM workitem.items', '42501', NULL, 'without a role: no view');
RESET ROLE;

------------------------------------------------------------------------
-- workitem_reader
------------------------------------------------------------------------
SET ROLE wi_t_reader;
SELECT is((SELECT count(*)::int FROM workitem.items WHERE id = (SELECT id FROM ids WHERE name = 'owned')),
          1, 'reader: reads workitem.items');
SELECT is((SELECT resolution_state FROM workitem.items WHERE id = (SELECT id FROM ids WHERE name = 'owned')),
          'running', 'reader: the SLA columns work (calendar read as the reader)');
SELECT lives_ok('SELECT * FROM workitem.queue', 'reader: reads workitem.queue');
SELECT lives_ok('SELECT * FROM workitem.transitions', 'reader: reads workitem.transitions (working time)');
SELECT lives_ok('SELECT * FROM workitem.daily_flow', 'reader: reads workitem.daily_flow');
SELECT lives_ok('SELECT * FROM workitem.item_sla, workitem.status_durations', 'reader: reads item_sla and status_durations');
SELECT ok(workitem.can_transition('ticket', 'to_do', 'in_progress'), 'reader: calls can_transition');
SELECT throws_ok('SELECT * FROM workitem.item', '42501', NULL, 'reader: no SELECT on the table workitem.item');
\if :citus
-- on Citus the reader may SELECT the columns the views show or join on
-- (workitem.distribute(): Citus runs the views' shard queries as the
-- reader), the log's all (activity_log shows them), an item's not all
SELECT throws_ok('SELECT description FROM workitem.item', '42501', NULL,
                 'reader on Citus: no SELECT on a column no view shows (an item''s description)');
\else
SELECT throws_ok('SELECT * FROM workitem.event', '42501', NULL, 'reader: no SELECT on workitem.event');
\endif
SELECT throws_ok(format('SELECT workitem.resolve(%s, ''customer_response'', ''done'')', (SELECT id FROM ids WHERE name = 'owned')),
                 '42501', NULL, 'reader: cannot call resolve');
SELECT throws_ok('SELECT workitem.create_ticket(''x'')', '42501', NULL, 'reader: cannot create a ticket');
SELECT lives_ok('SELECT * FROM workitem.work_per_day', 'reader: reads workitem.work_per_day');
SELECT throws_ok('SELECT workitem.start_timer(1)', '42501', NULL, 'reader: cannot start a timer');
SELECT throws_ok('SELECT * FROM workitem.expense', '42501', NULL, 'reader: no SELECT on workitem.expense');
SELECT throws_ok(format('UPDATE workitem.item SET priority = ''high'' WHERE id = %s', (SELECT id FROM ids WHERE name = 'owned')),
                 '42501', NULL, 'reader: cannot UPDATE items');
RESET ROLE;

------------------------------------------------------------------------
-- workitem_agent: a whole story, and what stays out of reach
------------------------------------------------------------------------
SET ROLE wi_t_agent;
SET workitem.actor = 'agent_anna';
SELECT lives_ok($$INSERT INTO ids SELECT 't1', id FROM workitem.create_ticket('Agent ticket', 'from the agent', 'roles', 'c@x', 'c@x')$$,
                'agent: create_ticket');
SELECT is((SELECT status FROM workitem.submit((SELECT id FROM ids WHERE name = 't1'))), 'to_do', 'agent: submit');
SELECT is((SELECT status FROM workitem.start((SELECT id FROM ids WHERE name = 't1'))), 'in_progress', 'agent: start (assigns the actor)');
SELECT is((SELECT state FROM workitem.sla_clock WHERE item_id = (SELECT id FROM ids WHERE name = 't1') AND target = 'resolution'),
          'running', 'agent: the SLA clock was started by the trigger');
SELECT is((SELECT status FROM workitem.wait_more_info((SELECT id FROM ids WHERE name = 't1'))), 'waiting', 'agent: wait_more_info (pauses the clock)');
SELECT lives_ok(format($$SELECT workitem.record_message(%s, 'inbound', 'email', 'Re', 'here it is')$$, (SELECT id FROM ids WHERE name = 't1')),
                'agent: an inbound message');
SELECT is((SELECT status FROM workitem.item WHERE id = (SELECT id FROM ids WHERE name = 't1')), 'in_progress',
          'agent: ... which woke the item');
SELECT lives_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body) VALUES (%s, 'outbound', 'email', 'Answer')$$,
                       (SELECT id FROM ids WHERE name = 't1')), 'agent: a plain INSERT of an outbound message');
SELECT is((SELECT status FROM workitem.resolve((SELECT id FROM ids WHERE name = 't1'), 'customer_response')), 'resolved',
          'agent: resolve (the outbound message is the resolution note)');
SELECT is((SELECT count(*)::int FROM workitem.message WHERE item_id = (SELECT id FROM ids WHERE name = 't1') AND is_resolution),
          1, 'agent: the trigger marked the note is_resolution');
SELECT is((SELECT status FROM workitem.reopen((SELECT id FROM ids WHERE name = 't1'), 'not fixed')), 'in_progress', 'agent: reopen');
SELECT lives_ok(format($$SELECT workitem.log_time(%s, '25 minutes', 'call')$$, (SELECT id FROM ids WHERE name = 't1')), 'agent: log_time');
SELECT is((SELECT count(*)::int FROM workitem.split((SELECT id FROM workitem.create_ticket('Split me', 'x', 'roles', 'c@x', 'c@x', submit => true)),
                                                    ARRAY['a', 'b']) s, unnest(s)), 2, 'agent: split');
SELECT cmp_ok((SELECT count(*)::int FROM workitem.history((SELECT id FROM ids WHERE name = 't1'))), '>=', 10,
              'agent: history() reads the log (through activity_log)');
SELECT is(workitem.sla_state((SELECT id FROM ids WHERE name = 't1'), 'first_response'), 'met', 'agent: sla_state');
SELECT is((SELECT kind FROM workitem.create_action((workitem.create_case('Agent case', 'x', 'roles', NULL, true)).id,
                                                   'Agent action')), 'action', 'agent: create_action');
SELECT throws_ok(format('UPDATE workitem.sla_clock SET breached_at = NULL, used = ''0'' WHERE item_id = %s',
                        (SELECT id FROM ids WHERE name = 't1')), '42501', NULL, 'agent: cannot rewrite an SLA clock');
SELECT throws_ok(format($$INSERT INTO workitem.sla_clock_event (clock_id, item_id, target, cycle, event, used, reason)
                          SELECT id, item_id, target, cycle, 'met', used, 'forged' FROM workitem.sla_clock WHERE item_id = %s$$,
                        (SELECT id FROM ids WHERE name = 't1')), '42501', NULL, 'agent: cannot log a clock event by hand');
SELECT throws_ok(format('UPDATE workitem.message SET is_resolution = false WHERE item_id = %s', (SELECT id FROM ids WHERE name = 't1')),
                 '42501', NULL, 'agent: cannot unmark the resolution note');
SELECT throws_ok('SELECT workitem.run_timers(now())', '42501', NULL, 'agent: cannot run the timers');
SELECT throws_ok($$SELECT workitem.import_holidays('roles_cal', '')$$, '42501', NULL, 'agent: cannot import holidays');
SELECT throws_ok(format('UPDATE workitem.event SET actor = ''nobody'' WHERE item_id = %s', (SELECT id FROM ids WHERE name = 't1')),
                 '42501', NULL, 'agent: cannot UPDATE workitem.event');
SELECT throws_ok('DELETE FROM workitem.event', '42501', NULL, 'agent: cannot DELETE events');
SELECT throws_ok($$INSERT INTO workitem.event (item_id, actor, what) VALUES (1, 'x', 'status')$$, '42501', NULL,
                 'agent: cannot INSERT events by hand');
SELECT throws_ok('ALTER TABLE workitem.item DISABLE TRIGGER zz_workitem_enforce', '42501', NULL,
                 'agent: cannot ALTER TABLE workitem.item DISABLE TRIGGER');
SELECT throws_ok(format('UPDATE workitem.message SET body = ''rewritten'' WHERE item_id = %s', (SELECT id FROM ids WHERE name = 't1')),
                 '42501', NULL, 'agent: cannot rewrite a message');
SELECT throws_ok($$INSERT INTO workitem.calendar (name, time_zone) VALUES ('agent_cal', 'UTC')$$, '42501', NULL,
                 'agent: cannot add a calendar');
SELECT throws_ok($$DELETE FROM workitem.calendar_holiday$$, '42501', NULL, 'agent: cannot change holidays');
SELECT throws_ok($$UPDATE workitem.sla_policy SET calendar = '24x7'$$, '42501', NULL, 'agent: cannot change a policy');
SELECT throws_ok($$UPDATE workitem.sla_target SET working_time = '1 hour'$$, '42501', NULL, 'agent: cannot change a target');
SELECT throws_ok($$UPDATE workitem.category_config SET require_resolution_note = false$$, '42501', NULL,
                 'agent: cannot change category_config');
SELECT throws_ok($$SELECT workitem.attach('public.roles_tickets')$$, '42501', NULL, 'agent: cannot attach');
RESET ROLE;

------------------------------------------------------------------------
-- workitem_admin
------------------------------------------------------------------------
SET ROLE wi_t_admin;
SELECT lives_ok($$INSERT INTO workitem.calendar (name, time_zone) VALUES ('admin_cal', 'America/New_York');
                  INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends) VALUES ('admin_cal', 1, '09:00', '17:00');
                  INSERT INTO workitem.calendar_holiday (calendar, day, name) VALUES ('admin_cal', '2026-12-25', 'Christmas')$$,
                'admin: adds a calendar with hours and a holiday');
SELECT lives_ok($$INSERT INTO workitem.sla_policy (name, category, calendar) VALUES ('admin_policy', 'admin', 'admin_cal');
                  INSERT INTO workitem.sla_target (policy_id, target, business_days)
                  SELECT id, 'resolution', 2 FROM workitem.sla_policy WHERE name = 'admin_policy'$$,
                'admin: adds an SLA policy and a target');
SELECT lives_ok($$UPDATE workitem.category_config SET days_to_wait = 5 WHERE category = 'roles'$$, 'admin: changes category_config');
\if :citus
SELECT skip('Citus: public.roles_tickets is the coordinator''s alone (attach() fails on the workers)', 3);
\else
SELECT lives_ok($$SELECT workitem.attach('public.roles_tickets')$$, 'admin: attaches a table it owns');
SELECT throws_ok($$INSERT INTO public.roles_tickets (id, status) VALUES (1, 'waiting')$$, 'WI001', NULL,
                 '... and the attached trigger enforces the graph');
SELECT lives_ok($$SELECT workitem.detach('public.roles_tickets')$$, 'admin: detaches it');
\endif
SELECT is((SELECT status FROM workitem.resolve((SELECT id FROM ids WHERE name = 'owned'), 'customer_response', 'Done')),
          'resolved', 'admin: is an agent too (resolve)');
SELECT throws_ok('DELETE FROM workitem.event', '42501', NULL, 'admin: cannot DELETE events either');
-- t1 was reopened: its resolution clock runs, 8 working hours, due long before a year from now
SELECT cmp_ok(workitem.run_timers(now() + interval '1 year'), '>=', 1, 'admin: run_timers');
SELECT isnt((SELECT breached_at FROM workitem.sla_clock WHERE item_id = (SELECT id FROM ids WHERE name = 't1')
              AND target = 'resolution' AND state = 'running'), NULL,
            '... which flagged the breach of a running clock (written as the schema owner)');
SELECT is(workitem.import_holidays('admin_cal', E'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:roles@example.com\r\n'
                                                 'DTSTART;VALUE=DATE:20270101\r\nDTEND;VALUE=DATE:20270102\r\nSUMMARY:New year\r\n'
                                                 'END:VEVENT\r\nEND:VCALENDAR\r\n'), 1, 'admin: import_holidays');
RESET ROLE;

SELECT * FROM finish();
\if :citus
-- what the test made, as the owner, with the triggers out of the way (an
-- item's log, clocks and closed items are never deleted otherwise)
RESET workitem.actor;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL session_replication_role = replica;
DELETE FROM workitem.sla_clock_event WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.sla_clock WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.timer WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.expense WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.time_entry WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.message WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.event WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.item WHERE tenant = 'wi_roles_test';
DELETE FROM workitem.sla_target WHERE policy_id IN (SELECT id FROM workitem.sla_policy WHERE name IN ('roles_policy', 'admin_policy'));
DELETE FROM workitem.sla_policy WHERE name IN ('roles_policy', 'admin_policy');
DELETE FROM workitem.category_config WHERE category = 'roles';
DELETE FROM workitem.calendar_holiday WHERE calendar IN ('roles_cal', 'admin_cal');
DELETE FROM workitem.calendar_hours WHERE calendar IN ('roles_cal', 'admin_cal');
DELETE FROM workitem.calendar WHERE name IN ('roles_cal', 'admin_cal');
COMMIT;
DROP TABLE public.roles_tickets;
RESET workitem.tenant;
\else
ROLLBACK;
\endif
DROP ROLE wi_t_reader, wi_t_agent, wi_t_admin, wi_t_nobody;
