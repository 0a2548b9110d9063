------------------------------------------------------------------------
-- Scale out with Citus (issue 14; doc/citus-findings.md): distribute()
-- turns an installed database into a distributed one. The tables that
-- belong to an item are distributed by tenant, colocated with item; the
-- configuration tables become reference tables (a copy on every node).
------------------------------------------------------------------------
CREATE FUNCTION workitem.distribute(shard_count integer DEFAULT NULL) RETURNS void
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $f$
DECLARE
    config regclass[] := ARRAY['workitem.calendar', 'workitem.calendar_hours', 'workitem.calendar_holiday',
                               'workitem.category_config', 'workitem.sla_policy', 'workitem.sla_target',
                               'workitem.attached_table']::regclass[];
    -- parents first: the keys among them include the tenant
    owned regclass[] := ARRAY['workitem.item', 'workitem.message', 'workitem.event', 'workitem.time_entry',
                              'workitem.sla_clock', 'workitem.sla_clock_event',
                              'workitem.timer', 'workitem.expense']::regclass[];
    t regclass;
    fk record;
    fks text[] := '{}';
    def text;
    w record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'workitem.distribute() needs Citus, which is not installed in this database'
            USING ERRCODE = 'feature_not_supported',
                  HINT = 'Load citus (shared_preload_libraries), CREATE EXTENSION citus on every node, '
                         'register the workers (citus_add_node), then call it again.';
    END IF;
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid OPERATOR(pg_catalog.=) c.relnamespace
               WHERE n.nspname OPERATOR(pg_catalog.=) 'pg_catalog' AND c.relname OPERATOR(pg_catalog.=) 'pg_dist_partition')
       AND EXISTS (SELECT 1 FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) 'workitem.item'::regclass) THEN
        RAISE EXCEPTION 'workitem is distributed already'
            USING ERRCODE = 'object_not_in_prerequisite_state',
                  HINT = 'A node added later needs its sequences set: see "Scale out with Citus" in the README.';
    END IF;
    -- the tables have the engine's triggers; Citus refuses them otherwise
    PERFORM pg_catalog.set_config('citus.enable_unsafe_triggers', 'on', true);
    -- keys to reference tables are added in this transaction: one connection per node
    PERFORM pg_catalog.set_config('citus.multi_shard_modify_mode', 'sequential', true);
    IF shard_count IS NOT NULL THEN
        PERFORM pg_catalog.set_config('citus.shard_count', shard_count::text, true);
    END IF;

    -- Foreign keys to a configuration table make Citus convert every local
    -- table they connect (recreating what the workers' extension made):
    -- dropped here, added again once every table is distributed.
    FOR fk IN SELECT con.conrelid::regclass AS tbl, con.conname, pg_catalog.pg_get_constraintdef(con.oid) AS def
                FROM pg_catalog.pg_constraint con
               WHERE con.contype OPERATOR(pg_catalog.=) 'f'
                 AND con.confrelid OPERATOR(pg_catalog.=) ANY (config)
               ORDER BY con.oid
    LOOP
        fks := fks OPERATOR(pg_catalog.||) pg_catalog.format('ALTER TABLE %s ADD CONSTRAINT %I %s', fk.tbl, fk.conname, fk.def);
        EXECUTE pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT %I', fk.tbl, fk.conname);
        -- the workers' copies (made by their CREATE EXTENSION) too: Citus
        -- adds the key again on every node below
        FOR w IN SELECT * FROM pg_catalog.run_command_on_workers(
                     pg_catalog.format('ALTER TABLE %s DROP CONSTRAINT IF EXISTS %I', fk.tbl, fk.conname)) r
                 WHERE NOT r.success
        LOOP
            RAISE EXCEPTION 'workitem.distribute(): dropping % on worker %:% failed: %',
                            fk.conname, w.nodename, w.nodeport, w.result;
        END LOOP;
    END LOOP;

    -- one call per statement: Citus refuses several in one (local execution)
    FOREACH t IN ARRAY config LOOP
        PERFORM pg_catalog.create_reference_table(t);
    END LOOP;
    PERFORM pg_catalog.create_distributed_table('workitem.item', 'tenant');
    FOREACH t IN ARRAY owned[2:] LOOP
        PERFORM pg_catalog.create_distributed_table(t, 'tenant', colocate_with => 'workitem.item');
    END LOOP;
    -- one ALTER TABLE each (Citus: no ADD CONSTRAINT with other subcommands)
    FOREACH def IN ARRAY fks LOOP
        EXECUTE def;
    END LOOP;
    -- run_timers() delegates each tenant's work to the node of its shards
    PERFORM pg_catalog.create_distributed_function('workitem.run_timers_tenant(text,timestamptz,integer)',
                                                   'tenant', colocate_with => 'workitem.item',
                                                   force_delegation => true);
    -- start_timer() and stop_timer() too, so that their log rows are written there
    PERFORM pg_catalog.create_distributed_function('workitem.start_timer_on(text,bigint,text,text)',
                                                   'tenant', colocate_with => 'workitem.item',
                                                   force_delegation => true);
    PERFORM pg_catalog.create_distributed_function('workitem.stop_timer_on(text,bigint,text,text)',
                                                   'tenant', colocate_with => 'workitem.item',
                                                   force_delegation => true);
    -- the rows copied into the shards stay on disk in the local tables
    FOREACH t IN ARRAY config OPERATOR(pg_catalog.||) owned LOOP
        PERFORM pg_catalog.truncate_local_data_after_distributing_table(t);
    END LOOP;

    -- Ids made on a worker (the log rows its triggers write) come from the
    -- worker's own copy of each sequence: give each node its range, as
    -- Citus does for its own sequences (group << 48), so ids never clash.
    FOR w IN SELECT * FROM pg_catalog.run_command_on_workers($w$
        DO $x$
        DECLARE
            s regclass;
            g bigint := (SELECT groupid FROM pg_catalog.pg_dist_local_group);
        BEGIN
            FOR s IN SELECT c.oid FROM pg_catalog.pg_class c
                      WHERE c.relnamespace OPERATOR(pg_catalog.=) 'workitem'::regnamespace
                        AND c.relkind OPERATOR(pg_catalog.=) 'S'
            LOOP
                EXECUTE pg_catalog.format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START WITH %s RESTART',
                                          s, (g OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1,
                                          (g OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.<<) 48,
                                          (g OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1);
            END LOOP;
        END $x$ $w$) r WHERE NOT r.success
    LOOP
        RAISE EXCEPTION 'workitem.distribute(): setting the id ranges on worker %:% failed: %',
                        w.nodename, w.nodeport, w.result;
    END LOOP;
END
$f$;
COMMENT ON FUNCTION workitem.distribute(integer) IS
    'Citus: makes the configuration tables reference tables, distributes the tables of items by tenant (colocated with workitem.item), and gives every worker its own range of ids. Superuser or owner only.';
REVOKE ALL ON FUNCTION workitem.distribute(integer) FROM PUBLIC;
