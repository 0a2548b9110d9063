-- Tenants (issue 14): every table of an item has a tenant column, from
-- workitem.tenant (default 'default'); the rows the engine writes for an
-- item take the item's tenant, not the setting; items of two tenants never
-- relate (WI023); an item's tenant never changes (WI011); distribute()
-- without Citus says so, and is nobody's but the owner's.
-- citus: a database distributed by Citus, where some tests are Citus's own
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
\if :citus
-- On Citus a shard's trigger reads another tenant's item on another worker
-- in a transaction of its own (Citus's nested execution): it sees the item
-- once committed, not while the transaction that wrote it is open (README
-- "Scale out with Citus"). The items the refusals across tenants name are
-- committed first, and removed at the end.
SELECT (workitem.create_case('Default case', NULL, NULL, NULL, true)).id AS dc_id \gset
SELECT id AS d_id FROM workitem.create_ticket('Printer', 'It jams', 'hardware', 'a@x', 'a@x', NULL, true) \gset
SET workitem.tenant = 'acme';
SELECT (workitem.create_case('Rollout', 'Laptops', 'it', NULL, true)).id AS ac_id \gset
RESET workitem.tenant;
\endif
BEGIN;
SELECT plan(45);
SET LOCAL workitem.actor = 'tess';

SELECT is(workitem.current_tenant(), 'default', 'workitem.tenant defaults to ''default''');
SELECT throws_ok($$SET LOCAL workitem.tenant = ''$$, '22023', NULL, 'an empty tenant is refused');

-- an SLA policy for every kind, so that the items below have clocks
INSERT INTO workitem.sla_policy (name) VALUES ('tenant-test');
INSERT INTO workitem.sla_target (policy_id, target, working_time)
SELECT id, 'resolution', '8 hours' FROM workitem.sla_policy WHERE name = 'tenant-test';

-- a single-tenant install: everything in 'default'
CREATE TEMP TABLE d AS
SELECT (workitem.create_ticket('Printer', 'It jams', 'hardware', 'a@x', 'a@x', NULL, true)).id;
SELECT is((SELECT tenant FROM workitem.item WHERE id = (SELECT id FROM d)), 'default', 'a new item takes workitem.tenant');

-- tenant acme: an item and all its rows
SET LOCAL workitem.tenant = 'acme';
CREATE TEMP TABLE a AS
SELECT (workitem.create_ticket('VPN', 'Down', 'network', 'b@acme', 'b@acme', NULL, true)).id;
CREATE TEMP TABLE a2 AS
SELECT (workitem.create_ticket('Mail', 'Slow', 'network', 'c@acme', 'c@acme', NULL, true)).id;
CREATE TEMP TABLE ac AS
SELECT (workitem.create_case('Rollout', 'Laptops', 'it', NULL, true)).id;
SELECT is((SELECT tenant FROM workitem.item WHERE id = (SELECT id FROM a)), 'acme', 'workitem.tenant = acme: the item is acme''s');

-- the engine's rows for a default item, written while the setting says acme
SELECT lives_ok($$SELECT workitem.start((SELECT id FROM d))$$, 'an operation on another tenant''s item');
SELECT lives_ok($$SELECT workitem.record_message((SELECT id FROM d), 'outbound', 'email', 's', 'b')$$, 'a message for it');
SELECT lives_ok($$SELECT workitem.log_time((SELECT id FROM d), '1 hour')$$, 'time logged on it');
SELECT lives_ok($$SELECT workitem.resolve((SELECT id FROM d), 'customer_response', 'fixed')$$, 'resolved with a note');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.event WHERE item_id = (SELECT id FROM d)),
          '{default}', 'its log rows are the item''s tenant''s, not the setting''s');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.message WHERE item_id = (SELECT id FROM d)),
          '{default}', 'its messages and notes too');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.time_entry WHERE item_id = (SELECT id FROM d)),
          '{default}', 'its time entries too');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.sla_clock WHERE item_id = (SELECT id FROM d)),
          '{default}', 'its clocks too');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.history((SELECT id FROM d))), '{default}',
          'history() shows the tenant');

-- split children, a launched case and an action take their item's tenant
RESET workitem.tenant;
CREATE TEMP TABLE sp AS SELECT workitem.split((SELECT id FROM a), ARRAY['one', 'two']) AS ids;
SELECT is((SELECT array_agg(DISTINCT i.tenant) FROM workitem.item i JOIN sp ON i.id = ANY (sp.ids)),
          '{acme}', 'split children take the ticket''s tenant');
CREATE TEMP TABLE lc AS SELECT workitem.launch_case((SELECT id FROM a2), 'go') AS id;
SELECT is((SELECT tenant FROM workitem.item JOIN lc USING (id)),
          'acme', 'a launched case takes the ticket''s tenant');
SELECT is((SELECT tenant FROM workitem.create_action((SELECT id FROM ac), 'Image laptops')),
          'acme', 'an action takes its case''s tenant');
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.sla_clock_event e
            WHERE e.item_id IN (SELECT id FROM a UNION SELECT id FROM a2 UNION SELECT id FROM ac)),
          '{acme}', 'the clock log of acme''s items is acme''s (RESET: the setting says default)');

