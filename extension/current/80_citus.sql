------------------------------------------------------------------------
-- Scale out with Citus (issue 14; doc/citus-findings.md): distribute()
-- turns an installed database into a distributed one. The tables that
-- belong to an item are distributed by tenant, colocated with item; the
-- configuration tables become reference tables (a copy on every node).
------------------------------------------------------------------------

-- Ids made on a worker (the log rows its triggers write, the follow-up
-- tickets) come from the worker's own copy of each sequence: each worker
-- gets its own range, as Citus gives its own sequences (group << 48), so
-- that ids never clash. A worker whose sequences have their range already
-- is left alone (its ids go on), so this is run again after citus_add_node:
-- the new worker gets its range. Returns how many workers it set.
CREATE FUNCTION workitem.distribute_nodes() RETURNS integer
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $f$
DECLARE
    w record;
    n integer;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname OPERATOR(pg_catalog.=) 'citus') THEN
        RAISE EXCEPTION 'workitem.distribute_nodes() needs Citus, which is not installed in this database'
            USING ERRCODE = 'feature_not_supported';
    END IF;
    -- the workers with a sequence out of their range: those are set below
    SELECT pg_catalog.count(*) INTO n FROM pg_catalog.run_command_on_workers($w$
        SELECT pg_catalog.count(*) FROM pg_catalog.pg_sequence q
          JOIN pg_catalog.pg_class c ON c.oid OPERATOR(pg_catalog.=) q.seqrelid
         WHERE c.relnamespace OPERATOR(pg_catalog.=) 'workitem'::regnamespace
           AND q.seqmin OPERATOR(pg_catalog.<>)
               (((SELECT groupid::pg_catalog.int8 FROM pg_catalog.pg_dist_local_group) OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1) $w$) r
     WHERE r.success AND r.result OPERATOR(pg_catalog.<>) '0';
    FOR w IN SELECT * FROM pg_catalog.run_command_on_workers($w$
        DO $x$
        DECLARE
            s regclass;
            g bigint := (SELECT groupid FROM pg_catalog.pg_dist_local_group);
        BEGIN
            -- this node's own copies only (on a node added later Citus takes
            -- them for distributed objects and refuses ALTER SEQUENCE)
            PERFORM pg_catalog.set_config('citus.enable_ddl_propagation', 'off', true);
            FOR s IN SELECT c.oid FROM pg_catalog.pg_class c
                       JOIN pg_catalog.pg_sequence q ON q.seqrelid OPERATOR(pg_catalog.=) c.oid
                      WHERE c.relnamespace OPERATOR(pg_catalog.=) 'workitem'::regnamespace
                        AND q.seqmin OPERATOR(pg_catalog.<>) ((g OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1)
            LOOP
                EXECUTE pg_catalog.format('ALTER SEQUENCE %s MINVALUE %s MAXVALUE %s START WITH %s RESTART',
                                          s, (g OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1,
                                          (g OPERATOR(pg_catalog.+) 1) OPERATOR(pg_catalog.<<) 48,
                                          (g OPERATOR(pg_catalog.<<) 48) OPERATOR(pg_catalog.+) 1);
            END LOOP;
        END $x$ $w$) r
    LOOP
        IF NOT w.success THEN
            RAISE EXCEPTION 'workitem.distribute_nodes(): setting the id ranges on worker %:% failed: %',
                            w.nodename, w.nodeport, w.result;
        END IF;
    END LOOP;
    RETURN n;
END
$f$;
COMMENT ON FUNCTION workitem.distribute_nodes() IS
    'Citus: gives every worker whose workitem sequences have no range yet its own (group << 48); run after citus_add_node. Superuser or owner only.';
REVOKE ALL ON FUNCTION workitem.distribute_nodes() FROM PUBLIC;

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
                  HINT = 'A node added later gets its id range from workitem.distribute_nodes().';
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

    -- The local rows Citus copies into the shards below reach the shards'
    -- triggers as COPY on Citus's connections: a restore (loaded as they
    -- are), which the triggers take only with this mark (src/engine.c).
    SET LOCAL citus.propagate_set_commands = 'local';
    SET LOCAL workitem.restoring = on;
    -- one call per statement: Citus refuses several in one (local execution)
    FOREACH t IN ARRAY config LOOP
        PERFORM pg_catalog.create_reference_table(t);
    END LOOP;
    PERFORM pg_catalog.create_distributed_table('workitem.item', 'tenant');
    FOREACH t IN ARRAY owned[2:] LOOP
        PERFORM pg_catalog.create_distributed_table(t, 'tenant', colocate_with => 'workitem.item');
    END LOOP;
    SET LOCAL workitem.restoring = off;
    -- one ALTER TABLE each (Citus: no ADD CONSTRAINT with other subcommands)
    FOREACH def IN ARRAY fks LOOP
        EXECUTE def;
    END LOOP;
    -- workitem_reader reads the views, which read the tables as their
    -- owner; Citus runs their shard queries as the reader, who needs
    -- SELECT on the shards. Granted here (Citus copies them to every
    -- shard) on the columns the views show or join on, and on nothing
    -- else: no message, no description, resolution note, attrs or change
    -- reason of an item, no note of a time entry (README "Scale out with
    -- Citus" says what a reader reads on a worker).
    GRANT SELECT (id, tenant, kind, status, wait_type, wait_until, wait_reason, close_if_no_reply,
                  resolution, title, category, priority, queue, assignee, requester, primary_contact,
                  case_id, parent_id, merged_into, follows_id, highlighted, needs_attention,
                  attention_reason, created_at, submitted_at, status_changed_at, first_resolved_at,
                  resolved_at, closed_at, feedback_until, sla_policy_id)
        ON workitem.item TO workitem_reader;
    GRANT SELECT (id, tenant, item_id, source, row_key, at, actor, what, old_value, new_value, reason)
        ON workitem.event TO workitem_reader;
    GRANT SELECT (tenant, item_id, resource, started_at, duration, tracked)
        ON workitem.time_entry TO workitem_reader;
    GRANT SELECT (tenant, item_id, kind, at, quantity, unit_price, currency)
        ON workitem.expense TO workitem_reader;
    GRANT SELECT (id, tenant, item_id, source, row_key, target, cycle, policy_id, calendar, target_time,
                  state, started_at, since, used, due_at, stopped_at, breached_at)
        ON workitem.sla_clock TO workitem_reader;
    GRANT SELECT (id, name, calendar, warn_at) ON workitem.sla_policy TO workitem_reader;
    GRANT SELECT (policy_id, target, business_days) ON workitem.sla_target TO workitem_reader;
    GRANT SELECT (tbl, kind, status_column, label_map, log_events, wait_type_column, resolution_column,
                  assignee_column, assignee_nobody, actor_column, attached_at, attached_by, mode,
                  enforce_only, filter, feedback_window, source_oid, source_name)
        ON workitem.attached_table TO workitem_reader;
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
    -- worker's own copy of each sequence: each node gets its range.
    PERFORM workitem.distribute_nodes();
END
$f$;
COMMENT ON FUNCTION workitem.distribute(integer) IS
    'Citus: makes the configuration tables reference tables, distributes the tables of items by tenant (colocated with workitem.item), and gives every worker its own range of ids. Superuser or owner only.';
REVOKE ALL ON FUNCTION workitem.distribute(integer) FROM PUBLIC;
