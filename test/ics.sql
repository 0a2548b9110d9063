-- workitem.import_holidays(calendar, ics): a real-world-style feed (CRLF,
-- folded lines, a VTIMEZONE, TZIDs, UTC and floating times, all-day and
-- multi-day events, partial days, an alarm, a cancelled event), the rows it
-- gives, business_time before and after, re-import, and malformed feeds
-- refused whole with the line at fault.
BEGIN;
SELECT plan(50);
SET LOCAL timezone = 'UTC';

INSERT INTO workitem.calendar (name, time_zone) VALUES ('ics_paris', 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'ics_paris', d, '09:00', '17:00' FROM generate_series(1, 5) d;

-- SQLSTATE, message and detail of the error a call raises, or 'no error'.
CREATE FUNCTION pg_temp.feed_error(cal text, feed text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    st text; msg text; det text;
BEGIN
    PERFORM workitem.import_holidays(cal, feed);
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
    RETURN st || ' | ' || msg || ' | ' || coalesce(det, '');
END $$;

CREATE FUNCTION pg_temp.week_hours(from_day date, days int) RETURNS interval
LANGUAGE sql AS $$
SELECT workitem.business_time('ics_paris', (from_day::timestamp AT TIME ZONE 'Europe/Paris'),
                              ((from_day + days)::timestamp AT TIME ZONE 'Europe/Paris'))
$$;

-- Working time before the import (and the calendar is now cached)
SELECT is(pg_temp.week_hours('2026-11-09', 7), '40 hours'::interval, 'before: the week of 9 November has 40 hours');
SELECT is(pg_temp.week_hours('2026-12-21', 7), '40 hours'::interval, 'before: the week of Christmas has 40 hours');

-- The feed, as a calendar program exports it: CRLF, lines folded at 75
-- octets (a space or a tab starts a continuation), a VTIMEZONE (ignored:
-- TZIDs are IANA names), an alarm inside an event.
CREATE TEMP TABLE feed AS SELECT replace($ICS$BEGIN:VCALENDAR
PRODID:-//Example Corp//Holidays 2026//FR
VERSION:2.0
CALSCALE:GREGORIAN
METHOD:PUBLISH
X-WR-CALNAME:Jours fériés et fermetures
X-WR-TIMEZONE:Europe/Paris
BEGIN:VTIMEZONE
TZID:Europe/Paris
BEGIN:STANDARD
DTSTART:19701025T030000
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:armistice-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20261111
DTEND;VALUE=DATE:20261112
SUMMARY;LANGUAGE=fr:Armistice 1918\, jour férié
DESCRIPTION:Un jour férié en France. Cette description est assez longue pou
 r être repliée sur deux lignes\, comme le fait tout logiciel de calendrier.
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VEVENT
UID:christmas-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20261224
DTEND;VALUE=DATE:20261227
SUMMARY:Christmas Eve\; Christmas and Boxing Day (office closed\, see the in
 tranet)
BEGIN:VALARM
ACTION:DISPLAY
DESCRIPTION:Reminder
TRIGGER:-P1D
DURATION:PT15M
REPEAT:2
END:VALARM
END:VEVENT
BEGIN:VEVENT
UID:nye-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=Europe/Paris:20261231T130000
DTEND;TZID="Europe/Paris":20270101T000000
SUMMARY:New Year's Eve: closing at 13:00
END:VEVENT
BEGIN:VEVENT
UID:newyear-2027@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20270101
SUMMARY:Jour de l'an
END:VEVENT
BEGIN:VEVENT
UID:training-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART:20261118T140000Z
DTEND:20261118T160000Z
SUMMARY:All-hands training\nroom 4\\5
END:VEVENT
BEGIN:VEVENT
UID:move-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART:20261120T090000
DURATION:PT3H
SUMMARY:Office move (floating time)
END:VEVENT
BEGIN:VEVENT
UID:outage-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART;TZID=America/New_York:20261202T120000
DTEND;TZID=/America/New_York:20261204T040000
SUMMARY:Data centre outage
END:VEVENT
BEGIN:VEVENT
UID:cancelled-2026@example.com
DTSTAMP:20260101T000000Z
DTSTART;VALUE=DATE:20261207
DTEND;VALUE=DATE:20261208
STATUS:CANCELLED
SUMMARY:Cancelled closing
END:VEVENT
END:VCALENDAR
$ICS$, E'\n', E'\r\n') AS ics;

SELECT is(workitem.import_holidays('ics_paris', (SELECT ics FROM feed)), 11,
          'the feed gives 11 holiday rows');

SELECT results_eq(
    $$SELECT day, starts, ends, name FROM workitem.calendar_holiday
      WHERE calendar = 'ics_paris' ORDER BY day, starts NULLS FIRST$$,
    $$VALUES
      ('2026-11-11'::date, NULL::time, NULL::time, 'Armistice 1918, jour férié'),
      ('2026-11-18', '15:00', '17:00', E'All-hands training\nroom 4\\5'),
      ('2026-11-20', '09:00', '12:00', 'Office move (floating time)'),
      ('2026-12-02', '18:00', NULL, 'Data centre outage'),
      ('2026-12-03', NULL, NULL, 'Data centre outage'),
      ('2026-12-04', NULL, '10:00', 'Data centre outage'),
      ('2026-12-24', NULL, NULL, 'Christmas Eve; Christmas and Boxing Day (office closed, see the intranet)'),
      ('2026-12-25', NULL, NULL, 'Christmas Eve; Christmas and Boxing Day (office closed, see the intranet)'),
      ('2026-12-26', NULL, NULL, 'Christmas Eve; Christmas and Boxing Day (office closed, see the intranet)'),
      ('2026-12-31', '13:00', NULL, 'New Year''s Eve: closing at 13:00'),
      ('2027-01-01', NULL, NULL, 'Jour de l''an')$$,
    'every row: whole days, partial days in Paris time, unfolded and unescaped names');
SELECT is((SELECT count(*)::int FROM workitem.calendar_holiday WHERE day = '2026-12-07'), 0,
          'a cancelled event is not imported');

-- business_time sees the holidays at once (the cache was invalidated)
SELECT is(pg_temp.week_hours('2026-11-09', 7), '32 hours'::interval, 'after: 11 November is off');
SELECT is(pg_temp.week_hours('2026-11-18', 1), '6 hours'::interval, 'after: 18 November closed 15:00-17:00 (14:00Z-16:00Z)');
SELECT is(pg_temp.week_hours('2026-11-20', 1), '5 hours'::interval, 'after: 20 November closed 09:00-12:00 (floating time, DURATION)');
SELECT is(pg_temp.week_hours('2026-12-02', 3), '15 hours'::interval, 'after: an outage from Wednesday 18:00 to Friday 10:00 Paris time');
SELECT is(pg_temp.week_hours('2026-12-21', 7), '24 hours'::interval, 'after: the 24th and 25th are off');
SELECT is(pg_temp.week_hours('2026-12-31', 1), '4 hours'::interval, 'after: closing at 13:00 on the 31st');
SELECT is(pg_temp.week_hours('2027-01-01', 1), '0'::interval, 'after: 1 January is off');
SELECT is(workitem.business_add('ics_paris', '2026-12-23 16:00+01', '2 hours'), '2026-12-28 10:00+01'::timestamptz,
          'business_add skips the imported holidays');

-- Importing again adds nothing: rows already there are kept
SELECT is(workitem.import_holidays('ics_paris', (SELECT ics FROM feed)), 0, 're-importing the feed adds no row');
SELECT is((SELECT count(*)::int FROM workitem.calendar_holiday WHERE calendar = 'ics_paris'), 11,
          'still 11 rows after the re-import');
-- An overlapping feed adds only what is new
SELECT is(workitem.import_holidays('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nDTEND;VALUE=DATE:20261229\nSUMMARY:Long Christmas\nEND:VEVENT\nEND:VCALENDAR\n'),
          2, 'an overlapping feed adds only the new days (27 and 28; 25 and 26 are there)');
SELECT is(pg_temp.week_hours('2026-12-28', 1), '0'::interval, 'the new day counts');

-- LF line ends, folding with a tab, lower-case names and no final newline
SELECT is(workitem.import_holidays('ics_paris', E'begin:vcalendar\nbegin:vevent\ndtstart;value=date:20260501\nsummary:Fête\n\tdu travail\nend:vevent\nend:vcalendar'),
          1, 'LF line ends, tab folding, lower-case names');
SELECT is((SELECT name FROM workitem.calendar_holiday WHERE day = '2026-05-01'), 'Fêtedu travail',
          'the folding character is removed, nothing else');
-- DST: a DATE-TIME event in Paris summer time
SELECT is(workitem.import_holidays('ics_paris', E'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART:20260714T070000Z\r\nDTEND:20260714T100000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'),
          1, 'a summer event');
SELECT is((SELECT row(starts, ends, name)::text FROM workitem.calendar_holiday WHERE day = '2026-07-14'),
          row('09:00'::time, '12:00'::time, NULL::text)::text, '07:00Z-10:00Z is 09:00-12:00 in Paris summer time; no SUMMARY, no name');

-- A byte order mark; clocks going back; DURATION counts days on the wall clock
SELECT is(workitem.import_holidays('ics_paris', U&'\FEFFBEGIN:VCALENDAR\000d\000aBEGIN:VEVENT\000d\000aDTSTART;VALUE=DATE:20260816\000d\000aEND:VEVENT\000d\000aEND:VCALENDAR\000d\000a'),
          1, 'a feed that starts with a byte order mark');
SELECT is(workitem.import_holidays('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261025T003000Z\nDTEND:20261025T011000Z\nEND:VEVENT\nEND:VCALENDAR\n'),
          1, 'an event across the fall-back hour');
SELECT is((SELECT row(starts, ends)::text FROM workitem.calendar_holiday WHERE day = '2026-10-25'),
          row('02:10'::time, '02:30'::time)::text, '02:30 CEST to 02:10 CET is kept as the wall-clock range 02:10-02:30');
SELECT is(workitem.import_holidays('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=Europe/Paris:20261024T120000\nDURATION:P1DT1H\nEND:VEVENT\nEND:VCALENDAR\n'),
          2, 'a DURATION of a day and an hour across the clock change');
SELECT results_eq($$SELECT day, starts, ends FROM workitem.calendar_holiday
                    WHERE day IN ('2026-10-24', '2026-10-25') AND NOT (starts IS NOT NULL AND starts = '02:10')
                    ORDER BY day$$,
                  $$VALUES ('2026-10-24'::date, '12:00'::time, NULL::time), ('2026-10-25', NULL, '13:00')$$,
                  'P1DT1H from Saturday 12:00 ends Sunday 13:00 (a nominal day, then an hour)');

-- Malformed feeds: refused whole, with the calendar, the line and its text
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nEND:VEVENT\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 1: the feed must start with BEGIN:VCALENDAR | Line 1: BEGIN:VEVENT',
          'no BEGIN:VCALENDAR');
SELECT is(pg_temp.feed_error('ics_paris', E'\n\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 1: the feed is empty: it must start with BEGIN:VCALENDAR | ',
          'an empty feed');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261226\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 5: BEGIN:VEVENT inside the VEVENT of line 3 | Line 5: BEGIN:VEVENT',
          'an unterminated VEVENT followed by another');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nDTSTART;VALUE=DATE:20261225\r\nEND:VCALENDAR\r\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 4: END:VCALENDAR while VEVENT of line 2 is open | Line 4: END:VCALENDAR',
          'an unterminated VEVENT closed by END:VCALENDAR');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261225\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 2: BEGIN:VEVENT is never ended (END:VEVENT) | Line 2: BEGIN:VEVENT',
          'a feed that stops inside a VEVENT');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:a long\n  name\n folded\nDTSTART;VALUE=DATE:20260230\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 6: "20260230" is not a valid date (YYYYMMDD) | Line 6: DTSTART;VALUE=DATE:20260230',
          'a bad date (30 February), its line counted across folded lines');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T250000\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 3: "20261224T250000" is not a valid date-time (YYYYMMDDTHHMMSS, with Z for UTC) | Line 3: DTSTART:20261224T250000',
          'a bad date-time (25:00)');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:2026-12-24\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 3: "2026-12-24" is not a valid date (YYYYMMDD) | Line 3: DTSTART;VALUE=DATE:2026-12-24',
          'a date written with dashes');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nDTEND;VALUE=DATE:20261220\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 4: DTEND is before DTSTART | Line 4: DTEND;VALUE=DATE:20261220',
          'DTEND before DTSTART (dates)');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTEND:20261224T100000Z\nDTSTART:20261224T120000Z\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 3: DTEND is before DTSTART | Line 3: DTEND:20261224T100000Z',
          'DTEND before DTSTART (date-times, DTEND written first)');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;TZID=W. Europe Standard Time:20261224T120000\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 3: unknown time zone "W. Europe Standard Time" | Line 3: DTSTART;TZID=W. Europe Standard Time:20261224T120000',
          'an unknown TZID');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nthis is not a property\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 3: not a content line (NAME[;PARAM=value]:value) | Line 3: this is not a property',
          'a line that is not a property');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nSUMMARY:no start\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 2: VEVENT without DTSTART | Line 2: BEGIN:VEVENT',
          'an event without DTSTART');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nRRULE:FREQ=YEARLY\nEND:VEVENT\nEND:VCALENDAR\n'),
          '0A000 | calendar "ics_paris": iCalendar feed at line 4: recurring events are not supported | Line 4: RRULE:FREQ=YEARLY',
          'a recurring event is refused, not half imported');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260101\nDTEND;VALUE=DATE:20280101\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 2: an event of 730 days (at most 366) | Line 2: BEGIN:VEVENT',
          'an event of two years');
