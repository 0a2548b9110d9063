-- Issue 16: work time as a ticketing page keeps it. Timers (one per item
-- and resource, stopped by themselves when the item is resolved, closed,
-- merged or handed over, started by a category's auto_timer, capped by
-- workitem.timer_max_running), time entries changed and deleted (logged,
-- frozen once the item is closed), products and expenses, and the view per
-- item and day. The race of two sessions starting one timer is
-- test/timer_race.py.
--
-- Everything runs in one transaction, where now() stands still: a timer's
-- time is made by moving its start back (as the table's owner).
-- The agent's role is made before the test's transaction (and dropped after
-- it): on Citus, CREATE ROLE reaches the workers only outside a transaction.
SET client_min_messages = warning;
DROP ROLE IF EXISTS wi_wt_agent;
CREATE ROLE wi_wt_agent LOGIN IN ROLE workitem_agent;
-- citus: the agent's tests are skipped there (Citus refuses a second user on
-- the shards a transaction has written: they need a transaction of their own)
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
BEGIN;
SELECT plan(76);
-- Citus: the engine reads workitem.actor and workitem.timer_max_running on
-- the workers, which get the transaction's SET LOCAL only when asked to
-- (README "Scale out with Citus"); a placeholder, without effect, elsewhere
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'alice';
INSERT INTO workitem.category_config (kind, category, auto_timer) VALUES ('ticket', 'wt-auto', true);
INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'wt', '7 days');
CREATE FUNCTION pg_temp.ticket(cat text DEFAULT 'wt') RETURNS bigint LANGUAGE sql AS
$$ SELECT id FROM workitem.create_ticket('Work', 'time', cat, 'c@x', 'c@x', submit => true) $$;
-- (the helpers that read or write the tables are plpgsql: Citus plans their
-- queries with the arguments as values, and cannot plan an inlined SQL
-- function's parameters)
-- move the start of a running timer back, as if it had run that long
CREATE FUNCTION pg_temp.ran(item bigint, who text, how_long interval) RETURNS void LANGUAGE plpgsql AS
$$ BEGIN UPDATE workitem.timer SET started_at = now() - how_long WHERE item_id = item AND resource = who; END $$;
CREATE FUNCTION pg_temp.running(item bigint) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RETURN (SELECT coalesce(string_agg(resource, ',' ORDER BY resource), '') FROM workitem.timer WHERE item_id = item); END $$;
CREATE FUNCTION pg_temp.tracked(item bigint) RETURNS text LANGUAGE plpgsql AS
$$ BEGIN RETURN (SELECT coalesce(string_agg(resource || ' ' || duration || ' ' || note, '; ' ORDER BY id), '')
   FROM workitem.time_entry WHERE item_id = item AND tracked); END $$;

------------------------------------------------------------------------
-- start_timer / stop_timer
------------------------------------------------------------------------
SELECT pg_temp.ticket() AS t1 \gset
SELECT is((SELECT resource || ' ' || started_by || ' ' || auto FROM workitem.start_timer(:t1)), 'alice alice false',
          'start_timer: the actor''s timer runs');
SELECT pg_temp.ran(:t1, 'alice', '90 minutes');
SELECT is((SELECT started_at FROM workitem.start_timer(:t1)), now() - interval '90 minutes',
          'a second start is a no-op: the running timer comes back, its start kept');
SELECT is((SELECT count(*) FROM workitem.timer WHERE item_id = :t1), 1::bigint, '... one timer, not two');
SELECT is((SELECT count(*) FROM workitem.history(:t1) WHERE what = 'timer'), 1::bigint, '... and one start logged');
SELECT is((SELECT resource FROM workitem.start_timer(:t1, 'bob')), 'bob', 'another resource has a timer of its own');
SELECT is((SELECT duration || ' ' || tracked || ' ' || started_at::text FROM workitem.stop_timer(:t1)),
          '01:30:00 true ' || (now() - interval '90 minutes')::text,
          'stop_timer: a tracked entry of the time it ran, starting when the timer started');
SELECT is(pg_temp.running(:t1), 'bob', '... the timer is gone, bob''s runs on');
SELECT is((SELECT old_value IS NOT NULL AND new_value = 'stopped, 01:30:00 tracked' AND reason = 'stopped by hand'
           FROM workitem.history(:t1) WHERE what = 'timer' ORDER BY id DESC LIMIT 1), true, '... logged');
SELECT is((SELECT new_value FROM workitem.history(:t1) WHERE what = 'time_entry' ORDER BY id DESC LIMIT 1),
          '#' || (SELECT max(id) FROM workitem.time_entry) || ' 01:30:00 by alice', '... and so is its entry');
SELECT throws_ok(format('SELECT workitem.stop_timer(%s)', :t1), 'WI022',
                 format('item %s: no timer of alice is running', :t1), 'stopping a timer that does not run: WI022');
SELECT lives_ok(format('SELECT workitem.start_timer(%s, ''carol'')', :t1), 'carol starts');
SELECT is((SELECT workitem.stop_timer(:t1, 'carol') IS NULL), true,
          'a timer started and stopped in one transaction counted nothing: no entry');
SELECT is((SELECT count(*) FROM workitem.time_entry WHERE item_id = :t1 AND resource = 'carol'), 0::bigint, '... none made');
SELECT throws_ok('SELECT workitem.start_timer(NULL)', '22004', NULL, 'start_timer(NULL): 22004');
SELECT throws_ok('SELECT workitem.start_timer(987654321)', 'WI404', 'item 987654321 not found', 'an unknown item: WI404');
SELECT throws_ok('SELECT workitem.stop_timer(987654321)', 'WI404', NULL, '... also to stop');

------------------------------------------------------------------------
-- Timers stop by themselves: resolved, closed, merged, handed over
------------------------------------------------------------------------
SELECT pg_temp.ticket() AS r1 \gset
SELECT workitem.start(:r1) \g /dev/null
SELECT workitem.start_timer(:r1) \g /dev/null
SELECT pg_temp.ran(:r1, 'alice', '45 minutes');
SELECT is((SELECT status::text FROM workitem.resolve(:r1, 'customer_response', 'done')), 'resolved', 'resolve');
SELECT is(pg_temp.tracked(:r1), 'alice 00:45:00 timer: item resolved', '... stopped the timer at that moment');
SELECT is(pg_temp.running(:r1), '', '... none runs');
SELECT throws_ok(format('SELECT workitem.start_timer(%s)', :r1), 'WI021',
                 format('item %s is resolved: no timer starts on it', :r1), 'no timer starts on a resolved item: WI021');

SELECT id AS c1 FROM workitem.create_case('Case', 'x', NULL, NULL, true) \gset
SELECT workitem.start_timer(:c1, 'dave') \g /dev/null
SELECT pg_temp.ran(:c1, 'dave', '2 hours');
SELECT is((SELECT status::text FROM workitem.cancel(:c1, 'not needed')), 'closed', 'a case cancelled: closed');
SELECT is(pg_temp.tracked(:c1), 'dave 02:00:00 timer: item closed', '... stopped its timer');
SELECT throws_ok(format('SELECT workitem.start_timer(%s)', :c1), 'WI009', NULL, 'no timer starts on a closed item: WI009');

SELECT pg_temp.ticket() AS m1 \gset
SELECT pg_temp.ticket() AS m2 \gset
SELECT workitem.start_timer(:m1) \g /dev/null
SELECT workitem.start_timer(:m2) \g /dev/null
SELECT pg_temp.ran(:m1, 'alice', '10 minutes');
SELECT pg_temp.ran(:m2, 'alice', '20 minutes');
SELECT is((SELECT status::text FROM workitem.merge(:m1, :m2)), 'closed', 'merge');
SELECT is(pg_temp.tracked(:m1), 'alice 00:10:00 timer: item merged', '... stopped the merged item''s timer');
SELECT is(pg_temp.running(:m2), 'alice', '... the target''s runs on');

SELECT pg_temp.ticket() AS h1 \gset
SELECT workitem.start(:h1) \g /dev/null
SELECT workitem.start_timer(:h1) \g /dev/null
SELECT workitem.start_timer(:h1, 'bob') \g /dev/null
SELECT pg_temp.ran(:h1, 'alice', '1 hour');
SELECT is((SELECT assignee FROM workitem.assign(:h1, 'bob', 'bob knows')), 'bob', 'handed to bob');
SELECT is(pg_temp.tracked(:h1), 'alice 01:00:00 timer: item handed to bob', '... alice''s timer stopped');
SELECT is(pg_temp.running(:h1), 'bob', '... bob''s runs on');
SELECT workitem.unassign(:h1, 'away') \g /dev/null
SELECT is(pg_temp.running(:h1), '', 'unassigned: every timer stops');
SELECT workitem.start_timer(:h1, 'erin') \g /dev/null
SELECT workitem.wait_until(:h1, now() + interval '1 day') \g /dev/null
SELECT is(pg_temp.running(:h1), 'erin', 'a wait leaves a timer running (the limit ends a forgotten one)');

------------------------------------------------------------------------
-- auto_timer: the category starts the timer on start() and on assignment
------------------------------------------------------------------------
SELECT pg_temp.ticket('wt-auto') AS a1 \gset
SELECT is(pg_temp.running(:a1), '', 'auto_timer: nothing runs on a submitted item');
SELECT workitem.start(:a1) \g /dev/null
SELECT is((SELECT resource || ' ' || auto FROM workitem.timer WHERE item_id = :a1), 'alice true',
          'start() started the assignee''s timer');
SELECT pg_temp.ran(:a1, 'alice', '25 minutes');
SELECT workitem.assign(:a1, 'frank') \g /dev/null
SELECT is(pg_temp.running(:a1), 'frank', 'assignment: the new assignee''s timer starts, the old one''s stops');
SELECT is(pg_temp.tracked(:a1), 'alice 00:25:00 timer: item handed to frank', '... with alice''s time');
SELECT pg_temp.ticket() AS a2 \gset
SELECT workitem.start(:a2) \g /dev/null
SELECT is(pg_temp.running(:a2), '', 'a category without auto_timer starts none');

------------------------------------------------------------------------
-- run_timers: a forgotten timer stops at its start plus the limit
------------------------------------------------------------------------
SELECT pg_temp.ticket() AS f1 \gset
SELECT workitem.start_timer(:f1) \g /dev/null
SELECT workitem.start_timer(:f1, 'bob') \g /dev/null
SELECT pg_temp.ran(:f1, 'alice', '3 days');
SELECT pg_temp.ran(:f1, 'bob', '1 hour');
SELECT is(current_setting('workitem.timer_max_running'), '8h', 'workitem.timer_max_running is 8 hours by default');
SELECT cmp_ok(workitem.run_timers(now()), '>=', 1, 'run_timers stops the forgotten timer');
SELECT is((SELECT started_at::text || ' ' || duration FROM workitem.time_entry WHERE item_id = :f1 AND tracked),
          (now() - interval '3 days')::text || ' 08:00:00',
          '... at its start plus 8 hours: a weekend is not billed');
SELECT is((SELECT actor || ': ' || reason FROM workitem.history(:f1) WHERE what = 'timer' ORDER BY id DESC LIMIT 1),
          'system: running longer than workitem.timer_max_running (08:00:00)', '... logged by the system, with the limit');
SELECT is(pg_temp.running(:f1), 'bob', '... a timer within the limit runs on');
SET LOCAL workitem.timer_max_running = '30min';
SELECT workitem.run_timers(now()) \g /dev/null
SELECT is((SELECT duration FROM workitem.time_entry WHERE item_id = :f1 AND resource = 'bob'), '00:30:00'::interval,
          'the limit is a setting: 30 minutes');
SELECT workitem.start_timer(:f1) \g /dev/null
SELECT pg_temp.ran(:f1, 'alice', '2 hours');
SELECT is((SELECT duration FROM workitem.stop_timer(:f1)), '00:30:00'::interval,
          'a timer stopped by hand after the limit counts the limit too');
SET LOCAL workitem.timer_max_running = 0;
SELECT workitem.start_timer(:f1) \g /dev/null
SELECT pg_temp.ran(:f1, 'alice', '50 hours');
SELECT is(workitem.run_timers(now()), 0, '0: no limit, run_timers leaves timers alone');
SELECT is((SELECT duration FROM workitem.stop_timer(:f1)), '50:00:00'::interval, '... and a stop counts it all');
RESET workitem.timer_max_running;

------------------------------------------------------------------------
-- Time entries changed and deleted; frozen once closed
------------------------------------------------------------------------
SELECT pg_temp.ticket() AS e1 \gset
SELECT id AS te1 FROM workitem.log_time(:e1, '1 hour', 'call') \gset
SELECT id AS te2 FROM workitem.log_time(:e1, '20 minutes', 'mail') \gset
UPDATE workitem.time_entry SET duration = '1 hour 15 minutes', note = 'long call' WHERE id = :te1;
SELECT is((SELECT actor || ' ' || old_value || ' -> ' || new_value || ' ' || reason
           FROM workitem.history(:e1) WHERE what = 'time_entry' ORDER BY id DESC LIMIT 1),
          format('alice #%s 01:00:00 by alice -> #%s 01:15:00 by alice changed: long call', :te1, :te1),
          'a changed entry is logged: who, old and new duration');
DELETE FROM workitem.time_entry WHERE id = :te2;
SELECT is((SELECT old_value || ' ' || coalesce(new_value, '-') || ' ' || reason
           FROM workitem.history(:e1) WHERE what = 'time_entry' ORDER BY id DESC LIMIT 1),
          format('#%s 00:20:00 by alice - deleted', :te2), 'a deleted entry is logged');
SELECT throws_ok(format('UPDATE workitem.time_entry SET duration = ''1 month'' WHERE id = %s', :te1), '22023', NULL,
                 'a changed duration follows the rules of a new one (22023)');
SELECT throws_ok(format('UPDATE workitem.time_entry SET item_id = %s WHERE id = %s', :t1, :te1), 'WI011', NULL,
                 'an entry does not move to another item (WI011)');
\if :citus
SELECT skip('Citus: a second user in a transaction that wrote these shards (cannot perform query on placements that were modified in this transaction by a different user)', 6);
\else
SET ROLE wi_wt_agent;
SELECT throws_ok(format('INSERT INTO workitem.time_entry (item_id, resource, duration, tracked) VALUES (%s, ''x'', ''1 hour'', true)', :e1),
                 '42501', NULL, 'agent: an entry typed as tracked is refused');
SELECT throws_ok(format('UPDATE workitem.time_entry SET tracked = true WHERE id = %s', :te1), '42501', NULL,
                 'agent: ... and so is marking one tracked');
SELECT throws_ok(format('INSERT INTO workitem.timer (item_id, resource, started_at, started_by) VALUES (%s, ''x'', now() - interval ''1 week'', ''x'')', :e1),
                 '42501', NULL, 'agent: a backdated timer by hand is refused (no privilege)');
SELECT lives_ok(format('UPDATE workitem.time_entry SET duration = ''50 minutes'' WHERE id = %s', :te1),
                'agent: changes an entry');
SELECT lives_ok(format('SELECT workitem.start_timer(%s)', :e1), 'agent: starts a timer');
SELECT lives_ok(format('SELECT workitem.stop_timer(%s)', :e1), 'agent: stops it');
RESET ROLE;
\endif
SELECT workitem.resolve(:e1, 'customer_response', 'ok') \g /dev/null
SELECT workitem.close(:e1) \g /dev/null
SELECT throws_ok(format('UPDATE workitem.time_entry SET duration = ''2 hours'' WHERE id = %s', :te1), 'WI009',
                 format('item %s is closed: its time entries never change', :e1), 'a closed item''s entries are frozen: UPDATE');
SELECT throws_ok(format('DELETE FROM workitem.time_entry WHERE id = %s', :te1), 'WI009', NULL, '... DELETE');
SELECT throws_ok(format('SELECT workitem.log_time(%s, ''1 hour'')', :e1), 'WI009', NULL, '... and a new entry');

------------------------------------------------------------------------
-- Products and expenses
------------------------------------------------------------------------
SELECT pg_temp.ticket() AS x1 \gset
SELECT is((SELECT kind || ' ' || quantity || ' ' || unit_price || ' ' || currency || ' ' || author
           FROM workitem.add_expense(:x1, 'product', 'Network cable', 2, 7.50, 'eur')),
          'product 2 7.50 EUR alice', 'add_expense: a product (the currency in upper case, the actor as author)');
SELECT id AS ex2 FROM workitem.add_expense(:x1, 'expense', 'Travel to the site, 42 km', 42, 0.30, 'EUR') \gset
SELECT workitem.add_expense(:x1, 'expense', 'Parking', 1, 12, 'CHF') \g /dev/null
SELECT is((SELECT new_value FROM workitem.history(:x1) WHERE what = 'expense' ORDER BY id LIMIT 1),
          format('#%s product 2 x 7.50 EUR: Network cable', :ex2 - 1), 'an expense is logged');
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', ''x'', 0, 1, ''EUR'')', :x1), '22023',
                 format('item %s: the quantity of a product or expense must be a positive number, not 0', :x1),
                 'a quantity of 0: 22023, naming the item and the value');
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', ''x'', ''NaN'', 1, ''EUR'')', :x1), '22023', NULL,
                 'a quantity of NaN: 22023');
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', ''x'', 1, -1, ''EUR'')', :x1), '22023', NULL,
                 'a negative unit price: 22023');
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', ''x'', 1, 1, ''EURO'')', :x1), '22023',
                 format('item %s: a currency is a 3-letter ISO 4217 code, not ''EURO''', :x1), 'a currency that is no code: 22023');
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', '' '', 1, 1, ''EUR'')', :x1), '22023', NULL,
                 'a blank description: 22023');