-- across tenants: refused with WI023, naming both items and tenants
SELECT throws_ok(format('SELECT workitem.merge(%s, %s)', (SELECT id FROM ac), (SELECT id FROM d)),
                 'WI023', format('item %s of tenant "acme" cannot be merged into item %s of tenant "default"',
                                 (SELECT id FROM ac), (SELECT id FROM d)),
                 'a merge across tenants is refused');
SELECT is((SELECT status FROM workitem.item WHERE id = (SELECT id FROM ac)), 'to_do', 'and changes nothing');
CREATE TEMP TABLE dc AS SELECT (workitem.create_case('Default case', NULL, NULL, NULL, true)).id;
\if :citus
\else
SELECT (SELECT id FROM dc) AS dc_id, (SELECT id FROM d) AS d_id, (SELECT id FROM ac) AS ac_id \gset
\endif
SET LOCAL workitem.tenant = 'acme';
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', %s, 'x')$$, :dc_id),
                 'WI023', NULL, 'an action of acme on a case of default is refused');
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, title, follows_id) VALUES ('ticket', 'x', %s)$$, :d_id),
                 'WI023', NULL, 'a follow-up of another tenant''s item is refused');
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, title, parent_id) VALUES ('ticket', 'x', %s)$$, :d_id),
                 'WI023', NULL, 'a child of another tenant''s item is refused');
RESET workitem.tenant;
SELECT throws_ok(format($$INSERT INTO workitem.item (kind, title, case_id, tenant) VALUES ('action', 'x', %s, 'default')$$,
                        :ac_id),
                 'WI023', NULL, 'an explicit tenant other than the case''s is refused too');
SELECT lives_ok(format($$INSERT INTO workitem.item (kind, case_id, title, tenant) VALUES ('action', %s, 'x', 'acme')$$,
                       (SELECT id FROM ac)), 'the same action in the case''s tenant is taken');

-- an item's tenant never changes (on Citus the tenant is the distribution
-- column, which Citus itself refuses to change, before any trigger)
\if :citus
SELECT throws_ok(format($$UPDATE workitem.item SET tenant = 'other' WHERE id = %s$$, (SELECT id FROM a2)),
                 '0A000', 'modifying the partition value of rows is not allowed',
                 'changing an item''s tenant is refused (by Citus)');
SELECT throws_ok(format($$UPDATE workitem.item SET tenant = NULL WHERE id = %s$$, (SELECT id FROM a2)),
                 '0A000', NULL, 'a NULL tenant is refused (by Citus)');
\else
SELECT throws_ok(format($$UPDATE workitem.item SET tenant = 'other' WHERE id = %s$$, (SELECT id FROM a2)),
                 'WI011', format('item %s: tenant cannot be changed', (SELECT id FROM a2)),
                 'changing an item''s tenant is refused');
SELECT throws_ok(format($$UPDATE workitem.item SET tenant = NULL WHERE id = %s$$, (SELECT id FROM a2)),
                 '23502', NULL, 'a NULL tenant is refused');
\endif

-- keys: (id, tenant), id first; foreign keys with the tenant
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'item_pkey'),
          'PRIMARY KEY (id, tenant)', 'item''s key is (id, tenant)');
SELECT is((SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'message_item_id_fkey'),
          'FOREIGN KEY (item_id, tenant) REFERENCES workitem.item(id, tenant)', 'a message refers to (id, tenant)');

-- the actor carried in the row (how operations tell it on Citus): logged, never stored
UPDATE workitem.item SET priority = 'high', change_actor = 'zed' WHERE id = (SELECT id FROM a2);
SELECT is((SELECT actor FROM workitem.history((SELECT id FROM a2)) WHERE what = 'priority'), 'zed',
          'change_actor is logged as the actor of the change');
SELECT is((SELECT change_actor FROM workitem.item WHERE id = (SELECT id FROM a2)), NULL,
          'and is never stored');

-- work time takes the item's tenant, whatever the setting says
SET LOCAL workitem.tenant = 'other';
SELECT is((SELECT tenant FROM workitem.add_expense((SELECT id FROM a2), 'expense', 'Travel', 1, 40, 'EUR')),
          'acme', 'an expense takes its item''s tenant');
SELECT is((SELECT tenant FROM workitem.start_timer((SELECT id FROM a2), 'tim')), 'acme',
          'a timer takes its item''s tenant');
-- (by IMMUTABLE steps: Citus refuses a STABLE timestamptz - interval on a column)
UPDATE workitem.timer SET started_at = ((started_at AT TIME ZONE 'UTC') - interval '10 minutes') AT TIME ZONE 'UTC'
 WHERE resource = 'tim';
SELECT is((SELECT tenant FROM workitem.stop_timer((SELECT id FROM a2), 'tim')), 'acme',
          'the tracked time entry of a stopped timer too');
