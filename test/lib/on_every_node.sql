-- A table a test attaches, on every node when workitem is distributed on
-- Citus (README "Scale out with Citus", attached tables): a reference
-- table, or given its tenant column a table distributed by it, colocated
-- with workitem.item. On one node it does nothing. \ir it, then
-- CALL pg_temp.on_every_node(tbl) right after CREATE TABLE (a procedure:
-- psql -q prints nothing for it, so pg_regress outputs are the same).
CREATE PROCEDURE pg_temp.on_every_node(tbl regclass, tenant_column name DEFAULT NULL)
    LANGUAGE plpgsql AS $f$
BEGIN
    IF to_regclass('pg_catalog.pg_dist_partition') IS NULL THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition
                   WHERE logicalrelid = 'workitem.item'::regclass) THEN
        RETURN;
    END IF;
    IF tenant_column IS NULL THEN
        EXECUTE 'SELECT pg_catalog.create_reference_table($1)' USING tbl;
    ELSE
        EXECUTE 'SELECT pg_catalog.create_distributed_table($1, $2, colocate_with => ''workitem.item'')'
            USING tbl, tenant_column;
    END IF;
END
$f$;
