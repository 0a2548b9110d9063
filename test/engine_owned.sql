-- Issue 18: the engine, not the client, owns the columns that carry rules
-- or provenance. Each attack below was accepted from a member of
-- workitem_agent before; each is now refused with 42501 and changes
-- nothing, while the engine itself, workitem_admin (logged) and the
-- tables' owner (restores, migrations) keep the way they need.
-- The roles are made before the test's transaction and dropped after it:
-- on Citus, CREATE ROLE reaches the workers only outside a transaction.
SET client_min_messages = warning;
DROP ROLE IF EXISTS wi_eo_agent, wi_eo_admin;
CREATE ROLE wi_eo_agent LOGIN IN ROLE workitem_agent;
CREATE ROLE wi_eo_admin LOGIN IN ROLE workitem_admin;
-- On Citus a transaction cannot change users once it wrote the shards (each
-- user has its own connections to the workers: "cannot perform query on
-- placements that were modified in this transaction by a different user"):
-- there every statement commits by itself, the items in a tenant of the
-- test's own, and the end removes what the test made.
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
\if :citus
SET workitem.tenant = 'wi_eo_test';
-- (each test reports, and the end always runs: nothing is left behind)
\set ON_ERROR_STOP 0
\else
BEGIN;
\endif
SELECT plan(51);
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'eo', '7 days', true, 3);
CREATE TEMP TABLE ids (name text PRIMARY KEY, id bigint);
GRANT SELECT, INSERT ON ids TO PUBLIC;
CREATE FUNCTION pg_temp.id(n text) RETURNS bigint LANGUAGE sql AS $$ SELECT id FROM ids WHERE name = n $$;

------------------------------------------------------------------------
-- Squatting ids (first: this session has drawn no id yet, so currval
-- of the sequences is not even defined)
------------------------------------------------------------------------
SET ROLE wi_eo_agent;
SELECT throws_ok($$INSERT INTO workitem.item (id, kind, title) VALUES (900000001, 'case', 'squat')$$, '42501', NULL,
                 'agent: an item id the sequence did not draw is refused, even before any draw in the session');
SELECT throws_ok($$INSERT INTO workitem.time_entry (id, item_id, resource, duration) VALUES (900000001, 1, 'x', '1 hour')$$,
                 '42501', NULL, 'agent: so is a time entry''s');
SELECT lives_ok($$INSERT INTO ids SELECT 't1', id FROM workitem.create_ticket('Agent ticket', 'from the agent', 'eo', 'c@x', 'c@x', submit => true)$$,
                'agent: creates and submits a ticket (ids drawn by the defaults)');
SELECT throws_ok($$INSERT INTO workitem.item (id, kind, title) VALUES (900000001, 'case', 'squat')$$, '42501',
                 'item 900000001: the id of a new item is drawn from workitem.item_id_seq; only the owner of workitem.item gives one',
                 'agent: an item id far ahead of the sequence is refused');
SELECT throws_ok($$INSERT INTO workitem.item (id, kind, title) VALUES (pg_catalog.currval('workitem.item_id_seq') - 1, 'case', 'reuse')$$,
                 '42501', NULL, 'agent: an id drawn before, not the last one drawn, is refused');
SELECT lives_ok($$WITH i AS (INSERT INTO workitem.item (id, kind, title, status)
                  VALUES (pg_catalog.nextval('workitem.item_id_seq'), 'case', 'drawn', 'in_progress') RETURNING id)
                  INSERT INTO ids SELECT 'c1', id FROM i$$,
                'agent: an id drawn from the sequence by this session is taken');
SELECT throws_ok(format($$INSERT INTO workitem.message (id, item_id, direction, channel, body) VALUES (900000001, %s, 'inbound', 'email', 'x')$$,
                        pg_temp.id('t1')), '42501', NULL, 'agent: a message id far ahead of the sequence is refused');
SELECT lives_ok($$INSERT INTO workitem.item (kind, title) SELECT 'case', 'many ' || g FROM generate_series(1, 3) g$$,
                'agent: several items in one INSERT ... SELECT, with their default ids');
