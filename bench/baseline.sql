-- The PL/pgSQL a user would otherwise write: walk the calendar day by day.
-- Used as the baseline of bench/calendar.sh and as the reference of the
-- random comparison in test/calendar.sql. Not part of the extension.
CREATE SCHEMA IF NOT EXISTS baseline;

-- Working time between a and b (a <= b), day by day.
CREATE OR REPLACE FUNCTION baseline.business_time(cal text, a timestamptz, b timestamptz)
RETURNS interval LANGUAGE plpgsql STABLE AS $$
DECLARE
    tz text;
    d date;
    last date;
    h record;
    c record;
    rs timestamptz;
    re timestamptz;
    total interval := '0';
BEGIN
    IF b < a THEN
        RETURN -baseline.business_time(cal, b, a);
    END IF;
    SELECT time_zone INTO tz FROM workitem.calendar WHERE name = cal;
    d := (a AT TIME ZONE tz)::date;
    last := (b AT TIME ZONE tz)::date;
    WHILE d <= last LOOP
        FOR h IN SELECT starts, ends FROM workitem.calendar_hours
                  WHERE calendar = cal AND weekday = extract(isodow FROM d) LOOP
            rs := greatest(a, (d + h.starts) AT TIME ZONE tz);
            re := least(b, (d + h.ends) AT TIME ZONE tz);
            IF re > rs THEN
                total := total + (re - rs);
                FOR c IN SELECT coalesce(starts, '00:00') AS s, coalesce(ends, '24:00') AS e
                           FROM workitem.calendar_holiday WHERE calendar = cal AND day = d LOOP
                    IF least(re, (d + c.e) AT TIME ZONE tz) > greatest(rs, (d + c.s) AT TIME ZONE tz) THEN
                        total := total - (least(re, (d + c.e) AT TIME ZONE tz)
                                          - greatest(rs, (d + c.s) AT TIME ZONE tz));
                    END IF;
                END LOOP;
            END IF;
        END LOOP;
        d := d + 1;
    END LOOP;
    RETURN justify_hours(total) - justify_hours(total) + (extract(epoch FROM total) * interval '1 second');
END $$;

-- The moment when amount (> 0) of working time has passed after a.
CREATE OR REPLACE FUNCTION baseline.business_add(cal text, a timestamptz, amount interval)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
    tz text;
    d date;
    left_ interval := amount;
    h record;
    rs timestamptz;
    re timestamptz;
    cut timestamptz;
    n int := 0;
BEGIN
    SELECT time_zone INTO tz FROM workitem.calendar WHERE name = cal;
    d := (a AT TIME ZONE tz)::date;
    LOOP
        FOR h IN SELECT starts, ends FROM workitem.calendar_hours
                  WHERE calendar = cal AND weekday = extract(isodow FROM d) ORDER BY starts LOOP
            rs := greatest(a, (d + h.starts) AT TIME ZONE tz);
            re := (d + h.ends) AT TIME ZONE tz;
            -- walk the range in pieces between holiday closures
            WHILE rs < re LOOP
                SELECT min(greatest(rs, (d + coalesce(starts, '00:00')) AT TIME ZONE tz)) INTO cut
                  FROM workitem.calendar_holiday
                 WHERE calendar = cal AND day = d
                   AND (d + coalesce(ends, '24:00')) AT TIME ZONE tz > rs
                   AND (d + coalesce(starts, '00:00')) AT TIME ZONE tz < re;
                IF cut IS NULL THEN cut := re; END IF;
                IF cut > rs THEN
                    IF cut - rs >= left_ THEN
                        RETURN rs + left_;
                    END IF;
                    left_ := left_ - (cut - rs);
                END IF;
                -- skip the closure that starts at cut
                SELECT max((d + coalesce(ends, '24:00')) AT TIME ZONE tz) INTO rs
                  FROM workitem.calendar_holiday
                 WHERE calendar = cal AND day = d
                   AND (d + coalesce(starts, '00:00')) AT TIME ZONE tz <= cut
                   AND (d + coalesce(ends, '24:00')) AT TIME ZONE tz > cut;
                IF rs IS NULL THEN rs := re; END IF;
            END LOOP;
        END LOOP;
        d := d + 1;
        n := n + 1;
        IF n > 100000 THEN RAISE EXCEPTION 'no working time found'; END IF;
    END LOOP;
END $$;
