-- Business calendars: business_time and business_add against hand-worked
-- cases and against the day-by-day PL/pgSQL baseline (bench/baseline.sql).
BEGIN;
\i bench/baseline.sql
SELECT plan(44);
SET LOCAL timezone = 'UTC';

INSERT INTO workitem.calendar (name, time_zone) VALUES
    ('paris', 'Europe/Paris'), ('ny', 'America/New_York'), ('split', 'Europe/Paris'),
    ('none', 'UTC'), ('paris247', 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT c, d, '09:00', '17:00' FROM unnest(ARRAY['paris', 'ny']) c, generate_series(1, 5) d;
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'split', d, s, e FROM generate_series(1, 5) d,
       (VALUES ('08:00'::time, '12:00'::time), ('13:00', '17:00')) r(s, e);
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'paris247', d, '00:00', '24:00' FROM generate_series(1, 7) d;
INSERT INTO workitem.calendar_holiday (calendar, day, starts, ends, name) VALUES
    ('paris', '2026-12-25', NULL, NULL, 'Christmas'),
    ('paris', '2026-12-24', '13:00', NULL, 'Christmas Eve, closing at 13:00'),
    ('paris', '2026-11-28', NULL, NULL, 'a holiday on a Saturday'),
    ('paris', '2026-05-01', NULL, NULL, 'Labour day');

-- One working day, in each zone and on a split day
SELECT is(workitem.business_time('paris', '2026-11-23 09:00+01', '2026-11-23 17:00+01'), '8 hours'::interval, 'a 09:00-17:00 day is 8 hours');
SELECT is(workitem.business_time('ny', '2026-11-23 09:00-05', '2026-11-23 17:00-05'), '8 hours'::interval, 'New York day is 8 hours');
SELECT is(workitem.business_time('split', '2026-11-23 07:00+01', '2026-11-23 18:00+01'), '8 hours'::interval, 'two ranges a day with a lunch break');
SELECT is(workitem.business_time('split', '2026-11-23 11:00+01', '2026-11-23 14:00+01'), '2 hours'::interval, 'across the lunch break');
-- Outside working hours
SELECT is(workitem.business_time('paris', '2026-11-23 18:00+01', '2026-11-24 08:00+01'), '0'::interval, 'a night has no working time');
SELECT is(workitem.business_time('paris', '2026-11-23 16:00+01', '2026-11-24 10:00+01'), '2 hours'::interval, 'start and end outside... across a night');
SELECT is(workitem.business_time('paris', '2026-11-21 00:00+01', '2026-11-23 00:00+01'), '0'::interval, 'a weekend has no working time');
-- DST: the day the clocks change is still 8 working hours (Paris and New York)
SELECT is(workitem.business_time('paris', '2026-03-29 00:00+01', '2026-03-31 00:00+02'), '8 hours'::interval, 'Paris spring forward (Sunday then Monday)');
SELECT is(workitem.business_time('paris', '2026-03-27 12:00+01', '2026-03-30 12:00+02'), '8 hours'::interval, 'Friday noon to Monday noon across spring forward');
SELECT is(workitem.business_time('paris', '2026-10-23 12:00+02', '2026-10-26 12:00+01'), '8 hours'::interval, 'Friday noon to Monday noon across fall back');
SELECT is(workitem.business_time('ny', '2026-03-06 12:00-05', '2026-03-09 12:00-04'), '8 hours'::interval, 'New York spring forward weekend');
SELECT is(workitem.business_time('ny', '2026-10-30 12:00-04', '2026-11-02 12:00-05'), '8 hours'::interval, 'New York fall back weekend');
SELECT is(workitem.business_time('paris247', '2026-03-29 00:00+01', '2026-03-30 00:00+02'), '23 hours'::interval, 'a round-the-clock calendar has 23 hours on spring-forward day');
SELECT is(workitem.business_time('paris247', '2026-10-25 00:00+02', '2026-10-26 00:00+01'), '25 hours'::interval, '... and 25 on fall-back day');
SELECT is(workitem.business_time('paris247', '2026-03-29 01:30+01', '2026-03-29 03:30+02'), '1 hour'::interval, 'across the missing hour');
-- Holidays
SELECT is(workitem.business_time('paris', '2026-12-24 00:00+01', '2026-12-26 00:00+01'), '4 hours'::interval, 'closing at 13:00 on the 24th, closed on the 25th');
SELECT is(workitem.business_time('paris', '2026-11-23 00:00+01', '2026-11-30 00:00+01'), '40 hours'::interval, 'a holiday on a Saturday takes nothing off');
SELECT is(workitem.business_time('paris', '2026-04-27 00:00+02', '2026-05-04 00:00+02'), '32 hours'::interval, 'a holiday on a Friday takes a day off');
-- Negative and zero spans
SELECT is(workitem.business_time('paris', '2026-11-24 17:00+01', '2026-11-23 09:00+01'), '-16 hours'::interval, 'negative when to < from');
SELECT is(workitem.business_time('paris', '2026-11-24 10:00+01', '2026-11-24 10:00+01'), '0'::interval, 'zero span');
-- business_add
SELECT is(workitem.business_add('paris', '2026-11-23 09:00+01', '8 hours'), '2026-11-23 17:00+01'::timestamptz, '8 hours from 09:00 end the same day at 17:00');
SELECT is(workitem.business_add('paris', '2026-11-23 09:00+01', '8 hours 1 second'), '2026-11-24 09:00:01+01'::timestamptz, 'one second more runs into the next day');
SELECT is(workitem.business_add('paris', '2026-11-27 18:00+01', '1 hour'), '2026-11-30 10:00+01'::timestamptz, 'from Friday evening over the weekend');
SELECT is(workitem.business_add('paris', '2026-12-23 15:00+01', '8 hours'), '2026-12-28 11:00+01'::timestamptz, 'over Christmas Eve afternoon, Christmas and a weekend');
SELECT is(workitem.business_add('paris', '2026-11-24 09:00+01', '-8 hours'), '2026-11-23 09:00+01'::timestamptz, 'negative amount goes back');
SELECT is(workitem.business_add('paris', '2026-11-24 12:00+01', '0'), '2026-11-24 12:00+01'::timestamptz, 'zero amount is the start');
SELECT is(workitem.business_add('paris', '2026-11-22 12:00+01', '0'), '2026-11-22 12:00+01'::timestamptz, 'zero amount on a Sunday is the start');
SELECT is(workitem.business_add('paris', '2026-03-27 16:00+01', '2 hours'), '2026-03-30 10:00+02'::timestamptz, 'across spring forward');
SELECT is(workitem.business_add('split', '2026-11-23 11:00+01', '2 hours'), '2026-11-23 14:00+01'::timestamptz, 'across the lunch break');
SELECT is(workitem.business_add('paris', '2021-01-04 09:00+01', '10000 hours'),
          baseline.business_add('paris', '2021-01-04 09:00+01', '10000 hours'), '10000 hours (about five years) agree with the baseline');
-- A calendar with no working hours at all: clear errors, no endless loop
SELECT throws_ok($$SELECT workitem.business_add('none', now(), '1 hour')$$, 'WI018', NULL, 'no working hours: business_add refused');
SELECT is(workitem.business_time('none', '2020-01-01', '2026-01-01'), '0'::interval, 'no working hours: business_time is zero');
-- Bad input
SELECT throws_ok($$SELECT workitem.business_time('nowhere', now(), now())$$, 'WI017', 'calendar "nowhere" does not exist', 'unknown calendar');
SELECT throws_ok($$SELECT workitem.business_add('paris', now(), '1 month')$$, '22023', NULL, 'months refused');
SELECT throws_ok($$SELECT workitem.business_time('paris', '-infinity', now())$$, '22008', NULL, '-infinity refused');
SELECT throws_ok($$SELECT workitem.business_time('paris', now(), 'infinity')$$, '22008', NULL, 'infinity refused');
SELECT throws_ok($$INSERT INTO workitem.calendar VALUES ('mars', 'Mars/Olympus_Mons')$$, '23514', NULL, 'unknown time zone refused');
SELECT throws_ok($$INSERT INTO workitem.calendar_hours VALUES ('paris', 8, '09:00', '10:00')$$, '23514', NULL, 'weekday 8 refused');
SELECT throws_ok($$INSERT INTO workitem.calendar_hours VALUES ('paris', 1, '10:00', '09:00')$$, '23514', NULL, 'a range that ends before it starts refused');
SELECT is(workitem.business_time('24x7', '2026-01-01 00:00+00', '2026-01-02 00:00+00'), '24 hours'::interval, 'built-in 24x7 calendar');
-- A change to a calendar is seen at once (the cache is invalidated)
UPDATE workitem.calendar_hours SET ends = '18:00' WHERE calendar = 'paris' AND weekday = 1;
SELECT is(workitem.business_time('paris', '2026-11-23 09:00+01', '2026-11-23 20:00+01'), '9 hours'::interval, 'changed hours are used at once');
UPDATE workitem.calendar_hours SET ends = '17:00' WHERE calendar = 'paris' AND weekday = 1;

-- Random spans against the baseline, to the second
SELECT setseed(0.42);
CREATE TEMP TABLE spans AS
SELECT c, a, a + (random() * 40 * 86400) * interval '1 second' AS b,
       (1 + floor(random() * 60 * 3600)) * interval '1 second' AS amount
FROM unnest(ARRAY['paris', 'ny', 'split', 'paris247']) c,
     LATERAL (SELECT '2026-01-01 00:00+00'::timestamptz + random() * interval '700 days' AS a
              FROM generate_series(1, 600)) s;
SELECT is((SELECT count(*) FROM spans WHERE workitem.business_time(c, a, b) <> baseline.business_time(c, a, b)),
          0::bigint, 'business_time agrees with the baseline on 2400 random spans');
SELECT is((SELECT count(*) FROM spans WHERE workitem.business_add(c, a, amount) <> baseline.business_add(c, a, amount)),
          0::bigint, 'business_add agrees with the baseline on 2400 random amounts');
SELECT is((SELECT count(*) FROM spans
            WHERE workitem.business_time(c, a, workitem.business_add(c, a, amount)) <> amount
               OR workitem.business_add(c, b, -amount) > b),
          0::bigint, 'business_time undoes business_add; negative amounts go back');

SELECT * FROM finish();
ROLLBACK;