RESET ROLE;
SELECT is((SELECT count(*)::int FROM workitem.item WHERE id >= 900000000), 0, 'no squatted item or message was stored');
SELECT lives_ok($$INSERT INTO workitem.item (id, kind, title) VALUES (900000002, 'case', 'migrated')$$,
                'the owner gives any id (a migration)');

------------------------------------------------------------------------
-- Rule columns copied from category_config at submission
------------------------------------------------------------------------
-- the ids as psql variables too, for the queries over the tables (on Citus
-- the coordinator pushes those to the workers, where pg_temp.id() does not exist)
SELECT pg_temp.id('t1') AS t1 \gset
SET ROLE wi_eo_agent;
SELECT is((SELECT (feedback_window, require_resolution_note, days_to_wait)::text FROM workitem.item WHERE id = :t1),
          ROW('7 days'::interval, true, 3)::text, 'the submission copied the category''s rules onto the agent''s ticket');
SELECT is((SELECT status::text FROM workitem.start(pg_temp.id('t1'))), 'in_progress', 'agent: starts it');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'completed', require_resolution_note = false
                          WHERE id = %s$$, pg_temp.id('t1')), '42501',
                 format('item %s: require_resolution_note is copied from workitem.category_config at submission; only workitem_admin may set it', pg_temp.id('t1')),
                 'agent: resolving while clearing require_resolution_note is refused');
SELECT throws_ok(format($$UPDATE workitem.item SET days_to_wait = 400 WHERE id = %s$$, pg_temp.id('t1')), '42501', NULL,
                 'agent: days_to_wait cannot be changed');
SELECT throws_ok(format($$UPDATE workitem.item SET feedback_window = '100 years' WHERE id = %s$$, pg_temp.id('t1')), '42501', NULL,
                 'agent: feedback_window cannot be changed');
SELECT throws_ok(format($$UPDATE workitem.item SET feedback_window = NULL WHERE id = %s$$, pg_temp.id('t1')), '42501', NULL,
                 'agent: feedback_window cannot be cleared (no window: closed at once)');
SELECT throws_ok($$INSERT INTO workitem.item (kind, title, description, category, primary_contact, requester, require_resolution_note)
                   VALUES ('ticket', 'd', 'd', 'eo', 'c', 'c', false)$$, '42501', NULL,
                 'agent: a draft cannot bring its own rules either (submission would keep them)');
SELECT throws_ok($$INSERT INTO workitem.item (kind, status, title, description, category, primary_contact, requester, days_to_wait)
                   VALUES ('ticket', 'to_do', 'd', 'd', 'eo', 'c', 'c', 1)$$, '42501', NULL,
                 'agent: nor a ticket inserted as submitted');
SELECT is((SELECT (status, feedback_window, require_resolution_note, days_to_wait)::text FROM workitem.item WHERE id = :t1),
          ROW('in_progress'::workitem.status, '7 days'::interval, true, 3)::text, 'after the refusals the ticket is as it was');
SELECT throws_ok(format($$SELECT workitem.resolve(%s, 'completed')$$, pg_temp.id('t1')), 'WI005', NULL,
                 'agent: the note is still required');
SELECT lives_ok(format($$UPDATE workitem.item SET title = 'Agent ticket (renamed)', feedback_window = feedback_window WHERE id = %s$$,
                       pg_temp.id('t1')), 'agent: an UPDATE that leaves the rule columns as they are is taken');
RESET ROLE;

SET ROLE wi_eo_admin;
-- (Citus: a transaction of the admin's own, which sends its SET LOCAL to the
-- workers where the trigger logs the actor of this plain UPDATE)
\if :citus
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
\endif
SET LOCAL workitem.actor = 'admin_ada';
SELECT lives_ok(format($$UPDATE workitem.item SET require_resolution_note = false, days_to_wait = 5, change_reason = 'waived'
                         WHERE id = %s$$, pg_temp.id('t1')), 'admin: sets the rule columns of a submitted item');
\if :citus
COMMIT;
\endif
RESET ROLE;
SELECT results_eq(format($$SELECT what, old_value, new_value, actor, reason FROM workitem.event
                           WHERE item_id = %s AND what IN ('require_resolution_note', 'days_to_wait', 'feedback_window')
                           ORDER BY id$$, pg_temp.id('t1')),
                  $$VALUES ('require_resolution_note'::text, 't'::text, 'f'::text, 'admin_ada'::text, 'waived'::text),
                           ('days_to_wait', '3', '5', 'admin_ada', 'waived')$$,
                  'admin: each change is in the log with its old and new value, actor and reason');
