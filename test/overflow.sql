-- Issue 18: no wrap-around. Working time is summed in microseconds (int64);
-- every sum is checked and a result outside the range of timestamps is
-- refused with 22008 naming the value, never returned wrapped round (a due
-- time in the past). Calendar names are limited in characters by the table
-- and by the cache alike.
BEGIN;
SELECT plan(19);
SET LOCAL timezone = 'UTC';

-- business_add: 213503982 days are more microseconds than an int64 holds.
-- They wrapped round to a negative amount: 2026-11-29 15:58:10, in the past.
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '213503982 days')$$,
                 '22008', 'working time out of range: "213503982 days"',
                 'business_add of 213503982 days: 22008 naming the amount, not a moment in the past');
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '-213503982 days')$$,
                 '22008', 'working time out of range: "-213503982 days"', 'the same amount negative');
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '2147483647 days 2562047788:00:54.775807')$$,
                 '22008', NULL, 'the largest interval there is');
-- An amount that fits in microseconds, but not once added to the working
-- time already counted from 2000 to the start.
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '106751991 days 04:00:54.775807')$$,
                 '22008', 'calendar "24x7": timestamp out of range: 2026-11-30 00:00:00+00 plus 2562047788:00:54.775807 of working time',
                 'an amount that overflows once added to the start: 22008 naming the start and the amount');
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '-106751991 days -04:00:54.775808')$$,
                 '22008', NULL, 'the most negative amount');
-- Amounts that fit land in the calendar's range or say why not.
SELECT throws_ok($$SELECT workitem.business_add('24x7', '2026-11-30 00:00+00', interval '100000 days')$$,
                 '22008', 'calendar "24x7": the result lies after the year 2199', 'past 2199: 22008 as before');
SELECT is(workitem.business_add('24x7', '2026-11-30 00:00+00', interval '36525 days'), '2126-12-01 00:00+00'::timestamptz,
          '36525 days of round-the-clock working time (2100 is no leap year)');

-- SLA readers: the used time and the time left are checked sums too.
SELECT throws_ok($$SELECT workitem.clock_used('24x7', interval '106751991 days', '2026-11-29 00:00+00', '2026-11-30 00:00+00')$$,
                 '22008', NULL, 'clock_used: used + a day past the largest amount is 22008, not a negative interval');
SELECT throws_ok($$SELECT workitem.clock_label('paused', '24x7', interval '-106751991 days', interval '106751991 days', NULL, NULL, now())$$,
                 '22008', NULL, 'clock_label: target - used past the range is 22008');
SELECT is(workitem.clock_label('paused', '24x7', interval '-106751991 days -04:00:54.775808', interval '0', NULL, NULL, now()),
          'Due: paused 2562047788 h 0 m after due date', 'the most negative time left prints its magnitude, not a negated overflow');

-- SLA targets: one that no calendar could reach is refused when written.
INSERT INTO workitem.sla_policy (name) VALUES ('too long') RETURNING id AS p \gset
SELECT throws_ok(format($$INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (%s, 'resolution', '213503982 days')$$, :p),
                 '23514', NULL, 'a target of 213503982 days is refused (23514)');
SELECT throws_ok(format($$INSERT INTO workitem.sla_target (policy_id, target, business_days) VALUES (%s, 'resolution', 2000000000)$$, :p),
                 '23514', NULL, 'a target of two billion business days is refused (23514)');
SELECT lives_ok(format($$INSERT INTO workitem.sla_target (policy_id, target, working_time) VALUES (%s, 'resolution', '36525 days')$$, :p),
                'a target of 100 years is accepted');

-- Calendar names: the table counts characters (1 to 63), and so does the
-- cache. A 63-character name of two-byte characters (126 bytes) was
-- accepted by the table and then "did not exist" for working time.
INSERT INTO workitem.calendar (name, time_zone) VALUES (repeat('é', 63), 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends) VALUES (repeat('é', 63), 1, '09:00', '17:00');
SELECT is(workitem.business_time(repeat('é', 63), '2026-11-30 00:00+01', '2026-12-01 00:00+01'), '8 hours'::interval,
          'a 63-character name of 2-byte characters works');
INSERT INTO workitem.calendar (name, time_zone) VALUES (repeat('😀', 63), 'UTC');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends) VALUES (repeat('😀', 63), 1, '09:00', '17:00');
SELECT is(workitem.business_add(repeat('😀', 63), '2026-11-30 09:00+00', '1 hour'), '2026-11-30 10:00+00'::timestamptz,
          'a 63-character name of 4-byte characters (252 bytes) works');
SELECT throws_ok($$INSERT INTO workitem.calendar (name, time_zone) VALUES (repeat('é', 64), 'UTC')$$,
                 '23514', NULL, 'a 64-character name is refused by the table');
SELECT throws_ok($$SELECT workitem.business_time(repeat('é', 64), now(), now())$$,
                 'WI017', 'calendar "éééééééééééééééééééé..." does not exist',
                 'and by working time, with its start and the limit');
SELECT throws_ok($$SELECT workitem.business_time(repeat('x', 1000000), now(), now())$$,
                 'WI017', 'calendar "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx..." does not exist',
                 'a 1 MB name: WI017, and the message does not repeat it whole');
SELECT is(workitem.business_time('24x7', '2026-11-30 00:00+00', '2026-12-01 00:00+00'), '24 hours'::interval,
          'short names work as before');

SELECT * FROM finish();
ROLLBACK;