-- Durations whose sum overflows (issue 18): once the end of a DATE event
-- wrapped round to before its start, and reading the DTEND it lacks
-- crashed the server. Each sum is checked: 22008, naming line and value.
SELECT matches(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nDURATION:P' || repeat('999999W', 307) || E'\nEND:VEVENT\nEND:VCALENDAR\n'),
          '^22008 \| calendar "ics_paris": invalid iCalendar feed at line 4: duration "P(999999W)+" is out of range \| Line 4: DURATION:P999999W',
          'a duration of 307 times 999999 weeks: 22008 naming the line and the value, no crash');
SELECT matches(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T100000Z\nDURATION:PT' || repeat('999999H', 2600) || E'\nEND:VEVENT\nEND:VCALENDAR\n'),
          '^22008 \| calendar "ics_paris": invalid iCalendar feed at line 4: duration "PT(999999H)+" is out of range',
          'a duration of 2600 times 999999 hours: 22008, not a wrapped-round end');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261224\nDURATION:P999999W\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 4: an event of 6999993 days (at most 366) | Line 4: DURATION:P999999W',
          'a long duration that fits is an event too long (22023), named at its line');
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:20261224T100000Z\nDURATION:P366DT999999H\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22023 | calendar "ics_paris": invalid iCalendar feed at line 4: an event of 42032 days (at most 366) | Line 4: DURATION:P366DT999999H',
          'days and hours counted together');