UPDATE workitem.expense SET quantity = 40 WHERE id = :ex2;
SELECT is((SELECT old_value || ' -> ' || new_value FROM workitem.history(:x1) WHERE what = 'expense' ORDER BY id DESC LIMIT 1),
          format('#%s expense 42 x 0.30 EUR: Travel to the site, 42 km -> #%s expense 40 x 0.30 EUR: Travel to the site, 42 km', :ex2, :ex2),
          'a changed expense is logged, old and new');
UPDATE workitem.expense SET description = description, currency = lower(currency) WHERE id = :ex2;
SELECT is((SELECT count(*) FROM workitem.history(:x1) WHERE what = 'expense' AND reason = 'changed'), 1::bigint,
          'an UPDATE that changes no value is not logged');
\if :citus
SELECT skip('Citus: a second user in a transaction that wrote these shards (cannot perform query on placements that were modified in this transaction by a different user)', 4);
\else
SET ROLE wi_wt_agent;
SELECT lives_ok(format('INSERT INTO workitem.expense (item_id, kind, description, quantity, unit_price, currency) VALUES (%s, ''product'', ''Mouse'', 1, 20, ''EUR'')', :x1),
                'agent: a plain INSERT of a product');
SELECT throws_ok(format('INSERT INTO workitem.expense (id, item_id, description, quantity, unit_price, currency) VALUES (900000001, %s, ''x'', 1, 1, ''EUR'')', :x1),
                 '42501', NULL, 'agent: an expense id the sequence did not draw is refused');