RESET workitem.tenant;

-- a host application's role, with no grant of ours, writes its attached
-- table: the log takes the setting's tenant without calling current_tenant()
\if :citus
SELECT skip('Citus: the table made here is the coordinator''s alone (attach() fails on the workers), and a second user in a transaction that wrote these shards is refused', 2);
\else
CREATE ROLE wi_tenant_host;
CREATE TABLE public.wi_tenant_jobs (id int PRIMARY KEY, status text NOT NULL DEFAULT 'draft');
ALTER TABLE public.wi_tenant_jobs OWNER TO wi_tenant_host;
SELECT workitem.attach('public.wi_tenant_jobs');
SET LOCAL workitem.tenant = 'hosted';
SET LOCAL ROLE wi_tenant_host;
SELECT lives_ok($$INSERT INTO public.wi_tenant_jobs VALUES (1); UPDATE public.wi_tenant_jobs SET status = 'to_do'$$,
                'a role with no grant of ours writes its attached table (the log needs no right to current_tenant())');
RESET ROLE;
SELECT is((SELECT array_agg(DISTINCT tenant) FROM workitem.event WHERE source = 'public.wi_tenant_jobs'::regclass),
          '{hosted}', 'its log rows take the setting''s tenant');
RESET workitem.tenant;
\endif

-- an agent's insert evaluates the tenant default
\if :citus
SELECT skip('Citus: a second user in a transaction that wrote these shards (cannot perform query on placements that were modified in this transaction by a different user)', 1);
\else
CREATE ROLE wi_tenant_agent IN ROLE workitem_agent;
SET LOCAL ROLE wi_tenant_agent;
SELECT is((SELECT tenant FROM workitem.create_ticket('By an agent')), 'default', 'an agent creates items (the default runs)');
RESET ROLE;
\endif

-- distribute(): without Citus a clear error; nobody but the owner may call it
\if :citus
SELECT skip('Citus is installed here', 1);
\else
SELECT throws_ok('SELECT workitem.distribute()', '0A000',
                 'workitem.distribute() needs Citus, which is not installed in this database',
                 'distribute() without Citus says so');
\endif
SELECT ok(NOT has_function_privilege('workitem_admin', 'workitem.distribute(integer)', 'EXECUTE'),
          'workitem_admin may not call distribute()');
SELECT ok(NOT has_function_privilege('public', 'workitem.distribute(integer)', 'EXECUTE'),
          'nor may PUBLIC');
\if :citus
SELECT skip('Citus is installed here', 1);
\else
SELECT throws_ok('SELECT workitem.distribute_nodes()', '0A000',
                 'workitem.distribute_nodes() needs Citus, which is not installed in this database',
                 'distribute_nodes() without Citus says so');
\endif
SELECT ok(NOT has_function_privilege('workitem_admin', 'workitem.distribute_nodes()', 'EXECUTE')
          AND NOT has_function_privilege('public', 'workitem.distribute_nodes()', 'EXECUTE'),
          'nobody but the owner may call distribute_nodes()');
-- a COPY is a restore only as ever on plain PostgreSQL: the setting is Citus's mark
SELECT is(current_setting('workitem.restoring'), 'off', 'workitem.restoring is off unless distribute() sets it');

-- The Citus helpers that run_timers(), start_timer() and stop_timer() call
-- on the node of a tenant's shards: refused on plain PostgreSQL.
\if :citus
SELECT skip('Citus is installed here', 3);
\else
SELECT throws_ok($$SELECT workitem.run_timers_tenant('default', now(), 10)$$, '0A000',
                 'workitem.run_timers_tenant() is for a database distributed by Citus',
                 'run_timers_tenant() is refused without Citus (0A000)');
SELECT throws_ok($$SELECT workitem.start_timer_on('default', 1, 'bob', 'bob')$$, '0A000',
                 'workitem.start_timer_on() is for a database distributed by Citus',
                 'start_timer_on() too');
SELECT throws_ok($$SELECT workitem.stop_timer_on('default', 1, 'bob', 'bob')$$, '0A000',
                 'workitem.stop_timer_on() is for a database distributed by Citus',
                 'stop_timer_on() too');
\endif

SELECT * FROM finish();
ROLLBACK;
\if :citus
-- the items committed at the start, as the owner, with the triggers out of
-- the way (an item's log is never deleted otherwise)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL session_replication_role = replica;
DELETE FROM workitem.sla_clock_event WHERE item_id IN (:dc_id, :d_id, :ac_id) AND tenant IN ('default', 'acme');
DELETE FROM workitem.sla_clock WHERE item_id IN (:dc_id, :d_id, :ac_id) AND tenant IN ('default', 'acme');
DELETE FROM workitem.event WHERE item_id IN (:dc_id, :d_id, :ac_id) AND tenant IN ('default', 'acme');
DELETE FROM workitem.item WHERE id IN (:dc_id, :d_id, :ac_id) AND tenant IN ('default', 'acme');
COMMIT;
\endif
