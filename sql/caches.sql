-- The backend's caches of attached tables and calendars: an invalidation
-- makes the next use load again, and loading again replaces memory
-- instead of adding to it (pg_backend_memory_contexts: CacheMemoryContext
-- and the caches' own contexts, used bytes).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set ECHO none
\ir test/lib/on_every_node.sql
\set ECHO all
\set SHOW_CONTEXT never
SET workitem.actor = 'dba';
CREATE TEMP VIEW cache_bytes AS
SELECT sum(total_bytes - free_bytes) AS bytes FROM pg_backend_memory_contexts
 WHERE name = 'CacheMemoryContext' OR name LIKE 'workitem%' OR parent LIKE 'workitem%';

-- An attached table with a big label map, reloaded after each change of
-- the table (a relcache invalidation), 300 times
CREATE SCHEMA caches;
CREATE TABLE caches.tickets (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('caches.tickets');
SELECT workitem.attach('caches.tickets',
       label_map => (SELECT jsonb_object_agg(format('s%s', i),
                                             (enum_range(NULL::workitem.status))[1 + i % 6])
                       FROM generate_series(1, 100) i)) IS NOT NULL AS attached;
INSERT INTO caches.tickets VALUES (1, 's6');
CREATE FUNCTION pg_temp.reload_attached(n int, fire bool) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        EXECUTE format('ALTER TABLE caches.tickets ALTER COLUMN status SET STATISTICS %s', 100 + i % 2);
        IF fire THEN
            UPDATE caches.tickets SET status = CASE WHEN i % 2 = 0 THEN 's6' ELSE 's12' END WHERE id = 1;
        END IF;
    END LOOP;
END $$;
SELECT pg_temp.reload_attached(20, true);
SELECT bytes AS b0 FROM cache_bytes \gset
SELECT pg_temp.reload_attached(300, false);
SELECT bytes AS b1 FROM cache_bytes \gset
SELECT pg_temp.reload_attached(300, true);
SELECT bytes AS b2 FROM cache_bytes \gset
-- the table's changes alone, then with a reload each: no growth either way
SELECT :b1 - :b0 < 3000 AS changes_alone_flat, :b2 - :b1 < 3000 AS reloads_flat;
SELECT count(*) AS loaded_triggers FROM pg_backend_memory_contexts WHERE name = 'workitem attached table';
-- a change elsewhere leaves the entry alone; a change of the table itself is seen
ALTER TABLE caches.tickets ADD COLUMN note text;
UPDATE caches.tickets SET status = 's7', note = 'x' WHERE id = 1;
SELECT status, note FROM caches.tickets;

-- The activity log's own cache (its indexes, defaults, constraints),
-- rebuilt after each change of workitem.event, 300 times; the attached
-- table's entry is left alone by a change of another table
CREATE FUNCTION pg_temp.reload_log(n int, fire bool) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    FOR i IN 1..n LOOP
        EXECUTE format('ALTER TABLE workitem.event ALTER COLUMN reason SET STATISTICS %s', 100 + i % 2);
        IF fire THEN  -- to_do and in_progress in turn: each a logged move
            UPDATE caches.tickets SET status = CASE WHEN i % 2 = 0 THEN 's7' ELSE 's8' END WHERE id = 1;
        END IF;
    END LOOP;
END $$;
SELECT pg_temp.reload_log(20, true);
SELECT bytes AS l0 FROM cache_bytes \gset
SELECT pg_temp.reload_log(300, false);
SELECT bytes AS l1 FROM cache_bytes \gset
SELECT pg_temp.reload_log(300, true);
SELECT bytes AS l2 FROM cache_bytes \gset
SELECT :l1 - :l0 < 3000 AS changes_alone_flat, :l2 - :l1 < 3000 AS rebuilds_flat;
SELECT count(*) AS logged_moves FROM workitem.event WHERE source = 'caches.tickets'::regclass AND what = 'status';
ALTER TABLE workitem.event ALTER COLUMN reason SET STATISTICS -1;

-- A calendar, reloaded after each change of its rows, 300 times; each
-- load sees the hours of the moment
INSERT INTO workitem.calendar (name, time_zone) VALUES ('caches', 'UTC');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'caches', d, '09:00', '17:00' FROM generate_series(1, 5) d;
CREATE FUNCTION pg_temp.reload_calendar(n int, fire bool) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    wrong int := 0;
    hours interval;
BEGIN
    FOR i IN 1..n LOOP
        hours := make_interval(hours => 8 + i % 2);
        UPDATE workitem.calendar_hours SET ends = '09:00'::time + hours WHERE calendar = 'caches';
        IF fire AND workitem.business_time('caches', '2026-01-05 00:00+00', '2026-01-06 00:00+00') <> hours THEN
            wrong := wrong + 1;
        END IF;
    END LOOP;
    RETURN wrong;
END $$;
SELECT pg_temp.reload_calendar(20, true) AS wrong;
SELECT bytes AS c0 FROM cache_bytes \gset
SELECT pg_temp.reload_calendar(300, false) AS wrong;
SELECT bytes AS c1 FROM cache_bytes \gset
SELECT pg_temp.reload_calendar(300, true) AS wrong;
SELECT bytes AS c2 FROM cache_bytes \gset
SELECT :c1 - :c0 < 3000 AS changes_alone_flat, :c2 - :c1 < 3000 AS reloads_flat;
SELECT count(*) AS loaded_calendars FROM pg_backend_memory_contexts WHERE name = 'workitem calendar';

DROP SCHEMA caches CASCADE;
DELETE FROM workitem.calendar_hours WHERE calendar = 'caches';
DELETE FROM workitem.calendar WHERE name = 'caches';