SELECT lives_ok(format('DELETE FROM workitem.expense WHERE item_id = %s AND description = ''Mouse''', :x1), 'agent: deletes it');
RESET ROLE;
SELECT is((SELECT reason FROM workitem.history(:x1) WHERE what = 'expense' ORDER BY id DESC LIMIT 1), 'deleted', '... logged');
\endif

------------------------------------------------------------------------
-- The view per item and day
------------------------------------------------------------------------
SELECT workitem.log_time(:x1, '30 minutes') \g /dev/null
SELECT workitem.start_timer(:x1) \g /dev/null
SELECT pg_temp.ran(:x1, 'alice', '1 hour');
SELECT workitem.stop_timer(:x1) \g /dev/null
-- summed over the item's days: right after midnight the 30 minutes typed and the hour run start yesterday
SELECT results_eq(format($$SELECT currency COLLATE "default", sum(time_tracked), sum(time_typed), sum(products), sum(expenses)
                           FROM workitem.work_per_day WHERE item_id = %s GROUP BY currency ORDER BY currency NULLS FIRST$$, :x1),
                  $$VALUES (NULL::text, interval '1 hour', interval '30 minutes', NULL::numeric, NULL::numeric),
                           ('CHF', NULL, NULL, 0, 12), ('EUR', NULL, NULL, 15.00, 12.00)$$,
                  'work_per_day: time tracked and typed, products and expenses per currency');

SELECT workitem.resolve(:x1, 'customer_response', 'ok') \g /dev/null
SELECT workitem.close(:x1) \g /dev/null
SELECT throws_ok(format('SELECT workitem.add_expense(%s, ''product'', ''late'', 1, 1, ''EUR'')', :x1), 'WI009',
                 format('item %s is closed: its products and expenses never change', :x1), 'a closed item''s expenses are frozen: INSERT');
SELECT throws_ok(format('UPDATE workitem.expense SET quantity = 1 WHERE id = %s', :ex2), 'WI009', NULL, '... UPDATE');
SELECT throws_ok(format('DELETE FROM workitem.expense WHERE id = %s', :ex2), 'WI009', NULL, '... DELETE');

SELECT ok((SELECT extconfig @> ARRAY['workitem.timer'::regclass, 'workitem.expense'::regclass]::oid[]
           FROM pg_extension WHERE extname = 'workitem'), 'pg_dump keeps timers and expenses');

SELECT * FROM finish();
ROLLBACK;
DROP ROLE wi_wt_agent;
