-- workitem 1.1.0 to 1.2.0. An upgrade script holds only what changed; the
-- whole schema of the current version is extension/current/*.sql, and
-- test/upgrade.sh checks that both roads end in the same catalog.
\echo Use "ALTER EXTENSION workitem UPDATE" to load this file. \quit

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