SET ROLE wi_eo_agent;
RESET workitem.actor;
SELECT is((SELECT status::text FROM workitem.resolve(pg_temp.id('t1'), 'completed')), 'resolved',
          'agent: resolves without a note once an admin waived it');
RESET ROLE;
SET ROLE wi_eo_admin;
SELECT lives_ok($$WITH i AS (INSERT INTO workitem.item (kind, title, description, category, primary_contact,
                  requester, require_resolution_note) VALUES ('ticket', 'd', 'd', 'eo', 'c', 'c', false) RETURNING id)
                  INSERT INTO ids SELECT 'a1', id FROM i$$,
                'admin: creates a draft with its own rule');
SELECT is((SELECT (status, require_resolution_note, days_to_wait)::text FROM workitem.submit(pg_temp.id('a1'))),
          ROW('to_do'::workitem.status, false, 3)::text, '... which the submission keeps (the other defaults copied)');
RESET ROLE;
SELECT pg_temp.id('a1') AS a1 \gset
SELECT is((SELECT array_agg(concat(what, ':', old_value, '>', new_value) ORDER BY id) FROM workitem.event
           WHERE item_id = :a1 AND what IN ('created', 'require_resolution_note')),
          ARRAY['created:>ticket draft', 'require_resolution_note:>f'], 'admin: a rule given at creation is logged too');
SELECT lives_ok(format($$UPDATE workitem.item SET days_to_wait = 9 WHERE id = %s$$, pg_temp.id('a1')),
                'the owner may set them too');

------------------------------------------------------------------------
-- Forged messages
------------------------------------------------------------------------
SET ROLE wi_eo_agent;
INSERT INTO ids SELECT 't2', id FROM workitem.create_ticket('Second', 'another', 'eo', 'c@x', 'c@x', submit => true);
SELECT pg_temp.id('t2') AS t2 \gset
SELECT is((SELECT status::text FROM workitem.start(pg_temp.id('t2'))), 'in_progress', 'agent: starts a second ticket');
SELECT throws_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, is_resolution)
                          VALUES (%s, 'internal', 'note', 'forged', true)$$, pg_temp.id('t2')), '42501',
                 format('message for item %s: is_resolution is set only by the engine', pg_temp.id('t2')),
                 'agent: a message marked is_resolution is refused');
SELECT throws_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, is_description)
                          VALUES (%s, 'internal', 'note', 'forged', true)$$, pg_temp.id('t2')), '42501', NULL,
                 'agent: a message marked is_description is refused');
SELECT throws_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, at)
                          VALUES (%s, 'outbound', 'email', 'from the future', '2099-01-01')$$, pg_temp.id('t2')), '42501',
                 format('message for item %s: at is the time the message is recorded (%s), not %s', pg_temp.id('t2'), now(),
                        '2099-01-01'::timestamptz),
                 'agent: a message dated in the future is refused');
SELECT throws_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, at)
                          VALUES (%s, 'outbound', 'email', 'backdated', now() - interval '1 day')$$, pg_temp.id('t2')), '42501', NULL,
                 'agent: a backdated message is refused');
SELECT throws_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, at)
                          VALUES (%s, 'outbound', 'email', 'clock', clock_timestamp() + interval '1 hour')$$, pg_temp.id('t2')), '42501', NULL,
                 'agent: any time but the transaction''s is refused');
SELECT is((SELECT count(*)::int FROM workitem.message WHERE item_id = :t2 AND NOT is_description), 0,
          'no forged message was stored');
SELECT throws_ok(format($$SELECT workitem.resolve(%s, 'completed')$$, pg_temp.id('t2')), 'WI005', NULL,
                 'agent: so the note is still missing');
SELECT lives_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, at, is_resolution, is_description)
                         VALUES (%s, 'outbound', 'email', 'the answer', now(), false, false)$$, pg_temp.id('t2')),
                'agent: the defaults written out are taken');
