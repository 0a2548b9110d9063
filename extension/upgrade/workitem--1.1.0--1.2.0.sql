-- workitem 1.1.0 to 1.2.0. An upgrade script holds only what changed; the
-- whole schema of the current version is extension/current/*.sql, and
-- test/upgrade.sh checks that both roads end in the same catalog.
\echo Use "ALTER EXTENSION workitem UPDATE" to load this file. \quit

-- SLA targets a calendar can reach: a target is added to the clock's start
-- in microseconds of working time, and 213503982 days wrapped round into
-- the past. Added NOT VALID, then validated below with the others.
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_at_most_100_years
    CHECK (working_time IS NULL OR working_time <= interval '36525 days') NOT VALID;
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_business_days_at_most_100_years
    CHECK (business_days IS NULL OR business_days <= 26089) NOT VALID;

COMMENT ON FUNCTION workitem.sla_label(bigint, text, timestamptz) IS
    'Due: 2026-11-30 16:30 CET (to the minute, in the session''s TimeZone), or while stopped: Due: paused 2 h 5 m before due date / after due date.';

-- 1.1.0 added its checks NOT VALID, so that an upgrade with a bad row went
-- through. Validate each now when the rows allow it (a fresh install has
-- them valid); otherwise say which is left, and the upgrade goes on.
DO $validate$
DECLARE
    c record;
BEGIN
    FOR c IN SELECT con.conrelid::regclass AS tbl, con.conname
               FROM pg_catalog.pg_constraint con
              WHERE con.connamespace OPERATOR(pg_catalog.=) 'workitem'::regnamespace
                AND NOT con.convalidated
    LOOP
        BEGIN
            EXECUTE pg_catalog.format('ALTER TABLE %s VALIDATE CONSTRAINT %I', c.tbl, c.conname);
        EXCEPTION WHEN check_violation THEN
            RAISE WARNING 'constraint % on % is left NOT VALID: some rows break it', c.conname, c.tbl
                USING HINT = pg_catalog.format('Fix the rows, then ALTER TABLE %s VALIDATE CONSTRAINT %I.',
                                               c.tbl, c.conname);
        END;
    END LOOP;
END $validate$;