-- A good event, then a bad line: the error names the bad line. (That nothing
-- is inserted cannot be seen here: feed_error's EXCEPTION block rolls back
-- whatever the call inserted.)
SELECT is(pg_temp.feed_error('ics_paris', E'BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20260815\nEND:VEVENT\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261301\nEND:VEVENT\nEND:VCALENDAR\n'),
          '22P02 | calendar "ics_paris": invalid iCalendar feed at line 6: "20261301" is not a valid date (YYYYMMDD) | Line 6: DTSTART;VALUE=DATE:20261301',
          'a feed with a good event, then a bad one');

-- Unknown calendar, NULL arguments
SELECT throws_ok($$SELECT workitem.import_holidays('nowhere', E'BEGIN:VCALENDAR\nEND:VCALENDAR\n')$$,
                 'WI017', 'calendar "nowhere" does not exist', 'unknown calendar: WI017');
SELECT throws_ok($$SELECT workitem.import_holidays(NULL, 'x')$$, '22004', NULL, 'NULL calendar: 22004');
SELECT throws_ok($$SELECT workitem.import_holidays('ics_paris', NULL)$$, '22004', NULL, 'NULL feed: 22004');
SELECT is(workitem.import_holidays('ics_paris', E'BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n'), 0,
          'a calendar with no events imports nothing');

SELECT * FROM finish();
ROLLBACK;