SELECT is((SELECT status::text FROM workitem.resolve(pg_temp.id('t2'), 'completed')), 'resolved',
          'agent: resolves with the message it sent');
SELECT is((SELECT array_agg(body ORDER BY id) FROM workitem.message WHERE item_id = :t2 AND is_resolution),
          ARRAY['the answer'], '... which the engine marked is_resolution');
SELECT throws_ok(format($$INSERT INTO workitem.time_entry (item_id, resource, duration, created_at)
                          VALUES (%s, 'anna', '1 hour', '2099-01-01')$$, pg_temp.id('t2')), '42501', NULL,
                 'agent: a time entry recorded in the future is refused');
SELECT lives_ok(format($$INSERT INTO workitem.time_entry (item_id, resource, duration, started_at)
                         VALUES (%s, 'anna', '1 hour', now() - interval '1 day')$$, pg_temp.id('t2')),
                'agent: when the work started is the agent''s to say');
RESET ROLE;
SELECT lives_ok(format($$INSERT INTO workitem.message (item_id, direction, channel, body, at, is_resolution)
                         VALUES (%s, 'internal', 'note', 'migrated', '2020-01-01', true)$$, pg_temp.id('t2')),
                'the owner may load a message as it is (a migration)');

------------------------------------------------------------------------
-- allowed_wait_types: what a person may choose
------------------------------------------------------------------------
SET ROLE wi_eo_agent;
SELECT is((SELECT array_agg(w::text ORDER BY w) FROM workitem.allowed_wait_types('ticket') w), ARRAY['more_info', 'follow_up'],
          'allowed_wait_types(ticket): no split or case_launched, which only the engine sets');
SELECT is((SELECT array_agg(w::text ORDER BY w) FROM workitem.allowed_wait_types('case') w), ARRAY['more_info', 'follow_up', 'paused'],
          'allowed_wait_types(case)');
SELECT is((SELECT array_agg(w::text ORDER BY w) FROM workitem.allowed_wait_types('action') w), ARRAY['more_info', 'follow_up'],
          'allowed_wait_types(action)');
SELECT ok((SELECT bool_and(w IN (SELECT workitem.allowed_wait_types('ticket'))) FROM unnest(ARRAY['more_info', 'follow_up']::workitem.wait_type[]) w),
          'each listed wait type is one a person may choose');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'split' WHERE id = %s$$, pg_temp.id('c1')), 'WI003', NULL,
                 '... and an unlisted one is refused');
SELECT lives_ok(format($$UPDATE workitem.item SET status = 'waiting', wait_type = 'paused' WHERE id = %s$$, pg_temp.id('c1')),
                'a listed one is taken');
RESET ROLE;

------------------------------------------------------------------------
-- allowed_resolutions: what a person may give (merged is merge()'s,
-- split_completed the engine's)
------------------------------------------------------------------------
SELECT is((SELECT array_agg(r::text ORDER BY r) FROM workitem.allowed_resolutions('ticket') r),
          ARRAY['customer_response', 'no_customer_response', 'rejected', 'spam', 'unknown_sender', 'completed'],
          'allowed_resolutions(ticket): no merged or split_completed');
SELECT is((SELECT array_agg(r::text ORDER BY r) FROM workitem.allowed_resolutions('case') r),
          ARRAY['completed', 'cancelled'], 'allowed_resolutions(case): no merged');
SELECT throws_ok(format($$UPDATE workitem.item SET status = 'resolved', resolution = 'merged' WHERE id = %s$$, pg_temp.id('t1')),
                 'WI004', NULL, '... and merged given by hand is refused');

SELECT * FROM finish();
\if :citus
-- what the test made, as the owner, with the triggers out of the way (an
-- item's log and submitted items are never deleted otherwise)
RESET workitem.actor;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL session_replication_role = replica;
DELETE FROM workitem.sla_clock_event WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.sla_clock WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.timer WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.expense WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.time_entry WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.message WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.event WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.item WHERE tenant = 'wi_eo_test';
DELETE FROM workitem.category_config WHERE category = 'eo';
COMMIT;
RESET workitem.tenant;
\else
ROLLBACK;
\endif
DROP ROLE wi_eo_agent, wi_eo_admin;
