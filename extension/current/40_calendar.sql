------------------------------------------------------------------------
-- Business calendars (spec section 3): working hours per weekday in an
-- IANA time zone, and holidays. Working time is computed in C
-- (src/calendar.c), from a per-backend cache of each calendar.
------------------------------------------------------------------------
CREATE FUNCTION workitem.valid_time_zone(name text) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workitem_valid_time_zone'
    LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TABLE workitem.calendar (
    name        text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 63),
    time_zone   text NOT NULL CHECK (workitem.valid_time_zone(time_zone)),
    description text
);
COMMENT ON TABLE workitem.calendar IS 'Business calendars: a name and an IANA time zone.';

-- Working hours: several ranges per day allowed (08:00-12:00, 13:00-17:00);
-- overlapping ranges count once. weekday: 1 = Monday ... 7 = Sunday (ISO).
CREATE TABLE workitem.calendar_hours (
    calendar    text NOT NULL REFERENCES workitem.calendar (name) ON UPDATE CASCADE ON DELETE CASCADE,
    weekday     smallint NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts      time NOT NULL,
    ends        time NOT NULL,
    PRIMARY KEY (calendar, weekday, starts),
    CHECK (starts < ends)
);

-- Holidays: a whole day (starts and ends NULL) or a closing from starts
-- (NULL: midnight) to ends (NULL: end of day), e.g. 24 December from 13:00.
CREATE TABLE workitem.calendar_holiday (
    calendar    text NOT NULL REFERENCES workitem.calendar (name) ON UPDATE CASCADE ON DELETE CASCADE,
    day         date NOT NULL,
    starts      time,
    ends        time,
    name        text,
    CHECK (starts IS NULL OR ends IS NULL OR starts < ends)
);
CREATE INDEX calendar_holiday_idx ON workitem.calendar_holiday (calendar, day);

-- Any change to a calendar drops the cached copies in every backend.
CREATE FUNCTION workitem.calendar_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_calendar_changed' LANGUAGE C;
CREATE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON workitem.calendar FOR EACH STATEMENT EXECUTE FUNCTION workitem.calendar_changed();
CREATE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON workitem.calendar_hours FOR EACH STATEMENT EXECUTE FUNCTION workitem.calendar_changed();
CREATE TRIGGER calendar_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON workitem.calendar_holiday FOR EACH STATEMENT EXECUTE FUNCTION workitem.calendar_changed();

-- The built-in round-the-clock calendar; pg_dump keeps every other row.
INSERT INTO workitem.calendar (name, time_zone, description)
VALUES ('24x7', 'UTC', 'Built in: every hour of every day');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT '24x7', d, '00:00', '24:00' FROM generate_series(1, 7) d;
SELECT pg_catalog.pg_extension_config_dump('workitem.calendar', 'WHERE name <> ''24x7''');
SELECT pg_catalog.pg_extension_config_dump('workitem.calendar_hours', 'WHERE calendar <> ''24x7''');
SELECT pg_catalog.pg_extension_config_dump('workitem.calendar_holiday', '');

CREATE FUNCTION workitem.business_time(calendar text, from_time timestamptz, to_time timestamptz)
    RETURNS interval
    AS 'MODULE_PATHNAME', 'workitem_business_time'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION workitem.business_time(text, timestamptz, timestamptz) IS
    'Working time between two moments in the calendar (negative when to_time < from_time).';

CREATE FUNCTION workitem.business_add(calendar text, from_time timestamptz, amount interval)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'workitem_business_add'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION workitem.business_add(text, timestamptz, interval) IS
    'The moment when amount of working time has passed since from_time (before it, when negative).';

CREATE FUNCTION workitem.end_of_working_day(calendar text, from_time timestamptz, n integer)
    RETURNS timestamptz
    AS 'MODULE_PATHNAME', 'workitem_end_of_working_day'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION workitem.end_of_working_day(text, timestamptz, integer) IS
    'The end of the nth working day after the day of from_time (targets in business days).';


------------------------------------------------------------------------
-- Holiday import: the holidays of a calendar from an iCalendar feed
-- (RFC 5545), parsed in C (src/ics.c). A malformed feed is refused whole.
------------------------------------------------------------------------
CREATE FUNCTION workitem.import_holidays(calendar text, ics text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'workitem_import_holidays'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.import_holidays(text, text) IS
    'Loads the events of an iCalendar feed into workitem.calendar_holiday; returns the rows added.';
