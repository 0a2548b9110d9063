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

------------------------------------------------------------------------
-- Reads that cost what they return (issue 13). The views keep their
-- documented columns; where a filter could not reach the tables (a window
-- function above it), the view now finds the row before by index instead,
-- and functions serve the shapes a view cannot serve fast.
------------------------------------------------------------------------

-- The log's time index: ranges of 16 pages (not 128), so a time window
-- reads (and the planner expects) about a window's worth of the log, not
-- days of it; new ranges are summarized as they fill, not only by VACUUM
-- (a range never summarized matches every window). Rebuilding a BRIN
-- index is one pass over the log.
DROP INDEX workitem.event_at_idx;
CREATE INDEX event_at_idx ON workitem.event USING brin (at) WITH (pages_per_range = 16, autosummarize = on);

-- transitions, daily_flow and the readers daily_flow_between(),
-- agent_queue() and inbox() are made once, below, with the views for BI
-- tools (whose column types change there).

-- The trigger and the SLA clocks read sla_policy and category_config from
-- a per-backend cache (src/config.c); a change sends every backend a
-- reload, as the calendar tables do.
CREATE FUNCTION workitem.config_changed() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_config_changed' LANGUAGE C;
REVOKE ALL ON FUNCTION workitem.config_changed() FROM PUBLIC;
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON workitem.sla_policy FOR EACH STATEMENT EXECUTE FUNCTION workitem.config_changed();
CREATE TRIGGER config_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON workitem.category_config FOR EACH STATEMENT EXECUTE FUNCTION workitem.config_changed();

-- The invariants of workitem.item as one CHECK calling a C function
-- (src/checks.c): PostgreSQL compiles a table's CHECK expressions again
-- for every statement that writes it, and the 17 constraints cost more
-- than the UPDATE itself. Same rules, same names in the errors (23514
-- "violates check constraint "item_action_has_case"" and so on).
CREATE FUNCTION workitem.item_check(kind workitem.kind, status workitem.status, wait_type workitem.wait_type,
                                    wait_until timestamptz, close_if_no_reply boolean, resolution workitem.resolution,
                                    id bigint, case_id bigint, parent_id bigint, merged_into bigint, follows_id bigint,
                                    assignee text, closed_at timestamptz, resolved_at timestamptz,
                                    first_resolved_at timestamptz, change_reason text, days_to_wait integer,
                                    feedback_window interval)
    RETURNS boolean AS 'MODULE_PATHNAME', 'workitem_item_check' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION workitem.item_check IS
    'The invariants of workitem.item (its CHECK item_invariants); raises 23514 naming the rule a row breaks.';
-- Whoever writes items runs the check.
REVOKE ALL ON FUNCTION workitem.item_check FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.item_check TO workitem_agent;
ALTER TABLE workitem.item
    DROP CONSTRAINT item_action_has_case,
    DROP CONSTRAINT item_action_never_draft,
    DROP CONSTRAINT item_change_reason_transient,
    DROP CONSTRAINT item_close_if_no_reply_needs_days,
    DROP CONSTRAINT item_closed_has_closed_at,
    DROP CONSTRAINT item_days_to_wait_positive,
    DROP CONSTRAINT item_feedback_window_finite,
    DROP CONSTRAINT item_feedback_window_not_negative,
    DROP CONSTRAINT item_first_resolution_kept,
    DROP CONSTRAINT item_follow_up_has_time,
    DROP CONSTRAINT item_in_progress_assigned,
    DROP CONSTRAINT item_not_own_parent,
    DROP CONSTRAINT item_resolution_by_kind,
    DROP CONSTRAINT item_resolution_iff_done,
    DROP CONSTRAINT item_resolved_has_resolved_at,
    DROP CONSTRAINT item_wait_type_by_kind,
    DROP CONSTRAINT item_wait_type_iff_waiting,
    ADD CONSTRAINT item_invariants CHECK (workitem.item_check(kind, status, wait_type, wait_until, close_if_no_reply,
        resolution, id, case_id, parent_id, merged_into, follows_id, assignee, closed_at, resolved_at,
        first_resolved_at, change_reason, days_to_wait, feedback_window));

-- The indexes inbox() reads in the queue's order (inbox() is made below).
CREATE INDEX item_inbox_flagged_idx ON workitem.item (id)
    WHERE (highlighted OR needs_attention) AND status = ANY ('{to_do,in_progress}');
CREATE INDEX item_inbox_age_idx ON workitem.item (status_changed_at, id)
    WHERE status = ANY ('{to_do,in_progress}') AND NOT highlighted AND NOT needs_attention;

------------------------------------------------------------------------
-- Tenants (issue 14): a tenant column on every table that belongs to an
-- item, in its keys, so that Citus can distribute them by tenant with every
-- rule between items in one shard. Existing rows get workitem.tenant's
-- value at upgrade time ('default' unless set).
------------------------------------------------------------------------
CREATE FUNCTION workitem.current_tenant() RETURNS text
    AS 'MODULE_PATHNAME', 'workitem_current_tenant' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION workitem.current_tenant() IS
    'The setting workitem.tenant: the tenant new items are created in (default ''default'').';
REVOKE ALL ON FUNCTION workitem.current_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.current_tenant() TO workitem_agent;

ALTER TABLE workitem.item DROP CONSTRAINT item_case_id_fkey;
ALTER TABLE workitem.item DROP CONSTRAINT item_parent_id_fkey;
ALTER TABLE workitem.item DROP CONSTRAINT item_merged_into_fkey;
ALTER TABLE workitem.item DROP CONSTRAINT item_follows_id_fkey;
ALTER TABLE workitem.message DROP CONSTRAINT message_item_id_fkey;
ALTER TABLE workitem.time_entry DROP CONSTRAINT time_entry_item_id_fkey;
ALTER TABLE workitem.sla_clock DROP CONSTRAINT sla_clock_item_id_fkey;
ALTER TABLE workitem.sla_clock_event DROP CONSTRAINT sla_clock_event_clock_id_fkey;

ALTER TABLE workitem.item ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.message ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.event ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.time_entry ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.sla_clock ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.sla_clock_event ADD COLUMN tenant text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant();
ALTER TABLE workitem.item ADD COLUMN change_actor text;
COMMENT ON COLUMN workitem.item.change_actor IS
    'Write-only actor of the change in this statement (instead of workitem.actor): logged in workitem.event, then cleared.';
-- issue 14 (Citus): a plain INSERT of an item carries the coordinator's
-- actor, and every change the coordinator's now(), for the worker's trigger
-- (added before the views that read item.*)
ALTER TABLE workitem.item ALTER COLUMN change_actor SET DEFAULT workitem.actor();
-- the default set apart: the rows already there keep NULL (it is never stored)
ALTER TABLE workitem.item ADD COLUMN change_at timestamptz;
ALTER TABLE workitem.item ALTER COLUMN change_at SET DEFAULT now();
COMMENT ON COLUMN workitem.item.change_at IS
    'Write-only time of the change in this statement on Citus (the coordinator''s now()): the trigger on the worker sets its times from it, then clears it.';

ALTER TABLE workitem.item DROP CONSTRAINT item_pkey, ADD CONSTRAINT item_pkey PRIMARY KEY (id, tenant);
ALTER TABLE workitem.message DROP CONSTRAINT message_pkey, ADD CONSTRAINT message_pkey PRIMARY KEY (id, tenant);
ALTER TABLE workitem.event DROP CONSTRAINT event_pkey, ADD CONSTRAINT event_pkey PRIMARY KEY (id, tenant);
ALTER TABLE workitem.time_entry DROP CONSTRAINT time_entry_pkey, ADD CONSTRAINT time_entry_pkey PRIMARY KEY (id, tenant);
ALTER TABLE workitem.sla_clock DROP CONSTRAINT sla_clock_pkey, ADD CONSTRAINT sla_clock_pkey PRIMARY KEY (id, tenant);
ALTER TABLE workitem.sla_clock DROP CONSTRAINT sla_clock_item_id_target_cycle_key,
    ADD CONSTRAINT sla_clock_item_id_target_cycle_key UNIQUE (item_id, target, cycle, tenant);
ALTER TABLE workitem.sla_clock_event DROP CONSTRAINT sla_clock_event_pkey,
    ADD CONSTRAINT sla_clock_event_pkey PRIMARY KEY (id, tenant);

ALTER TABLE workitem.item ADD CONSTRAINT item_case_id_fkey
    FOREIGN KEY (case_id, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.item ADD CONSTRAINT item_parent_id_fkey
    FOREIGN KEY (parent_id, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.item ADD CONSTRAINT item_merged_into_fkey
    FOREIGN KEY (merged_into, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.item ADD CONSTRAINT item_follows_id_fkey
    FOREIGN KEY (follows_id, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.message ADD CONSTRAINT message_item_id_fkey
    FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.time_entry ADD CONSTRAINT time_entry_item_id_fkey
    FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant);
ALTER TABLE workitem.sla_clock ADD CONSTRAINT sla_clock_item_id_fkey
    FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant) DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE workitem.sla_clock_event ADD CONSTRAINT sla_clock_event_clock_id_fkey
    FOREIGN KEY (clock_id, tenant) REFERENCES workitem.sla_clock (id, tenant);

-- SLA clocks of rows of attached tables (issue 15, src/attached_sla.c):
-- item_id NULL, the table and the row's primary key instead
ALTER TABLE workitem.sla_clock ALTER COLUMN item_id DROP NOT NULL,
    ADD COLUMN source regclass, ADD COLUMN row_key text COLLATE "C";
ALTER TABLE workitem.sla_clock
    ADD CONSTRAINT sla_clock_source_row_key_target_cycle_key UNIQUE (source, row_key, target, cycle, tenant),
    ADD CONSTRAINT sla_clock_item_or_row CHECK ((item_id IS NULL) = (source IS NOT NULL) AND (source IS NULL) = (row_key IS NULL));
ALTER TABLE workitem.sla_clock_event ALTER COLUMN item_id DROP NOT NULL,
    ADD COLUMN source regclass, ADD COLUMN row_key text COLLATE "C";
CREATE INDEX sla_clock_event_row_idx ON workitem.sla_clock_event (source, row_key, id) WHERE source IS NOT NULL;
-- items' clocks only: inbox() reads items by due time through it, whatever
-- the number of attached rows' clocks
DROP INDEX workitem.sla_clock_due_idx;
CREATE INDEX sla_clock_due_idx ON workitem.sla_clock (due_at) WHERE state = 'running' AND item_id IS NOT NULL;

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

------------------------------------------------------------------------
-- Views for BI tools (issue 17): every duration also in hours (double
-- precision), labels (the enum columns) as text, a day dimension and
-- facts per day, every column commented. The views whose column types
-- change are dropped and made again, then granted as before.
------------------------------------------------------------------------
-- issue 15: attach() enforces or observes, maps a label to a status, wait
-- type and resolution, filters rows, reads the actor and the assignee from
-- columns of any type (attach() below). Citus (issue 14): the OID the log
-- names an attached table by, and its name, the same on every node, which
-- the views join the log on and give as source_name (a table attached on
-- Citus before this: attach() it again to fill them).
ALTER TABLE workitem.attached_table
    ADD COLUMN mode text NOT NULL DEFAULT 'enforce',
    ADD COLUMN enforce_only text[],
    ADD COLUMN filter text,
    ADD COLUMN actor_column name,
    ADD COLUMN assignee_nobody text,
    ADD COLUMN feedback_window interval,
    ADD COLUMN source_oid oid,
    ADD COLUMN source_name text;
CREATE UNIQUE INDEX attached_table_source_idx ON workitem.attached_table ((COALESCE(source_oid, tbl::oid)));

DROP VIEW workitem.items;
DROP VIEW workitem.queue;
DROP VIEW workitem.daily_flow;
DROP VIEW workitem.transitions;
DROP VIEW workitem.status_durations;
DROP VIEW workitem.item_sla;
DROP VIEW workitem.time_per_item;
DROP VIEW workitem.time_per_resource;

-- The name of an attached table the log or a clock names (the views'
-- source_name): source::text on one node; on Citus the name attach() kept,
-- since a worker cannot name the coordinator's OID (citus.c).
CREATE FUNCTION workitem.source_name(source regclass) RETURNS text
    AS 'MODULE_PATHNAME', 'workitem_source_name' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION workitem.source_name(regclass) IS
    'The name of an attached table as the views give it (source_name): source::text, on Citus the name attach() kept.';

CREATE OR REPLACE VIEW workitem.activity_log AS
SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
       e.old_value, e.new_value, e.reason, e.tenant,
       -- source as text, for drivers that know no regclass (on Citus the
       -- name attach() kept: the workers cannot name the coordinator's OID)
       workitem.source_name(e.source) AS source_name
FROM workitem.event e;

CREATE VIEW workitem.item_sla AS
SELECT c.item_id, c.target, c.cycle, p.name AS policy, c.calendar,
       c.target_time, date_part('epoch', c.target_time) / 3600 AS target_hours,
       c.started_at, c.due_at,
       c.target_time - workitem.clock_used(c.calendar, c.used, c.since, now()) AS remaining,
       date_part('epoch', c.target_time - workitem.clock_used(c.calendar, c.used, c.since, now())) / 3600 AS remaining_hours,
       workitem.clock_used(c.calendar, c.used, c.since, now()) AS used_working_time,
       date_part('epoch', workitem.clock_used(c.calendar, c.used, c.since, now())) / 3600 AS used_working_hours,
       COALESCE(c.stopped_at, now()) - c.started_at AS elapsed_wall_clock,
       date_part('epoch', COALESCE(c.stopped_at, now()) - c.started_at) / 3600 AS elapsed_wall_clock_hours,
       round((extract(epoch FROM workitem.clock_used(c.calendar, c.used, c.since, now()))
              / NULLIF(extract(epoch FROM c.target_time), 0) * 100)::numeric, 1) AS percent_used,
       workitem.clock_state(c.state, c.calendar, c.target_time, c.used, c.since, p.warn_at, now()) AS state,
       workitem.clock_label(c.state, c.calendar, c.target_time, c.used, c.since, c.due_at, now()) AS label,
       c.tenant, c.source, c.row_key, workitem.source_name(c.source) AS source_name
FROM workitem.sla_clock c
LEFT JOIN workitem.sla_policy p ON p.id = c.policy_id
-- (an expression per column, not a subquery computing it once: a column
-- not selected then costs nothing)
WHERE NOT EXISTS (SELECT 1 FROM workitem.sla_clock c2
                  WHERE c2.item_id = c.item_id AND c2.tenant = c.tenant AND c2.target = c.target AND c2.cycle > c.cycle)
  AND NOT EXISTS (SELECT 1 FROM workitem.sla_clock c2
                  WHERE c2.source = c.source AND c2.row_key = c.row_key AND c2.tenant = c.tenant
                    AND c2.target = c.target AND c2.cycle > c.cycle);
COMMENT ON VIEW workitem.item_sla IS
    'One row per item and SLA target (current cycle), and per row of an attached table and target (item_id NULL): due time, remaining and used working time, wall-clock elapsed, percent of the target used, state and label.';

CREATE VIEW workitem.status_durations AS
WITH changes AS (
    SELECT e.item_id, e.tenant, e.id, e.at,
           CASE WHEN e.what = 'created' THEN split_part(e.new_value, ' ', 2) ELSE e.new_value END AS status,
           lead(e.at) OVER (PARTITION BY e.tenant, e.item_id ORDER BY e.id) AS until
    FROM workitem.event e
    WHERE e.item_id IS NOT NULL AND e.what IN ('created', 'status')
), row_changes AS (
    -- a row's time in a status ends at its next status, its deletion or its leaving the filter
    SELECT e.source, e.row_key, e.tenant, e.what, e.at, e.new_value AS status,
           lead(e.at) OVER (PARTITION BY e.tenant, e.source, e.row_key ORDER BY e.id) AS until
    FROM workitem.event e
    WHERE e.source IS NOT NULL AND e.what IN ('created', 'status', 'deleted', 'filtered_out')
)
SELECT s.item_id, s.status, s.times_entered,
       s.wall_clock, date_part('epoch', s.wall_clock) / 3600 AS wall_clock_hours,
       s.working_time, date_part('epoch', s.working_time) / 3600 AS working_hours,
       s.source, s.row_key, s.source_name
FROM (
    SELECT c.item_id, c.status::workitem.status::text AS status, count(*) AS times_entered,
           sum(COALESCE(c.until, now()) - c.at) AS wall_clock,
           sum(workitem.business_time(COALESCE(p.calendar, '24x7'), c.at, COALESCE(c.until, now()))) AS working_time,
           NULL::regclass AS source, NULL::text COLLATE "C" AS row_key,  -- the log's collation
           NULL::text AS source_name
    FROM changes c
    JOIN workitem.item i ON i.id = c.item_id AND i.tenant = c.tenant
    LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
    GROUP BY c.item_id, c.status
    UNION ALL
    SELECT NULL::bigint, r.status::workitem.status::text, count(*),
           sum(COALESCE(r.until, now()) - r.at),
           sum(workitem.business_time(COALESCE(k.calendar, '24x7'), r.at, COALESCE(r.until, now()))),
           r.source, r.row_key, workitem.source_name(r.source)
    FROM row_changes r
    LEFT JOIN (SELECT c.tenant, c.source, c.row_key,
                      (array_agg(p.calendar ORDER BY c.cycle DESC, c.id DESC))[1] AS calendar
               FROM workitem.sla_clock c
               LEFT JOIN workitem.sla_policy p ON p.id = c.policy_id
               WHERE c.source IS NOT NULL
               GROUP BY c.tenant, c.source, c.row_key) k
      ON k.source = r.source AND k.row_key = r.row_key AND k.tenant = r.tenant
    -- (a move to a label the map lacks, observed, is no status event: its time counts in the status before)
    WHERE r.what IN ('created', 'status') AND r.status IS NOT NULL
    GROUP BY r.source, r.row_key, r.status
) s;
COMMENT ON VIEW workitem.status_durations IS
    'Per item, and per row of an attached table, and status: how often it was entered, and the wall-clock and working time spent in it (up to now for the current status).';

CREATE VIEW workitem.time_per_item AS
    SELECT item_id, count(*) AS entries, sum(duration) AS total_duration,
           date_part('epoch', sum(duration)) / 3600 AS total_hours
    FROM workitem.time_entry GROUP BY item_id;

CREATE VIEW workitem.time_per_resource AS
    SELECT item_id, resource, count(*) AS entries, sum(duration) AS total_duration,
           date_part('epoch', sum(duration)) / 3600 AS total_hours
    FROM workitem.time_entry GROUP BY item_id, resource;

CREATE VIEW workitem.items AS
SELECT i.id, i.kind::text AS kind, i.status::text AS status, i.wait_type::text AS wait_type,
       i.wait_until, i.wait_reason, i.resolution::text AS resolution,
       i.title, i.category, i.priority, i.queue, i.assignee,
       i.requester, i.primary_contact, i.case_id, i.parent_id, i.merged_into,
       i.follows_id, i.highlighted, i.needs_attention, i.attention_reason,
       i.created_at, i.submitted_at, i.status_changed_at, i.first_resolved_at,
       i.resolved_at, i.closed_at, i.feedback_until,
       COALESCE(i.closed_at, now()) - i.created_at AS age,
       date_part('epoch', COALESCE(i.closed_at, now()) - i.created_at) / 3600 AS age_hours,
       now() - i.status_changed_at AS time_in_status,
       date_part('epoch', now() - i.status_changed_at) / 3600 AS time_in_status_hours,
       p.name AS sla_policy,
       r.due_at AS resolution_due_at,
       r.remaining AS resolution_remaining,
       date_part('epoch', r.remaining) / 3600 AS resolution_remaining_hours,
       COALESCE(r.state, 'none') AS resolution_state,
       f.due_at AS first_response_due_at,
       f.remaining AS first_response_remaining,
       date_part('epoch', f.remaining) / 3600 AS first_response_remaining_hours,
       COALESCE(f.state, 'none') AS first_response_state
FROM workitem.item i
LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
LEFT JOIN workitem.item_sla r ON r.item_id = i.id AND r.tenant = i.tenant AND r.target = 'resolution'
LEFT JOIN workitem.item_sla f ON f.item_id = i.id AND f.tenant = i.tenant AND f.target = 'first_response';
COMMENT ON VIEW workitem.items IS
    'One row per item: current status, wait, resolution, assignee, age, time in the current status, and the resolution and first_response SLA targets (due_at, remaining, state).';

CREATE VIEW workitem.queue AS
WITH open AS (
    -- named columns, not i.*: on Citus the reader holds SELECT on these only
    SELECT i.id, i.kind, i.status, i.assignee, i.title, i.category, i.priority, i.queue,
           i.highlighted, i.needs_attention, i.attention_reason, i.wait_type, i.wait_reason,
           i.close_if_no_reply, i.status_changed_at,
           CASE WHEN i.status = 'waiting' THEN 'waiting' ELSE 'inbox' END AS section,
           CASE WHEN i.status = 'waiting' THEN i.wait_until END AS comes_back_at,
           r.due_at AS resolution_due_at,
           COALESCE(r.state, 'none') AS resolution_state
    FROM workitem.item i
    LEFT JOIN workitem.item_sla r ON r.item_id = i.id AND r.tenant = i.tenant AND r.target = 'resolution'
    WHERE i.status IN ('to_do', 'in_progress', 'waiting')
)
SELECT o.section,
       row_number() OVER (PARTITION BY o.section
                          ORDER BY o.highlighted DESC, o.needs_attention DESC,
                                   o.comes_back_at NULLS LAST, o.resolution_due_at NULLS LAST,
                                   o.status_changed_at, o.id) AS position,
       o.id, o.kind::text AS kind, o.status::text AS status, o.assignee, o.title, o.category, o.priority, o.queue,
       o.highlighted, o.needs_attention, o.attention_reason,
       o.wait_type::text AS wait_type, o.wait_reason, o.comes_back_at, o.close_if_no_reply,
       o.resolution_due_at, o.resolution_state,
       o.status_changed_at AS since,
       now() - o.status_changed_at AS time_in_status,
       date_part('epoch', now() - o.status_changed_at) / 3600 AS time_in_status_hours
FROM open o
ORDER BY o.section, position;
COMMENT ON VIEW workitem.queue IS
    'The work queue: section inbox (to_do and in_progress: highlighted, then needing attention, then by SLA due time, oldest first) and section waiting (by comes_back_at, the wait_until of the wait); position orders each section.';

CREATE VIEW workitem.transitions AS
WITH changes AS (
    SELECT e.id AS event_id, e.item_id, e.tenant, e.source, e.row_key, e.at, e.actor, e.what, e.reason,
           CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_label,
           -- created: 'ticket to_do' for an item, 'to_do' for a row of an attached table
           CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_label,
           COALESCE(pi.at, pr.at) AS previous_at
    FROM workitem.event e
    LEFT JOIN LATERAL (
        SELECT e2.at FROM workitem.event e2
        WHERE e2.item_id = e.item_id AND e2.tenant = e.tenant AND e2.id < e.id AND e2.what IN ('created', 'status')
          AND e2.source IS NOT DISTINCT FROM e.source AND e2.row_key IS NOT DISTINCT FROM e.row_key
        ORDER BY e2.item_id DESC, e2.id DESC LIMIT 1) pi ON e.item_id IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT e2.at FROM workitem.event e2
        WHERE e2.source = e.source AND e2.row_key = e.row_key AND e2.tenant = e.tenant AND e2.id < e.id
          AND e2.what IN ('created', 'status') AND e2.item_id IS NULL
        ORDER BY e2.source DESC, e2.row_key DESC, e2.id DESC LIMIT 1) pr ON e.item_id IS NULL
    WHERE e.what IN ('created', 'status')
)
SELECT c.event_id, c.item_id, c.source, c.row_key, COALESCE(a.source_name, c.source::text) AS source_name,
       COALESCE(i.kind, a.kind)::text AS kind, c.at, c.actor,
       c.what = 'created' AS is_creation,
       c.from_label AS from_status,
       c.to_label AS to_status,
       c.reason,
       c.previous_at AS entered_previous_at,
       c.at - c.previous_at AS time_in_previous,
       date_part('epoch', c.at - c.previous_at) / 3600 AS time_in_previous_hours,
       CASE WHEN c.previous_at IS NOT NULL
            THEN workitem.business_time(COALESCE(p.calendar, '24x7'), c.previous_at, c.at)
       END AS working_time_in_previous,
       -- (an expression per column: a column not selected costs nothing)
       date_part('epoch', CASE WHEN c.previous_at IS NOT NULL
                               THEN workitem.business_time(COALESCE(p.calendar, '24x7'), c.previous_at, c.at)
                          END) / 3600 AS working_hours_in_previous
FROM changes c
LEFT JOIN workitem.item i ON i.id = c.item_id AND i.tenant = c.tenant
LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
-- (on Citus the log's source is the coordinator's OID: source_oid, and the name attach() kept)
LEFT JOIN workitem.attached_table a ON COALESCE(a.source_oid, a.tbl::oid) = c.source::oid
-- attached tables log their own labels mapped to ours; anything else is skipped
WHERE c.to_label = ANY (enum_range(NULL::workitem.status)::text[])
  AND (c.from_label IS NULL OR c.from_label = ANY (enum_range(NULL::workitem.status)::text[]));
COMMENT ON VIEW workitem.transitions IS
    'One row per status change (and per creation, with from_status NULL) of items and attached rows, with the time spent in the status left.';

CREATE VIEW workitem.daily_flow AS
WITH moves AS (
    SELECT e.at, e.item_id, e.tenant, e.source, e.what = 'created' AS is_creation,
           CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_status,
           -- created: 'ticket to_do' for an item, 'to_do' for a row of an attached table
           CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_status
    FROM workitem.event e
    WHERE e.what IN ('created', 'status')
)
SELECT (m.at)::date AS day, COALESCE(i.kind, a.kind)::text AS kind, i.category,
       count(*) FILTER (WHERE m.is_creation) AS created,
       count(*) FILTER (WHERE (m.is_creation AND m.to_status NOT IN ('draft', 'closed'))
                           OR (m.from_status = 'draft' AND m.to_status <> 'closed')) AS submitted,
       count(*) FILTER (WHERE m.to_status = 'resolved'
                           OR (m.to_status = 'closed' AND m.from_status IS DISTINCT FROM 'resolved')) AS resolved,
       count(*) FILTER (WHERE m.to_status = 'closed') AS closed,
       count(*) FILTER (WHERE m.from_status = 'resolved' AND m.to_status IN ('to_do', 'in_progress')) AS reopened,
       COALESCE(a.source_name, m.source::text) AS source_name
FROM moves m
LEFT JOIN workitem.item i ON i.id = m.item_id AND i.tenant = m.tenant
LEFT JOIN workitem.attached_table a ON COALESCE(a.source_oid, a.tbl::oid) = m.source::oid AND m.item_id IS NULL
WHERE (i.id IS NOT NULL OR a.tbl IS NOT NULL)
  -- attached tables log their own labels mapped to ours; anything else is skipped
  AND m.to_status = ANY (enum_range(NULL::workitem.status)::text[])
  AND (m.from_status IS NULL OR m.from_status = ANY (enum_range(NULL::workitem.status)::text[]))
GROUP BY 1, 2, 3, 9;
COMMENT ON VIEW workitem.daily_flow IS
    'Per day, kind and category: items (and rows of attached tables, by source_name) created, submitted, resolved (given a resolution), closed and reopened.';

CREATE FUNCTION workitem.daily_flow_between(from_day date, to_day date)
    RETURNS SETOF workitem.daily_flow
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- a window's rows: starting parallel workers would cost more than reading them
    SET max_parallel_workers_per_gather = 0
    AS $f$
BEGIN
    RETURN QUERY EXECUTE $q$
SELECT (e.at)::date AS day, COALESCE(i.kind, a.kind)::pg_catalog.text AS kind, i.category,
       count(*) FILTER (WHERE m.is_creation) AS created,
       count(*) FILTER (WHERE (m.is_creation AND m.to_status OPERATOR(pg_catalog.<>) ALL ('{draft,closed}'))
                           OR (m.from_status OPERATOR(pg_catalog.=) 'draft'
                               AND m.to_status OPERATOR(pg_catalog.<>) 'closed')) AS submitted,
       count(*) FILTER (WHERE m.to_status OPERATOR(pg_catalog.=) 'resolved'
                           OR (m.to_status OPERATOR(pg_catalog.=) 'closed'
                               AND m.from_status IS DISTINCT FROM 'resolved')) AS resolved,
       count(*) FILTER (WHERE m.to_status OPERATOR(pg_catalog.=) 'closed') AS closed,
       count(*) FILTER (WHERE m.from_status OPERATOR(pg_catalog.=) 'resolved'
                           AND m.to_status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')) AS reopened,
       COALESCE(a.source_name, e.source::pg_catalog.text) AS source_name
FROM workitem.event e
CROSS JOIN LATERAL (
    SELECT e.what OPERATOR(pg_catalog.=) 'created' AS is_creation,
           CASE WHEN e.what OPERATOR(pg_catalog.=) 'created' THEN NULL ELSE e.old_value END AS from_status,
           CASE WHEN e.what OPERATOR(pg_catalog.=) 'created'
                THEN pg_catalog.regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_status) m
LEFT JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) e.item_id AND i.tenant OPERATOR(pg_catalog.=) e.tenant
LEFT JOIN workitem.attached_table a
       ON COALESCE(a.source_oid, a.tbl::pg_catalog.oid) OPERATOR(pg_catalog.=) e.source::pg_catalog.oid AND e.item_id IS NULL
WHERE e.at OPERATOR(pg_catalog.>=) $1::timestamptz
  AND e.at OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.+) 1)::timestamptz
  AND e.what OPERATOR(pg_catalog.=) ANY ('{created,status}')
  AND (i.id IS NOT NULL OR a.tbl IS NOT NULL)
  AND m.to_status OPERATOR(pg_catalog.=) ANY (pg_catalog.enum_range(NULL::workitem.status)::pg_catalog.text[])
  AND (m.from_status IS NULL
       OR m.from_status OPERATOR(pg_catalog.=) ANY (pg_catalog.enum_range(NULL::workitem.status)::pg_catalog.text[]))
GROUP BY 1, 2, 3, 9
ORDER BY 1, 2, 3, 9 $q$ USING from_day, to_day;
END $f$;
COMMENT ON FUNCTION workitem.daily_flow_between(date, date) IS
    'The rows of workitem.daily_flow for the days from_day to to_day, read through the log''s time index.';

CREATE FUNCTION workitem.agent_queue(assignee text, max_rows integer DEFAULT 100)
    RETURNS SETOF workitem.queue
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $f$
#variable_conflict use_variable
BEGIN
    -- PL/pgSQL: the queries are planned once per session, not at every call
    IF assignee IS NULL THEN
        RETURN QUERY
    SELECT o.section,
           row_number() OVER (PARTITION BY o.section
                              ORDER BY o.highlighted DESC, o.needs_attention DESC,
                                       o.comes_back_at NULLS LAST, o.resolution_due_at NULLS LAST,
                                       o.status_changed_at, o.id) AS position,
           o.id, o.kind::pg_catalog.text, o.status::pg_catalog.text, o.assignee, o.title, o.category, o.priority, o.queue,
           o.highlighted, o.needs_attention, o.attention_reason,
           o.wait_type::pg_catalog.text, o.wait_reason, o.comes_back_at, o.close_if_no_reply,
           o.resolution_due_at, o.resolution_state,
           o.status_changed_at AS since,
           pg_catalog.now() OPERATOR(pg_catalog.-) o.status_changed_at AS time_in_status,
           pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) o.status_changed_at)
               OPERATOR(pg_catalog./) 3600 AS time_in_status_hours
    FROM (
        SELECT i.*,
               CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN 'waiting' ELSE 'inbox' END AS section,
               CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN i.wait_until END AS comes_back_at,
               r.due_at AS resolution_due_at,
               COALESCE(r.state, 'none') AS resolution_state
        FROM workitem.item i
        LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id
                                     AND r.tenant OPERATOR(pg_catalog.=) i.tenant AND r.target OPERATOR(pg_catalog.=) 'resolution'
        WHERE i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress,waiting}')
          AND i.assignee IS NULL
    ) o
    ORDER BY o.section, position
    LIMIT max_rows;
    ELSE
        RETURN QUERY
    SELECT o.section,
           row_number() OVER (PARTITION BY o.section
                              ORDER BY o.highlighted DESC, o.needs_attention DESC,
                                       o.comes_back_at NULLS LAST, o.resolution_due_at NULLS LAST,
                                       o.status_changed_at, o.id) AS position,
           o.id, o.kind::pg_catalog.text, o.status::pg_catalog.text, o.assignee, o.title, o.category, o.priority, o.queue,
           o.highlighted, o.needs_attention, o.attention_reason,
           o.wait_type::pg_catalog.text, o.wait_reason, o.comes_back_at, o.close_if_no_reply,
           o.resolution_due_at, o.resolution_state,
           o.status_changed_at AS since,
           pg_catalog.now() OPERATOR(pg_catalog.-) o.status_changed_at AS time_in_status,
           pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) o.status_changed_at)
               OPERATOR(pg_catalog./) 3600 AS time_in_status_hours
    FROM (
        SELECT i.*,
               CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN 'waiting' ELSE 'inbox' END AS section,
               CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN i.wait_until END AS comes_back_at,
               r.due_at AS resolution_due_at,
               COALESCE(r.state, 'none') AS resolution_state
        FROM workitem.item i
        LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id
                                     AND r.tenant OPERATOR(pg_catalog.=) i.tenant AND r.target OPERATOR(pg_catalog.=) 'resolution'
        WHERE i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress,waiting}')
          AND i.assignee OPERATOR(pg_catalog.=) assignee
    ) o
    ORDER BY o.section, position
    LIMIT max_rows;
    END IF;
END $f$;
COMMENT ON FUNCTION workitem.agent_queue(text, integer) IS
    'The open items of one assignee (NULL: unassigned) in the order of workitem.queue, first max_rows; position counts within this queue.';

CREATE FUNCTION workitem.inbox(max_rows integer DEFAULT 20)
    RETURNS SETOF workitem.queue
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- follow the indexes row by row until the page is full: a hash or merge
    -- join would read every open item (the planner cannot tell that the
    -- first clocks due belong to inbox items)
    SET enable_hashjoin = off
    SET enable_mergejoin = off
    AS $f$
DECLARE
    ids bigint[] := '{}';
BEGIN
    IF max_rows IS NULL OR max_rows OPERATOR(pg_catalog.<) 1 THEN
        RAISE EXCEPTION 'max_rows must be at least 1, not %', COALESCE(max_rows::pg_catalog.text, 'NULL')
            USING ERRCODE = CASE WHEN max_rows IS NULL THEN '22004' ELSE '22023' END;
    END IF;
    EXECUTE $q$
        SELECT COALESCE(pg_catalog.array_agg(s.id ORDER BY s.o), '{}') FROM (
            SELECT i.id, pg_catalog.row_number() OVER (ORDER BY i.highlighted DESC, i.needs_attention DESC,
                                                                 c.due_at NULLS LAST, i.status_changed_at, i.id) AS o
            FROM workitem.item i
            LEFT JOIN workitem.sla_clock c ON c.item_id OPERATOR(pg_catalog.=) i.id AND c.tenant OPERATOR(pg_catalog.=) i.tenant
                 AND c.target OPERATOR(pg_catalog.=) 'resolution' AND c.state OPERATOR(pg_catalog.=) 'running'
            WHERE (i.highlighted OR i.needs_attention) AND i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')
            ORDER BY o LIMIT $1) s $q$
        INTO ids USING max_rows;
    IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.<) max_rows THEN
        EXECUTE $q$
            SELECT $2 OPERATOR(pg_catalog.||) COALESCE(pg_catalog.array_agg(s.id ORDER BY s.o), '{}') FROM (
                SELECT i.id, pg_catalog.row_number() OVER (ORDER BY c.due_at, i.status_changed_at, i.id) AS o
                FROM workitem.sla_clock c
                JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) c.item_id AND i.tenant OPERATOR(pg_catalog.=) c.tenant
                WHERE c.state OPERATOR(pg_catalog.=) 'running' AND c.target OPERATOR(pg_catalog.=) 'resolution'
                  AND c.item_id IS NOT NULL  -- (sla_clock_due_idx has items' clocks only)
                  AND i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')
                  AND NOT i.highlighted AND NOT i.needs_attention
                ORDER BY c.due_at, i.status_changed_at, i.id LIMIT $1) s $q$
            INTO ids USING max_rows OPERATOR(pg_catalog.-) pg_catalog.cardinality(ids), ids;
    END IF;
    IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.<) max_rows THEN
        EXECUTE $q$
            SELECT $2 OPERATOR(pg_catalog.||) COALESCE(pg_catalog.array_agg(s.id ORDER BY s.o), '{}') FROM (
                SELECT i.id, pg_catalog.row_number() OVER (ORDER BY i.status_changed_at, i.id) AS o
                FROM workitem.item i
                WHERE i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')
                  AND NOT i.highlighted AND NOT i.needs_attention
                  AND NOT EXISTS (SELECT 1 FROM workitem.sla_clock c WHERE c.item_id OPERATOR(pg_catalog.=) i.id AND c.tenant OPERATOR(pg_catalog.=) i.tenant
                                  AND c.target OPERATOR(pg_catalog.=) 'resolution'
                                  AND c.state OPERATOR(pg_catalog.=) 'running')
                ORDER BY i.status_changed_at, i.id LIMIT $1) s $q$
            INTO ids USING max_rows OPERATOR(pg_catalog.-) pg_catalog.cardinality(ids), ids;
    END IF;
    RETURN QUERY
    SELECT 'inbox'::pg_catalog.text, o.n, i.id, i.kind::pg_catalog.text, i.status::pg_catalog.text, i.assignee,
           i.title, i.category, i.priority, i.queue,
           i.highlighted, i.needs_attention, i.attention_reason,
           i.wait_type::pg_catalog.text, i.wait_reason, NULL::timestamptz, i.close_if_no_reply,
           r.due_at, COALESCE(r.state, 'none'),
           i.status_changed_at, pg_catalog.now() OPERATOR(pg_catalog.-) i.status_changed_at,
           pg_catalog.date_part('epoch', pg_catalog.now() OPERATOR(pg_catalog.-) i.status_changed_at)
               OPERATOR(pg_catalog./) 3600
    FROM pg_catalog.unnest(ids) WITH ORDINALITY AS o(id, n)
    JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) o.id
    LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id AND r.tenant OPERATOR(pg_catalog.=) i.tenant
                                 AND r.target OPERATOR(pg_catalog.=) 'resolution'
    ORDER BY o.n;
END $f$;
COMMENT ON FUNCTION workitem.inbox(integer) IS
    'The inbox''s first max_rows items: the rows of workitem.queue in section inbox with position <= max_rows, read in order instead of numbering every open item.';

-- The clocks that stopped in a time window (SLA facts per day).
CREATE INDEX sla_clock_stopped_idx ON workitem.sla_clock (stopped_at) WHERE state = ANY ('{met,missed}');

-- at falls on day (in the session's TimeZone): at >= day::timestamptz AND
-- at < (day + 1)::timestamptz, for the facts' per-day reads (src/onday.c).
-- In a LATERAL the day is a parameter, and PostgreSQL estimates the two
-- comparisons at a fixed 0.5 % of the table, which grows with the table
-- while a day's rows do not (past jit_above_cost: milliseconds of reading,
-- tens of compiling). Its support function estimates one day's share of the
-- column's rows and gives the two comparisons to the column's index.
CREATE FUNCTION workitem.on_day_support(internal) RETURNS internal
    AS 'MODULE_PATHNAME', 'workitem_on_day_support' LANGUAGE C STRICT;
CREATE FUNCTION workitem.on_day(at timestamptz, day date) RETURNS boolean
    AS 'MODULE_PATHNAME', 'workitem_on_day'
    LANGUAGE C STABLE STRICT PARALLEL SAFE SUPPORT workitem.on_day_support;
COMMENT ON FUNCTION workitem.on_day(timestamptz, date) IS
    'at falls on day in the session TimeZone (at >= day::timestamptz AND at < (day + 1)::timestamptz), estimated at one day''s share of the rows and read through an index of the column.';

-- The days from from_day to to_day, the facts' day series. STRICT keeps
-- PostgreSQL from inlining it, so that its ROWS counts: below 200 rows
-- PostgreSQL takes every row for distinct, and estimates a filter on one
-- day at the one row it returns (generate_series of arguments it cannot
-- compute: 1000 rows, and a day at 5, each reading the log again).
CREATE FUNCTION workitem.day_series(from_day date, to_day date) RETURNS SETOF date
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE ROWS 100
    AS $$ SELECT from_day + g FROM pg_catalog.generate_series(0, to_day - from_day) g $$;
COMMENT ON FUNCTION workitem.day_series(date, date) IS
    'The days from from_day to to_day, one row each (the day series of the facts per day).';

-- The day dimension: one row per business calendar and day, from the day
-- of the first log row (today on an empty database) to a year from today.
-- working_hours is the working time of that day (00:00 to 24:00 in the
-- calendar's time zone), holidays and partial closings deducted.
CREATE VIEW workitem.days AS
SELECT d.day, c.name AS calendar,
       extract(isoyear FROM d.day)::integer AS iso_year,
       extract(week FROM d.day)::integer AS iso_week,
       to_char(d.day, 'IYYY-"W"IW') AS iso_week_label,
       date_trunc('week', d.day)::date AS week_start,
       extract(year FROM d.day)::integer AS year,
       extract(month FROM d.day)::integer AS month,
       to_char(d.day, 'YYYY-MM') AS month_label,
       date_trunc('month', d.day)::date AS month_start,
       extract(quarter FROM d.day)::integer AS quarter,
       to_char(d.day, 'YYYY-"Q"Q') AS quarter_label,
       extract(isodow FROM d.day)::integer AS weekday,
       to_char(d.day, 'FMDay') AS weekday_name,
       extract(isodow FROM d.day) >= 6 AS is_weekend,
       w.hours > 0 AS is_working_day,
       w.hours AS working_hours,
       (SELECT string_agg(h.name, ', ' ORDER BY h.starts NULLS FIRST, h.name)
        FROM workitem.calendar_holiday h WHERE h.calendar = c.name AND h.day = d.day) AS holiday
FROM (SELECT f.first + g AS day
      FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                            current_date) AS first) f,
           generate_series(0, current_date + 366 - f.first) g) d
CROSS JOIN workitem.calendar c
-- once per row (OFFSET 0: not once per column)
CROSS JOIN LATERAL (
    SELECT date_part('epoch', workitem.business_time(c.name, d.day::timestamp AT TIME ZONE c.time_zone,
                                                     (d.day + 1)::timestamp AT TIME ZONE c.time_zone)) / 3600 AS hours
    OFFSET 0) w;
COMMENT ON VIEW workitem.days IS
    'Day dimension: one row per business calendar and day, from the day of the first log row to a year from today; ISO week, month, quarter, weekday, working day or not and working hours in that calendar. Filter on one calendar.';

-- Flow per day and kind, every day from the first to today and every
-- kind (zeros included): one look at the log per day, through its time index.
CREATE VIEW workitem.flow_per_day AS
-- Zeros for every day and kind, and the day's moves, grouped outside (Citus
-- refuses an outer join to a LATERAL, and a LATERAL grouped without the
-- tenant). The LATERAL's GROUP BY of the log row's key (one row a move)
-- keeps PostgreSQL from pulling it up: it reads one day through the index,
-- and each move's item by its key (a join would hash every item).
SELECT x.day, x.kind,
       count(*) FILTER (WHERE x.is_creation) AS created,
       count(*) FILTER (WHERE (x.is_creation AND x.to_status NOT IN ('draft', 'closed'))
                           OR (x.from_status = 'draft' AND x.to_status <> 'closed')) AS submitted,
       count(*) FILTER (WHERE x.to_status = 'resolved'
                           OR (x.to_status = 'closed' AND x.from_status IS DISTINCT FROM 'resolved')) AS resolved,
       count(*) FILTER (WHERE x.to_status = 'closed') AS closed,
       count(*) FILTER (WHERE x.from_status = 'resolved' AND x.to_status IN ('to_do', 'in_progress')) AS reopened,
       count(*) FILTER (WHERE (x.is_creation AND x.to_status NOT IN ('draft', 'closed'))
                           OR (x.from_status = 'draft' AND x.to_status <> 'closed'))
       - count(*) FILTER (WHERE x.to_status = 'closed' AND x.from_status <> 'draft') AS backlog_change
FROM (
    SELECT d.day, k.kind, NULL::boolean AS is_creation, NULL::text AS from_status, NULL::text AS to_status
    FROM (SELECT s.day
          FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                                current_date) AS first) f,
               workitem.day_series(f.first, current_date) s(day)) d,
         unnest(enum_range(NULL::workitem.kind)::text[]) k(kind)
    UNION ALL
    SELECT d.day, m.kind, m.is_creation, m.from_status, m.to_status
    FROM (SELECT s.day
          FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                                current_date) AS first) f,
               workitem.day_series(f.first, current_date) s(day)) d
    CROSS JOIN LATERAL (
        SELECT (SELECT i.kind::text FROM workitem.item i WHERE i.id = e.item_id AND i.tenant = e.tenant) AS kind,
               e.what = 'created' AS is_creation,
               CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_status,
               CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_status
        FROM workitem.event e
        WHERE workitem.on_day(e.at, d.day)
          AND e.item_id IS NOT NULL AND e.what IN ('created', 'status')
        GROUP BY e.id, e.tenant, e.item_id, e.what, e.old_value, e.new_value
    ) m
    WHERE m.kind IS NOT NULL
) x
GROUP BY 1, 2;
COMMENT ON VIEW workitem.flow_per_day IS
    'Per day (from the first log row to today, days without moves included) and kind: items created, submitted, resolved, closed, reopened, and the change of the open backlog.';

-- Time in each status, counted on the day the status was left.
CREATE VIEW workitem.status_time_per_day AS
SELECT d.day, x.status, x.times_left, x.wall_clock_hours, x.working_hours,
       x.avg_wall_clock_hours, x.avg_working_hours
FROM (SELECT s.day
      FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                            current_date) AS first) f,
           workitem.day_series(f.first, current_date) s(day)) d
CROSS JOIN LATERAL (
    SELECT s.status, COALESCE(a.times_left, 0) AS times_left,
           COALESCE(a.wall_clock_hours, 0) AS wall_clock_hours, COALESCE(a.working_hours, 0) AS working_hours,
           a.avg_wall_clock_hours, a.avg_working_hours
    FROM unnest(ARRAY['draft', 'to_do', 'in_progress', 'waiting', 'resolved']) s(status)
    LEFT JOIN (
        SELECT t.from_status AS status, count(*) AS times_left,
               sum(t.time_in_previous_hours) AS wall_clock_hours, sum(t.working_hours_in_previous) AS working_hours,
               avg(t.time_in_previous_hours) AS avg_wall_clock_hours, avg(t.working_hours_in_previous) AS avg_working_hours
        FROM workitem.transitions t
        WHERE workitem.on_day(t.at, d.day)
          AND t.item_id IS NOT NULL AND NOT t.is_creation
        GROUP BY 1) a ON a.status = s.status
) x;
COMMENT ON VIEW workitem.status_time_per_day IS
    'Per day (from the first log row to today, zeros included) and status: how many times items left the status that day, and the wall-clock and working hours they had spent in it.';

-- SLA targets met and missed per day and target, every day (zeros included).
CREATE VIEW workitem.sla_per_day AS
-- Zeros for every day and target, and the day's stopped clocks, grouped
-- outside (as flow_per_day, for Citus; the LATERAL reads one day through
-- the stopped clocks' index).
SELECT x.day, x.target,
       count(*) FILTER (WHERE x.state = 'met') AS met,
       count(*) FILTER (WHERE x.state = 'missed') AS missed,
       count(x.state) AS stopped,
       round(100.0 * count(*) FILTER (WHERE x.state = 'met') / NULLIF(count(x.state), 0), 1)::double precision AS percent_met,
       avg(date_part('epoch', x.used) / 3600) AS avg_working_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY date_part('epoch', x.used) / 3600) AS p90_working_hours
FROM (
    SELECT d.day, t.target, NULL::text AS state, NULL::interval AS used
    FROM (SELECT s.day
          FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                                current_date) AS first) f,
               workitem.day_series(f.first, current_date) s(day)) d,
         unnest(ARRAY['first_response', 'resolution']) t(target)
    UNION ALL
    SELECT d.day, c.target, c.state, c.used
    FROM (SELECT s.day
          FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                                current_date) AS first) f,
               workitem.day_series(f.first, current_date) s(day)) d
    CROSS JOIN LATERAL (
        SELECT c.target, c.state, c.used
        FROM workitem.sla_clock c
        WHERE c.state = ANY ('{met,missed}')
          AND workitem.on_day(c.stopped_at, d.day)
        GROUP BY c.id, c.tenant, c.target, c.state, c.used
    ) c
) x
GROUP BY 1, 2;
COMMENT ON VIEW workitem.sla_per_day IS
    'Per day (from the first log row to today, zeros included) and SLA target: clocks that stopped in time (met) and late (missed), percent met, average and 90th percentile of the working hours they used.';

-- The same per day, target, policy, queue and category: a row where
-- clocks stopped (left join workitem.days for the empty days).
CREATE VIEW workitem.sla_compliance AS
-- The day's clocks in a LATERAL, grouped outside it: Citus pushes a
-- LATERAL grouped by the policy and the queue down to the shards only when
-- the group has the tenant. The LATERAL's GROUP BY of its key (one row a
-- clock) keeps PostgreSQL from pulling it up: it reads one day through the
-- stopped clocks' index, and the day's items by their key.
SELECT d.day, c.target, c.policy, c.queue, c.category,
       count(*) FILTER (WHERE c.state = 'met') AS met,
       count(*) FILTER (WHERE c.state = 'missed') AS missed,
       count(*) AS stopped,
       round(100.0 * count(*) FILTER (WHERE c.state = 'met') / count(*), 1)::double precision AS percent_met,
       avg(date_part('epoch', c.used) / 3600) AS avg_working_hours,
       percentile_cont(0.9) WITHIN GROUP (ORDER BY date_part('epoch', c.used) / 3600) AS p90_working_hours
FROM (SELECT s.day
      FROM (SELECT COALESCE((SELECT (e.at)::date FROM workitem.event e ORDER BY e.id LIMIT 1),
                            current_date) AS first) f,
           workitem.day_series(f.first, current_date) s(day)) d
CROSS JOIN LATERAL (
    SELECT c.target, p.name AS policy, i.queue, i.category, c.state, c.used
    FROM workitem.sla_clock c
    JOIN workitem.item i ON i.id = c.item_id AND i.tenant = c.tenant
    LEFT JOIN workitem.sla_policy p ON p.id = c.policy_id
    WHERE c.state = ANY ('{met,missed}')
      AND workitem.on_day(c.stopped_at, d.day)
    GROUP BY c.id, c.tenant, c.target, p.name, i.queue, i.category, c.state, c.used
) c
GROUP BY 1, 2, 3, 4, 5;
COMMENT ON VIEW workitem.sla_compliance IS
    'Per day, SLA target, policy, queue and category where clocks stopped: met, missed, percent met, average and 90th percentile of the working hours used.';

------------------------------------------------------------------------
-- Every column of the views for BI tools, documented where the tools
-- read it (pg_description): type, unit, meaning. README.md has the same.
------------------------------------------------------------------------
DO $comments$
DECLARE
    c text[];
BEGIN
    FOREACH c SLICE 1 IN ARRAY ARRAY[
    -- items
    ['items', 'id', 'bigint: the item'],
    ['items', 'kind', 'text: ticket, case or action'],
    ['items', 'status', 'text: draft, to_do, in_progress, waiting, resolved or closed'],
    ['items', 'wait_type', 'text: more_info, follow_up, paused, split or case_launched while waiting, else NULL'],
    ['items', 'wait_until', 'timestamptz: when the wait ends by itself (NULL: only by hand)'],
    ['items', 'wait_reason', 'text: the reason given for the wait'],
    ['items', 'resolution', 'text: the resolution while resolved or closed, else NULL'],
    ['items', 'title', 'text: the title'],
    ['items', 'category', 'text: the category'],
    ['items', 'priority', 'text: the priority'],
    ['items', 'queue', 'text: the queue'],
    ['items', 'assignee', 'text: who works on it (NULL: unassigned)'],
    ['items', 'requester', 'text: who asked'],
    ['items', 'primary_contact', 'text: whom to answer'],
    ['items', 'case_id', 'bigint: the case of an action'],
    ['items', 'parent_id', 'bigint: the item it was split from'],
    ['items', 'merged_into', 'bigint: the item it was merged into'],
    ['items', 'follows_id', 'bigint: the closed item it follows up'],
    ['items', 'highlighted', 'boolean: shown first in the inbox'],
    ['items', 'needs_attention', 'boolean: flagged for attention'],
    ['items', 'attention_reason', 'text: why it needs attention'],
    ['items', 'created_at', 'timestamptz: created'],
    ['items', 'submitted_at', 'timestamptz: left draft'],
    ['items', 'status_changed_at', 'timestamptz: last status change'],
    ['items', 'first_resolved_at', 'timestamptz: first resolution'],
    ['items', 'resolved_at', 'timestamptz: last resolution'],
    ['items', 'closed_at', 'timestamptz: closed'],
    ['items', 'feedback_until', 'timestamptz: end of the feedback window while resolved'],
    ['items', 'age', 'interval: from creation to now, or to closed_at once closed'],
    ['items', 'age_hours', 'double precision, hours: age'],
    ['items', 'time_in_status', 'interval: since the last status change'],
    ['items', 'time_in_status_hours', 'double precision, hours: time_in_status'],
    ['items', 'sla_policy', 'text: the SLA policy the item runs under (NULL: none)'],
    ['items', 'resolution_due_at', 'timestamptz: when the resolution target is due (NULL while its clock is stopped)'],
    ['items', 'resolution_remaining', 'interval: working time left for the resolution target (negative once overdue)'],
    ['items', 'resolution_remaining_hours', 'double precision, working hours: resolution_remaining'],
    ['items', 'resolution_state', 'text: running, paused, warning, breached, met, missed, pending; none without a clock'],
    ['items', 'first_response_due_at', 'timestamptz: when the first_response target is due (NULL while stopped)'],
    ['items', 'first_response_remaining', 'interval: working time left for the first_response target'],
    ['items', 'first_response_remaining_hours', 'double precision, working hours: first_response_remaining'],
    ['items', 'first_response_state', 'text: state of the first_response target, as resolution_state'],
    -- queue
    ['queue', 'section', 'text: inbox (to_do, in_progress) or waiting'],
    ['queue', 'position', 'bigint: order within the section (highlighted, needing attention, comes_back_at, SLA due time, oldest change, id)'],
    ['queue', 'id', 'bigint: the item'],
    ['queue', 'kind', 'text: ticket, case or action'],
    ['queue', 'status', 'text: to_do, in_progress or waiting'],
    ['queue', 'assignee', 'text: who works on it (NULL: unassigned)'],
    ['queue', 'title', 'text: the title'],
    ['queue', 'category', 'text: the category'],
    ['queue', 'priority', 'text: the priority'],
    ['queue', 'queue', 'text: the queue'],
    ['queue', 'highlighted', 'boolean: shown first'],
    ['queue', 'needs_attention', 'boolean: flagged for attention'],
    ['queue', 'attention_reason', 'text: why it needs attention'],
    ['queue', 'wait_type', 'text: the wait type (section waiting)'],
    ['queue', 'wait_reason', 'text: the reason given for the wait'],
    ['queue', 'comes_back_at', 'timestamptz: when a waiting item comes back by itself (NULL: by hand only, and in the inbox)'],
    ['queue', 'close_if_no_reply', 'boolean: closes rather than comes back at comes_back_at without a reply'],
    ['queue', 'resolution_due_at', 'timestamptz: when the resolution target is due'],
    ['queue', 'resolution_state', 'text: state of the resolution target (none without a clock)'],
    ['queue', 'since', 'timestamptz: last status change'],
    ['queue', 'time_in_status', 'interval: since the last status change'],
    ['queue', 'time_in_status_hours', 'double precision, hours: time_in_status'],
    -- transitions
    ['transitions', 'event_id', 'bigint: the log row (activity_log.id); orders the changes'],
    ['transitions', 'item_id', 'bigint: the item (NULL for a row of an attached table)'],
    ['transitions', 'source', 'regclass: the attached table (NULL for items); filter on it to reach the log by index'],
    ['transitions', 'row_key', 'text: primary key of the attached row'],
    ['transitions', 'source_name', 'text: source as text, for drivers that know no regclass'],
    ['transitions', 'kind', 'text: the item''s kind, or the kind the table is attached as'],
    ['transitions', 'at', 'timestamptz: when'],
    ['transitions', 'actor', 'text: who'],
    ['transitions', 'is_creation', 'boolean: the creation (from_status NULL)'],
    ['transitions', 'from_status', 'text: the status left (NULL for a creation)'],
    ['transitions', 'to_status', 'text: the status entered'],
    ['transitions', 'reason', 'text: the reason given'],
    ['transitions', 'entered_previous_at', 'timestamptz: when from_status was entered'],
    ['transitions', 'time_in_previous', 'interval: wall-clock time in from_status'],
    ['transitions', 'time_in_previous_hours', 'double precision, hours: time_in_previous'],
    ['transitions', 'working_time_in_previous', 'interval: working time in from_status, in the calendar of the item''s SLA policy (24x7 without one)'],
    ['transitions', 'working_hours_in_previous', 'double precision, working hours: working_time_in_previous'],
    -- daily_flow
    ['daily_flow', 'day', 'date: the day of the moves, in the session TimeZone'],
    ['daily_flow', 'kind', 'text: the item''s kind, or the kind the table is attached as'],
    ['daily_flow', 'category', 'text: the item''s current category (NULL for rows of attached tables)'],
    ['daily_flow', 'created', 'bigint: items created'],
    ['daily_flow', 'submitted', 'bigint: items that left draft for work'],
    ['daily_flow', 'resolved', 'bigint: times an item was given a resolution'],
    ['daily_flow', 'closed', 'bigint: moves to closed'],
    ['daily_flow', 'reopened', 'bigint: moves from resolved back to work'],
    ['daily_flow', 'source_name', 'text: the attached table of the rows counted (as in activity_log; schema-qualified from daily_flow_between()), NULL for items'],
    -- activity_log
    ['activity_log', 'id', 'bigint: the log row; orders the log'],
    ['activity_log', 'item_id', 'bigint: the item (NULL for a row of an attached table)'],
    ['activity_log', 'source', 'regclass: the attached table (NULL for items)'],
    ['activity_log', 'row_key', 'text: primary key of the attached row'],
    ['activity_log', 'at', 'timestamptz: when'],
    ['activity_log', 'actor', 'text: who'],
    ['activity_log', 'what', 'text: the field changed (created, status, assignee, ..., message)'],
    ['activity_log', 'old_value', 'text: the value before'],
    ['activity_log', 'new_value', 'text: the value after'],
    ['activity_log', 'reason', 'text: the reason given'],
    ['activity_log', 'tenant', 'text: the tenant of the item or row'],
    ['activity_log', 'source_name', 'text: source as text, for drivers that know no regclass'],
    -- item_sla
    ['item_sla', 'item_id', 'bigint: the item'],
    ['item_sla', 'target', 'text: first_response or resolution'],
    ['item_sla', 'cycle', 'integer: 1, higher after reopens under a new_cycle policy'],
    ['item_sla', 'policy', 'text: the policy (NULL once deleted)'],
    ['item_sla', 'calendar', 'text: the calendar the clock counts in'],
    ['item_sla', 'target_time', 'interval: working time allowed'],
    ['item_sla', 'target_hours', 'double precision, working hours: target_time'],
    ['item_sla', 'started_at', 'timestamptz: the clock started (NULL while pending)'],
    ['item_sla', 'due_at', 'timestamptz: due (NULL while stopped)'],
    ['item_sla', 'remaining', 'interval: working time left now (negative once overdue)'],
    ['item_sla', 'remaining_hours', 'double precision, working hours: remaining'],
    ['item_sla', 'used_working_time', 'interval: working time used, pauses excluded'],
    ['item_sla', 'used_working_hours', 'double precision, working hours: used_working_time'],
    ['item_sla', 'elapsed_wall_clock', 'interval: from start to now, or to the final stop'],
    ['item_sla', 'elapsed_wall_clock_hours', 'double precision, hours: elapsed_wall_clock'],
    ['item_sla', 'percent_used', 'numeric, percent: used_working_time / target_time x 100, one decimal'],
    ['item_sla', 'state', 'text: running, paused, warning, breached, met, missed, pending'],
    ['item_sla', 'label', 'text: Due: <time>, Due: paused ..., Met: ..., Missed: ...'],
    ['item_sla', 'tenant', 'text: the tenant of the item (joins with items on item_id and tenant)'],
    -- sla_breaches
    ['sla_breaches', 'day', 'date: the day the clock stopped, in the session TimeZone'],
    ['sla_breaches', 'policy', 'text: the policy'],
    ['sla_breaches', 'target', 'text: first_response or resolution'],
    ['sla_breaches', 'met', 'bigint: clocks stopped in time'],
    ['sla_breaches', 'missed', 'bigint: clocks stopped late'],
    -- status_durations
    ['status_durations', 'item_id', 'bigint: the item (NULL for a row of an attached table)'],
    ['status_durations', 'status', 'text: a status the item (or row) has been in'],
    ['status_durations', 'times_entered', 'bigint: how often it entered it'],
    ['status_durations', 'wall_clock', 'interval: total time in it (to now for the current status)'],
    ['status_durations', 'wall_clock_hours', 'double precision, hours: wall_clock'],
    ['status_durations', 'working_time', 'interval: the same in the calendar of the item''s SLA policy (a row''s: of its latest clock''s policy; 24x7 without one)'],
    ['status_durations', 'working_hours', 'double precision, working hours: working_time'],
    -- time_per_item, time_per_resource
    ['time_per_item', 'item_id', 'bigint: the item'],
    ['time_per_item', 'entries', 'bigint: time entries'],
    ['time_per_item', 'total_duration', 'interval: time logged'],
    ['time_per_item', 'total_hours', 'double precision, hours: total_duration'],
    ['time_per_resource', 'item_id', 'bigint: the item'],
    ['time_per_resource', 'resource', 'text: who or what the time was logged for'],
    ['time_per_resource', 'entries', 'bigint: time entries'],
    ['time_per_resource', 'total_duration', 'interval: time logged'],
    ['time_per_resource', 'total_hours', 'double precision, hours: total_duration'],
    -- days
    ['days', 'day', 'date: the day'],
    ['days', 'calendar', 'text: the business calendar the working columns are for (filter on one)'],
    ['days', 'iso_year', 'integer: ISO 8601 year of the ISO week'],
    ['days', 'iso_week', 'integer: ISO 8601 week, 1 to 53'],
    ['days', 'iso_week_label', 'text: 2026-W49'],
    ['days', 'week_start', 'date: the Monday of the week'],
    ['days', 'year', 'integer: calendar year'],
    ['days', 'month', 'integer: 1 to 12'],
    ['days', 'month_label', 'text: 2026-11'],
    ['days', 'month_start', 'date: first day of the month'],
    ['days', 'quarter', 'integer: 1 to 4'],
    ['days', 'quarter_label', 'text: 2026-Q4'],
    ['days', 'weekday', 'integer: ISO weekday, 1 = Monday to 7 = Sunday'],
    ['days', 'weekday_name', 'text: Monday to Sunday'],
    ['days', 'is_weekend', 'boolean: Saturday or Sunday'],
    ['days', 'is_working_day', 'boolean: the calendar has working time that day'],
    ['days', 'working_hours', 'double precision, hours: working time of the day in the calendar (00:00 to 24:00 in its time zone), holidays deducted'],
    ['days', 'holiday', 'text: the names of the calendar''s holidays that day, else NULL'],
    -- flow_per_day
    ['flow_per_day', 'day', 'date: the day, in the session TimeZone (every day from the first log row to today)'],
    ['flow_per_day', 'kind', 'text: ticket, case or action (every kind every day)'],
    ['flow_per_day', 'created', 'bigint: items created'],
    ['flow_per_day', 'submitted', 'bigint: items that left draft for work (created submitted, or submitted later)'],
    ['flow_per_day', 'resolved', 'bigint: times an item was given a resolution'],
    ['flow_per_day', 'closed', 'bigint: moves to closed'],
    ['flow_per_day', 'reopened', 'bigint: moves from resolved back to work'],
    ['flow_per_day', 'backlog_change', 'bigint: submitted minus moves to closed from an open status; its running sum from the first day is the open backlog (not draft, not closed)'],
    -- status_time_per_day
    ['status_time_per_day', 'day', 'date: the day the status was left, in the session TimeZone (every day from the first log row to today)'],
    ['status_time_per_day', 'status', 'text: the status left (draft, to_do, in_progress, waiting, resolved; each every day)'],
    ['status_time_per_day', 'times_left', 'bigint: how many times items left it that day'],
    ['status_time_per_day', 'wall_clock_hours', 'double precision, hours: total time they had spent in it'],
    ['status_time_per_day', 'working_hours', 'double precision, working hours: the same in the calendar of each item''s SLA policy (24x7 without one)'],
    ['status_time_per_day', 'avg_wall_clock_hours', 'double precision, hours: average time in it (NULL when none left it)'],
    ['status_time_per_day', 'avg_working_hours', 'double precision, working hours: average working time in it (NULL when none left it)'],
    -- sla_per_day
    ['sla_per_day', 'day', 'date: the day the clocks stopped, in the session TimeZone (every day from the first log row to today)'],
    ['sla_per_day', 'target', 'text: first_response or resolution (each every day)'],
    ['sla_per_day', 'met', 'bigint: clocks stopped in time'],
    ['sla_per_day', 'missed', 'bigint: clocks stopped late'],
    ['sla_per_day', 'stopped', 'bigint: met + missed'],
    ['sla_per_day', 'percent_met', 'double precision, percent: met / stopped x 100, one decimal (NULL when none stopped)'],
    ['sla_per_day', 'avg_working_hours', 'double precision, working hours: average working time the clocks used (for resolution: the resolution time, stopping waits excluded)'],
    ['sla_per_day', 'p90_working_hours', 'double precision, working hours: 90th percentile (interpolated) of the working time used'],
    -- sla_compliance
    ['sla_compliance', 'day', 'date: the day the clocks stopped, in the session TimeZone'],
    ['sla_compliance', 'target', 'text: first_response or resolution'],
    ['sla_compliance', 'policy', 'text: the policy (NULL once deleted)'],
    ['sla_compliance', 'queue', 'text: the item''s current queue'],
    ['sla_compliance', 'category', 'text: the item''s current category'],
    ['sla_compliance', 'met', 'bigint: clocks stopped in time'],
    ['sla_compliance', 'missed', 'bigint: clocks stopped late'],
    ['sla_compliance', 'stopped', 'bigint: met + missed'],
    ['sla_compliance', 'percent_met', 'double precision, percent: met / stopped x 100, one decimal'],
    ['sla_compliance', 'avg_working_hours', 'double precision, working hours: average working time the clocks used'],
    ['sla_compliance', 'p90_working_hours', 'double precision, working hours: 90th percentile (interpolated) of the working time used']
    ] LOOP
        EXECUTE pg_catalog.format('COMMENT ON COLUMN workitem.%I.%I IS %L', c[1], c[2], c[3]);
    END LOOP;
END $comments$;

REVOKE ALL ON FUNCTION workitem.daily_flow_between(date, date), workitem.agent_queue(text, integer),
                       workitem.inbox(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.daily_flow_between(date, date), workitem.agent_queue(text, integer),
                          workitem.inbox(integer) TO workitem_reader;
REVOKE ALL ON FUNCTION workitem.on_day_support(internal), workitem.on_day(timestamptz, date),
                       workitem.day_series(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.on_day(timestamptz, date), workitem.day_series(date, date) TO workitem_reader;
-- called by the views for source_name
REVOKE ALL ON FUNCTION workitem.source_name(regclass) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.source_name(regclass) TO workitem_reader;
GRANT SELECT ON workitem.items, workitem.queue, workitem.transitions, workitem.daily_flow,
                workitem.item_sla, workitem.status_durations, workitem.time_per_item, workitem.time_per_resource,
                workitem.days, workitem.flow_per_day, workitem.status_time_per_day,
                workitem.sla_per_day, workitem.sla_compliance
      TO workitem_reader;

-- Work time (issue 16): timers that track time by themselves, time
-- entries that can be changed and deleted until the item is closed,
-- products and expenses, and a view per item and day for billing.
-- The rules live in C (src/worktime.c): the triggers hold a plain INSERT,
-- UPDATE or DELETE to them, and log every change.
------------------------------------------------------------------------

-- A category whose timer starts by itself when an item is started or
-- assigned (the ticketing product's default: the timer runs while the
-- technician works on the ticket).
ALTER TABLE workitem.category_config ADD COLUMN auto_timer boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN workitem.category_config.auto_timer IS
    'Start the assignee''s timer when an item of this kind and category is started or assigned.';

-- Entries a timer made; hand-typed ones stay false. Only the engine (a
-- stopped timer) or the table's owner sets it.
ALTER TABLE workitem.time_entry ADD COLUMN tracked boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN workitem.time_entry.tracked IS
    'true: made by a timer (start_timer/stop_timer, or stopped by the engine); false: typed by hand.';

-- Changing and deleting entries: checked and logged, frozen once the item is closed.
CREATE FUNCTION workitem.on_time_entry_change() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_on_time_entry_change' LANGUAGE C;
CREATE TRIGGER zz_workitem_on_time_entry_change
    BEFORE UPDATE OR DELETE ON workitem.time_entry
    FOR EACH ROW EXECUTE FUNCTION workitem.on_time_entry_change();

-- Running timers: one row per item and resource while it runs (the
-- primary key is the unique index that lets one run at a time). Written
-- by the C code as the schema's owner; agents read it.
CREATE TABLE workitem.timer (
    item_id     bigint NOT NULL,
    resource    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    started_by  text NOT NULL,
    auto        boolean NOT NULL DEFAULT false,
    -- the item's (the C code writes it); keys with the tenant, for Citus
    tenant      text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant(),
    CONSTRAINT timer_pkey PRIMARY KEY (item_id, resource, tenant),
    CONSTRAINT timer_item_id_fkey FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant)
);
COMMENT ON TABLE workitem.timer IS
    'Running timers, one per item and resource; stop_timer() (or the engine) turns one into a tracked time entry.';
-- run_timers() finds the timers over workitem.timer_max_running by their start
CREATE INDEX timer_started_idx ON workitem.timer (started_at);
SELECT pg_catalog.pg_extension_config_dump('workitem.timer', '');

CREATE FUNCTION workitem.start_timer(id bigint, resource text DEFAULT NULL)
    RETURNS workitem.timer AS 'MODULE_PATHNAME', 'workitem_start_timer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.start_timer(bigint, text) IS
    'Starts the timer of resource (default: the actor) on the item; returns the running timer (the same one when it already runs).';
CREATE FUNCTION workitem.stop_timer(id bigint, resource text DEFAULT NULL)
    RETURNS workitem.time_entry AS 'MODULE_PATHNAME', 'workitem_stop_timer' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.stop_timer(bigint, text) IS
    'Stops the running timer of resource (default: the actor) on the item; returns the tracked time entry (NULL when no time passed).';

------------------------------------------------------------------------
-- Products and expenses
------------------------------------------------------------------------
CREATE TYPE workitem.expense_kind AS ENUM ('product', 'expense');

CREATE TABLE workitem.expense (
    id          bigint GENERATED BY DEFAULT AS IDENTITY,
    item_id     bigint NOT NULL,
    kind        workitem.expense_kind NOT NULL DEFAULT 'expense',
    description text NOT NULL,
    quantity    numeric NOT NULL CONSTRAINT expense_quantity_positive CHECK (quantity > 0),
    unit_price  numeric NOT NULL CONSTRAINT expense_unit_price_not_negative CHECK (unit_price >= 0),
    currency    text COLLATE "C" NOT NULL CONSTRAINT expense_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    at          timestamptz NOT NULL DEFAULT now(),
    author      text NOT NULL,
    -- the item's (add_expense() writes it; the foreign key holds a plain INSERT to it)
    tenant      text COLLATE "C" NOT NULL DEFAULT workitem.current_tenant(),
    CONSTRAINT expense_pkey PRIMARY KEY (id, tenant),
    CONSTRAINT expense_item_id_fkey FOREIGN KEY (item_id, tenant) REFERENCES workitem.item (id, tenant)
);
COMMENT ON TABLE workitem.expense IS
    'Products and expenses of an item (amount = quantity x unit_price, in currency); checked and logged by workitem.on_expense().';
CREATE INDEX expense_item_idx ON workitem.expense (item_id, at);
SELECT pg_catalog.pg_extension_config_dump('workitem.expense', '');
SELECT pg_catalog.pg_extension_config_dump('workitem.expense_id_seq', '');

CREATE FUNCTION workitem.on_expense() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_on_expense' LANGUAGE C;
CREATE TRIGGER zz_workitem_on_expense
    BEFORE INSERT OR UPDATE OR DELETE ON workitem.expense
    FOR EACH ROW EXECUTE FUNCTION workitem.on_expense();

CREATE FUNCTION workitem.add_expense(id bigint, kind workitem.expense_kind, description text,
                                     quantity numeric, unit_price numeric, currency text,
                                     at timestamptz DEFAULT NULL, author text DEFAULT NULL)
    RETURNS workitem.expense AS 'MODULE_PATHNAME', 'workitem_add_expense' LANGUAGE C VOLATILE;

------------------------------------------------------------------------
-- Per item and day (in the session's TimeZone), for billing and BI: one
-- row of time (currency NULL) and one row per currency of products and
-- expenses, so that sums over the rows never count anything twice.
------------------------------------------------------------------------
CREATE VIEW workitem.work_per_day AS
    SELECT t.item_id, t.started_at::date AS day, NULL::text COLLATE "C" AS currency,
           COALESCE(sum(t.duration) FILTER (WHERE t.tracked), interval '0') AS time_tracked,
           COALESCE(sum(t.duration) FILTER (WHERE NOT t.tracked), interval '0') AS time_typed,
           count(*) AS time_entries,
           NULL::numeric AS products, NULL::numeric AS expenses, NULL::bigint AS expense_lines,
           pg_catalog.date_part('epoch', COALESCE(sum(t.duration) FILTER (WHERE t.tracked), interval '0'))
               / 3600 AS time_tracked_hours,
           pg_catalog.date_part('epoch', COALESCE(sum(t.duration) FILTER (WHERE NOT t.tracked), interval '0'))
               / 3600 AS time_typed_hours
    FROM workitem.time_entry t
    GROUP BY t.item_id, t.started_at::date
    UNION ALL
    SELECT e.item_id, e.at::date, e.currency, NULL, NULL, NULL,
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'product'), 0),
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'expense'), 0),
           count(*), NULL, NULL
    FROM workitem.expense e
    GROUP BY e.item_id, e.at::date, e.currency;
COMMENT ON VIEW workitem.work_per_day IS
    'Per item and day: time tracked by timers and typed by hand (row with currency NULL), products and expenses per currency.';
COMMENT ON COLUMN workitem.work_per_day.item_id IS 'The item (bigint).';
COMMENT ON COLUMN workitem.work_per_day.day IS 'The day (date, session time zone): of the time entry''s start, of the expense.';
COMMENT ON COLUMN workitem.work_per_day.currency IS 'NULL on the row of time; the ISO 4217 code (text) on a row of products and expenses.';
COMMENT ON COLUMN workitem.work_per_day.time_tracked IS 'Time counted by timers (interval; NULL on a row of money).';
COMMENT ON COLUMN workitem.work_per_day.time_typed IS 'Time entered by hand (interval; NULL on a row of money).';
COMMENT ON COLUMN workitem.work_per_day.time_entries IS 'Number of time entries that day (bigint).';
COMMENT ON COLUMN workitem.work_per_day.products IS 'Sum of quantity x unit_price of products in this currency (numeric; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.expenses IS 'Sum of quantity x unit_price of expenses in this currency (numeric; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.expense_lines IS 'Number of products and expenses (bigint; NULL on the row of time).';
COMMENT ON COLUMN workitem.work_per_day.time_tracked_hours IS 'time_tracked in hours (double precision).';
COMMENT ON COLUMN workitem.work_per_day.time_typed_hours IS 'time_typed in hours (double precision).';

COMMENT ON FUNCTION workitem.run_timers(timestamptz, integer) IS
    'Does the time-driven work due by at (at most max_items items); returns how many items it moved or flagged with an SLA alarm, and work timers it stopped at workitem.timer_max_running.';

-- (the grants of 90_roles.sql for work time)
REVOKE ALL ON FUNCTION workitem.on_time_entry_change(), workitem.start_timer(bigint, text),
    workitem.stop_timer(bigint, text), workitem.on_expense(),
    workitem.add_expense(bigint, workitem.expense_kind, text, numeric, numeric, text, timestamptz, text)
    FROM PUBLIC;
REVOKE ALL ON workitem.timer, workitem.expense, workitem.work_per_day FROM PUBLIC;
REVOKE ALL ON SEQUENCE workitem.expense_id_seq FROM PUBLIC;
GRANT SELECT ON workitem.work_per_day TO workitem_reader;
GRANT EXECUTE ON FUNCTION
    workitem.start_timer(bigint, text),
    workitem.stop_timer(bigint, text),
    workitem.add_expense(bigint, workitem.expense_kind, text, numeric, numeric, text, timestamptz, text)
    TO workitem_agent;
GRANT SELECT, INSERT, UPDATE, DELETE ON workitem.time_entry, workitem.expense TO workitem_agent;
GRANT SELECT ON workitem.timer TO workitem_agent;
GRANT USAGE ON SEQUENCE workitem.expense_id_seq TO workitem_agent;

-- issue 15: attach() enforces or observes, maps a label to a status, wait
-- type and resolution, filters rows, reads the actor and the assignee from
-- columns of any type; the trigger sees DELETE too. (attached_table's new
-- columns: above, with the views that read them.)
DROP FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name);
CREATE FUNCTION workitem.attach(tbl regclass, status_column name DEFAULT 'status',
                                kind workitem.kind DEFAULT 'ticket', label_map jsonb DEFAULT NULL,
                                log_events boolean DEFAULT true, wait_type_column name DEFAULT NULL,
                                resolution_column name DEFAULT NULL, assignee_column name DEFAULT NULL,
                                mode text DEFAULT 'enforce', enforce_only text[] DEFAULT NULL,
                                filter text DEFAULT NULL, actor_column name DEFAULT NULL,
                                assignee_nobody text DEFAULT NULL, feedback_window interval DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
    -- the window goes to the trigger as text: one style, which interval_in reads in any
    SET IntervalStyle = postgres
AS $$
DECLARE
    -- values, not calls, in DO UPDATE SET: Citus refuses non-IMMUTABLE
    -- functions there (attached_table is a reference table on Citus)
    attached_now timestamptz := now();
    attached_who text := session_user;
    -- Citus: the OID the log names the table by, and its name (attached_table)
    log_oid oid;
    log_name text;
    col name;
    typ regtype;
    bad text;
    labels text[];
    vocabulary text[];
    lbl text;
    entry text;
    m jsonb := '{}';
    lm record;
    st text;
    rules text[] := '{}';
    pair text[];
    sides text[];
    attno int2;
    -- Citus: the column its log rows take their tenant from, or the tenant they all take
    tenant_column name;
    log_tenant text;
    everywhere boolean;
BEGIN
    IF tbl IS NULL OR status_column IS NULL OR kind IS NULL OR log_events IS NULL OR mode IS NULL THEN
        RAISE EXCEPTION 'attach needs a table, a status column, a kind, log_events and a mode, not NULL'
            USING ERRCODE = '22004';
    END IF;
    IF (SELECT c.relkind FROM pg_class c WHERE c.oid = tbl) NOT IN ('r', 'p') THEN
        RAISE EXCEPTION '% is not a table', tbl USING ERRCODE = '42809';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = tbl AND i.indisprimary) THEN
        RAISE EXCEPTION 'table % has no primary key', tbl
            USING ERRCODE = 'WI020',
                  DETAIL = 'The activity log names each row of an attached table by its primary key.',
                  HINT = format('Add one: ALTER TABLE %s ADD PRIMARY KEY (...).', tbl);
    END IF;
    -- the mode: enforce, or observe (log every move, a forbidden one as a
    -- violation, refuse nothing); enforce_only narrows enforce to some rules
    IF mode NOT IN ('enforce', 'observe') THEN
        RAISE EXCEPTION 'mode must be enforce or observe, not %', mode USING ERRCODE = '22023';
    END IF;
    IF NOT log_events AND (mode = 'observe' OR enforce_only IS NOT NULL) THEN
        RAISE EXCEPTION 'log_events => false with mode % and enforce_only % would observe without a trace',
                        mode, enforce_only
            USING ERRCODE = '22023',
                  DETAIL = 'What is not enforced is only logged: without events it would be neither.',
                  HINT = 'Keep log_events => true, or enforce every rule (mode => ''enforce'', no enforce_only).';
    END IF;
    IF enforce_only IS NOT NULL AND mode <> 'enforce' THEN
        RAISE EXCEPTION 'enforce_only goes with mode enforce, not %', mode USING ERRCODE = '22023';
    END IF;
    -- the feedback window: when the row was resolved is read from its log
    IF feedback_window IS NOT NULL AND (feedback_window < interval '0' OR NOT isfinite(feedback_window)) THEN
        RAISE EXCEPTION 'feedback_window of % must be a finite interval of 0 or more, not %', tbl, feedback_window
            USING ERRCODE = '22023';
    END IF;
    IF feedback_window IS NOT NULL AND NOT log_events THEN
        RAISE EXCEPTION 'feedback_window % of % needs log_events => true', feedback_window, tbl
            USING ERRCODE = '22023',
                  DETAIL = 'When a row was resolved is read from its log.';
    END IF;
    -- every mapped column exists; the status, wait type and resolution
    -- columns have a type the trigger reads and writes, the assignee and
    -- actor columns any type (read as text)
    FOREACH col IN ARRAY ARRAY[status_column, wait_type_column, resolution_column, assignee_column, actor_column] LOOP
        CONTINUE WHEN col IS NULL;
        SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
         WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF typ IS NULL THEN
            RAISE EXCEPTION 'column "%" of % does not exist', col, tbl USING ERRCODE = '42703';
        END IF;
        IF col IN (wait_type_column, resolution_column)
           AND typ NOT IN ('text'::regtype, 'character varying'::regtype, 'workitem.status'::regtype,
                           'workitem.wait_type'::regtype, 'workitem.resolution'::regtype) THEN
            RAISE EXCEPTION 'column "%" of % is of type %, not text or a workitem type', col, tbl, typ
                USING ERRCODE = '42804';
        END IF;
        IF col = status_column
           AND typ NOT IN ('text'::regtype, 'character varying'::regtype, 'workitem.status'::regtype)
           AND NOT EXISTS (SELECT 1 FROM pg_type t WHERE t.oid = typ AND t.typtype = 'e') THEN
            RAISE EXCEPTION 'column "%" of % is of type %, not text, an enum or workitem.status', col, tbl, typ
                USING ERRCODE = '42804';
        END IF;
    END LOOP;
    -- the label map: a label -> a status, or -> {status, wait_type, resolution}
    IF label_map IS NOT NULL THEN
        IF jsonb_typeof(label_map) <> 'object' THEN
            RAISE EXCEPTION 'label_map must be a JSON object of labels, not %', label_map USING ERRCODE = '22023';
        END IF;
        FOR lm IN SELECT * FROM jsonb_each(label_map) LOOP
            IF jsonb_typeof(lm.value) = 'string' THEN
                m := m || jsonb_build_object(lm.key, jsonb_build_object('status', lm.value));
            ELSIF jsonb_typeof(lm.value) = 'object' AND lm.value ? 'status'
                  AND (SELECT bool_and(k IN ('status', 'wait_type', 'resolution'))
                         FROM jsonb_object_keys(lm.value) k)
                  AND (SELECT bool_and(jsonb_typeof(v) = 'string') FROM jsonb_each(lm.value) x(k, v)) THEN
                m := m || jsonb_build_object(lm.key, lm.value);
            ELSE
                RAISE EXCEPTION 'label_map: "%" maps to %, not a status or {"status", "wait_type", "resolution"}',
                                lm.key, lm.value
                    USING ERRCODE = 'WI012',
                          HINT = 'Example: {"stalled": {"status": "waiting", "wait_type": "more_info"}}.';
            END IF;
        END LOOP;
        SELECT string_agg(format('%s: %s', e.key, e.value), ', ') INTO bad
          FROM jsonb_each(m) e
         WHERE NOT (e.value->>'status') = ANY (enum_range(NULL::workitem.status)::text[])
            OR (e.value ? 'wait_type' AND (e.value->>'status' <> 'waiting'
                OR NOT (e.value->>'wait_type') = ANY (ARRAY(SELECT x::text FROM workitem.allowed_wait_types(attach.kind) x))))
            OR (e.value ? 'resolution' AND (e.value->>'status' NOT IN ('resolved', 'closed')
                OR NOT (e.value->>'resolution') = ANY (ARRAY(SELECT x::text FROM workitem.allowed_resolutions(attach.kind) x))));
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'label_map maps labels to what a % cannot be: %', kind, bad
                USING ERRCODE = 'WI012',
                      HINT = format('Statuses: %s; a wait type only with waiting (%s), a resolution only with resolved or closed (%s).',
                                    array_to_string(enum_range(NULL::workitem.status), ', '),
                                    array_to_string(ARRAY(SELECT x::text FROM workitem.allowed_wait_types(attach.kind) x), ', '),
                                    array_to_string(ARRAY(SELECT x::text FROM workitem.allowed_resolutions(attach.kind) x), ', '));
        END IF;
    END IF;
    labels := CASE WHEN label_map IS NULL THEN enum_range(NULL::workitem.status)::text[]
                   ELSE ARRAY(SELECT jsonb_object_keys(m)) END;

    -- the filter: a boolean expression over the row's columns; checked here
    IF filter IS NOT NULL THEN
        BEGIN
            EXECUTE format('SELECT 1 FROM %s WHERE (%s) LIMIT 0', tbl, filter);
        EXCEPTION WHEN OTHERS THEN
            RAISE EXCEPTION 'filter % is not a boolean expression over the columns of %: %', filter, tbl, SQLERRM
                USING ERRCODE = '22023';
        END;
    END IF;

    -- The table's whole vocabulary must be mapped: the labels its rows
    -- (within the filter) have, its enum type, the literals of its CHECK
    -- constraints on the status column, and its default.
    SELECT a.attnum INTO attno FROM pg_attribute a WHERE a.attrelid = tbl AND a.attname = status_column;
    EXECUTE format('SELECT array_agg(DISTINCT %I::text) FROM %s WHERE %s', status_column, tbl,
                   COALESCE('(' || filter || ')', 'true'))
       INTO vocabulary;
    vocabulary := COALESCE(vocabulary, '{}');
    SELECT vocabulary || COALESCE(array_agg(en.enumlabel::text), '{}') INTO vocabulary
      FROM pg_attribute a JOIN pg_enum en ON en.enumtypid = a.atttypid
     WHERE a.attrelid = tbl AND a.attnum = attno AND a.atttypid <> 'workitem.status'::regtype;
    FOR entry IN SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c
                  WHERE c.conrelid = tbl AND c.contype = 'c' AND c.conkey = ARRAY[attno] LOOP
        SELECT vocabulary || COALESCE(array_agg(replace(x[1], '''''', '''')), '{}') INTO vocabulary
          FROM regexp_matches(entry, '''((?:[^'']|'''')*)''', 'g') x;
    END LOOP;
    SELECT pg_get_expr(d.adbin, d.adrelid) INTO entry FROM pg_attrdef d
     WHERE d.adrelid = tbl AND d.adnum = attno;
    IF entry IS NOT NULL THEN
        EXECUTE format('SELECT (%s)::text', entry) INTO lbl;
        vocabulary := vocabulary || lbl;
    END IF;
    SELECT string_agg(DISTINCT v, ', ') INTO bad FROM unnest(vocabulary) v WHERE NOT v = ANY (labels);
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'the label map of % lacks labels the table uses: %', tbl, bad
            USING ERRCODE = 'WI012',
                  DETAIL = 'Labels come from the rows, the column''s enum type, CHECK constraints and default.',
                  HINT = 'Add them to label_map.';
    END IF;

    -- enforce_only: rule names, or moves "from->to" in our statuses or the table's labels
    IF enforce_only IS NOT NULL THEN
        FOREACH entry IN ARRAY enforce_only LOOP
            IF entry IN ('transition', 'wait_type', 'resolution', 'label', 'assignee', 'delete', 'feedback_window') THEN
                rules := rules || entry;
                CONTINUE;
            END IF;
            sides := regexp_split_to_array(entry, '\s*->\s*');
            IF array_length(sides, 1) <> 2 THEN
                RAISE EXCEPTION 'enforce_only: "%" is neither a rule nor a move from->to', entry
                    USING ERRCODE = '22023',
                          HINT = 'Rules: transition, wait_type, resolution, label, assignee, delete, feedback_window; moves: closed->in_progress or the table''s labels, deleted->open.';
            END IF;
            pair := '{}';
            FOREACH lbl IN ARRAY sides LOOP
                st := CASE WHEN label_map IS NOT NULL AND m ? lbl THEN m->lbl->>'status'
                           WHEN lbl = ANY (enum_range(NULL::workitem.status)::text[]) THEN lbl END;
                IF st IS NULL THEN
                    RAISE EXCEPTION 'enforce_only: "%" in "%" is neither a status nor a label of %', lbl, entry, tbl
                        USING ERRCODE = 'WI012';
                END IF;
                pair := pair || st;
            END LOOP;
            rules := rules || (pair[1] || '->' || pair[2]);
        END LOOP;
    END IF;

    -- Citus: a trigger on a distributed table needs this (doc/citus-findings.md 8)
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
        -- workitem distributed: the table's trigger fires on its shards, each
        -- logging on its own node (README "Scale out with Citus"), so the
        -- table must be on every node, and its rows name their tenant: the
        -- distribution column of a table colocated with item, or for a
        -- reference table the attaching session's tenant; and the log names
        -- it by this node's OID (Citus sends a regclass between nodes as one)
        IF EXISTS (SELECT 1 FROM pg_dist_partition WHERE logicalrelid = 'workitem.item'::regclass) THEN
            EXECUTE 'SELECT CASE WHEN p.partmethod = ''h'' AND p.colocationid = i.colocationid
                                 THEN column_to_column_name(p.logicalrelid, p.partkey) END,
                            p.partmethod = ''n'' OR p.colocationid = i.colocationid
                       FROM pg_dist_partition p, pg_dist_partition i
                      WHERE p.logicalrelid = $1 AND i.logicalrelid = ''workitem.item''::regclass'
               INTO tenant_column, everywhere USING tbl;
            IF everywhere IS NOT true THEN
                RAISE EXCEPTION 'attach: % is not on every node of the Citus cluster', tbl
                    USING ERRCODE = '0A000',
                          DETAIL = 'Its trigger writes the log and the clocks of its rows on the node of their tenant''s shard.',
                          HINT = format('Make it a reference table (SELECT create_reference_table(%L)), or distribute it by its tenant column colocated with workitem.item (SELECT create_distributed_table(%L, ''tenant'', colocate_with => ''workitem.item'')).',
                                        tbl::text, tbl::text);
            END IF;
            log_tenant := CASE WHEN tenant_column IS NULL THEN workitem.current_tenant() END;
            -- the views name its rows and find its kind on the workers by these
            -- (schema-qualified: this function's search_path)
            log_oid := tbl::oid;
            log_name := tbl::text;
        END IF;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgname = 'zz_workitem_attached') THEN
        EXECUTE format('DROP TRIGGER zz_workitem_attached ON %s', tbl);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_workitem_attached BEFORE INSERT OR DELETE OR UPDATE OF %s ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION workitem.enforce_attached(%L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L%s)',
                   (SELECT string_agg(quote_ident(c), ', ') FROM unnest(ARRAY[status_column, wait_type_column,
                        resolution_column, assignee_column]) c WHERE c IS NOT NULL),
                   tbl, status_column, kind, CASE WHEN label_map IS NULL THEN '' ELSE m::text END,
                   CASE WHEN log_events THEN 't' ELSE 'f' END,
                   COALESCE(wait_type_column, ''), COALESCE(resolution_column, ''),
                   COALESCE(assignee_column, ''),
                   CASE WHEN mode = 'observe' THEN 'o' WHEN enforce_only IS NOT NULL THEN 'p' ELSE 'e' END,
                   array_to_string(rules, ','), COALESCE(filter, ''), COALESCE(actor_column, ''),
                   COALESCE(assignee_nobody, ''), COALESCE(feedback_window::text, ''),
                   -- Citus: the tenant column, the rows' tenant without one, the OID in
                   -- the log (three more arguments only there: they cost every statement)
                   CASE WHEN everywhere THEN format(', %L, %L, %L', COALESCE(tenant_column, ''),
                                                    COALESCE(log_tenant, ''), tbl::oid::text) ELSE '' END);
    INSERT INTO workitem.attached_table AS t (tbl, status_column, kind, label_map, log_events,
                                              wait_type_column, resolution_column, assignee_column,
                                              mode, enforce_only, filter, actor_column, assignee_nobody,
                                              feedback_window, source_oid, source_name)
    VALUES (attach.tbl, attach.status_column, attach.kind, attach.label_map, attach.log_events,
            attach.wait_type_column, attach.resolution_column, attach.assignee_column,
            attach.mode, attach.enforce_only, attach.filter, attach.actor_column, attach.assignee_nobody,
            attach.feedback_window, log_oid, log_name)
    ON CONFLICT ON CONSTRAINT attached_table_pkey DO UPDATE
       SET status_column = EXCLUDED.status_column, kind = EXCLUDED.kind, label_map = EXCLUDED.label_map,
           log_events = EXCLUDED.log_events, wait_type_column = EXCLUDED.wait_type_column,
           resolution_column = EXCLUDED.resolution_column, assignee_column = EXCLUDED.assignee_column,
           mode = EXCLUDED.mode, enforce_only = EXCLUDED.enforce_only, filter = EXCLUDED.filter,
           actor_column = EXCLUDED.actor_column, assignee_nobody = EXCLUDED.assignee_nobody,
           feedback_window = EXCLUDED.feedback_window,
           source_oid = EXCLUDED.source_oid, source_name = EXCLUDED.source_name,
           attached_at = attached_now, attached_by = attached_who;
END $$;
-- issue 14: detach() of a table on Citus
CREATE OR REPLACE FUNCTION workitem.detach(tbl regclass) RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- Citus: as in attach(), dropping a trigger of a distributed table needs this
    IF EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'citus') THEN
        PERFORM set_config('citus.enable_unsafe_triggers', 'on', true);
    END IF;
    IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgname = 'zz_workitem_attached') THEN
        EXECUTE format('DROP TRIGGER zz_workitem_attached ON %s', tbl);
    END IF;
    DELETE FROM workitem.attached_table a WHERE a.tbl = detach.tbl;
END $$;
COMMENT ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                    text, text[], text, name, text, interval) IS
    'The lifecycle on a table of your own, enforced or observed: installs the C trigger zz_workitem_attached.';
REVOKE ALL ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                     text, text[], text, name, text, interval) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                          text, text[], text, name, text, interval) TO workitem_admin;
CREATE OR REPLACE VIEW workitem.attached AS
    SELECT tbl, status_column, kind, label_map, log_events, wait_type_column,
           resolution_column, assignee_column, attached_at, attached_by,
           mode, enforce_only, filter, actor_column, assignee_nobody, feedback_window
    FROM workitem.attached_table;

-- The history of one row of an attached table (issue 15), as history(id)
-- gives an item's; its own columns, so that it does not follow the log's.
CREATE FUNCTION workitem.history(tbl regclass, row_key text)
    RETURNS TABLE (id bigint, at timestamptz, actor text, what text,
                   old_value text, new_value text, reason text)
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql: Citus plans no parameterized SQL function over a distributed table
    AS $$
DECLARE
    -- the table as an oid: Citus sends a regclass in the view's pushed-down
    -- query (activity_log joins attached_table) by name, which each worker
    -- would resolve to its own OID, not the coordinator's in the log
    src pg_catalog.oid := history.tbl;
BEGIN
    -- in order as history(id) gives an item's (by id within a node's range,
    -- the ranges interleaved by time), read on the workers, ordered here
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT e.id, e.at, e.actor, e.what, e.old_value, e.new_value, e.reason
        FROM workitem.activity_log e
        WHERE e.source OPERATOR(pg_catalog.=) src AND e.row_key OPERATOR(pg_catalog.=) history.row_key)
    SELECT h.* FROM h
    ORDER BY pg_catalog.max(h.at) OVER (PARTITION BY h.id OPERATOR(pg_catalog.>>) 48 ORDER BY h.id), h.id;
END
$$;
REVOKE ALL ON FUNCTION workitem.history(regclass, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.history(regclass, text) TO workitem_agent;

------------------------------------------------------------------------
-- SLA of attached rows (issue 15): their clocks are rows of
-- workitem.sla_clock with item_id NULL and (source, row_key), kept by the
-- table's trigger as an item's are by the item trigger (src/attached_sla.c):
-- the enabled policy matching the table's kind (one with no category and
-- no priority: an attached row has neither), started at creation, paused
-- while waiting, first response at the first move out of to_do, stopped at
-- resolved, closed, DELETE or leaving the filter; warnings and breaches
-- fired by run_timers(). This view reads the kept clocks, one row per row
-- and target (current cycle), through the clocks' (source, row_key, ...)
-- index; the row's status from its last status event (event_row_idx).
------------------------------------------------------------------------
CREATE VIEW workitem.attached_sla AS
SELECT c.source, c.row_key, c.target, p.name AS policy, c.calendar,
       c.target_time, g.business_days AS target_days,
       c.started_at, c.stopped_at,
       s.current_status,
       workitem.clock_used(c.calendar, c.used, c.since, now()) AS used,
       c.due_at,
       workitem.clock_state(c.state, c.calendar, c.target_time, c.used, c.since, p.warn_at, now()) AS state,
       date_part('epoch', c.target_time) / 3600 AS target_time_hours,
       date_part('epoch', workitem.clock_used(c.calendar, c.used, c.since, now())) / 3600 AS used_hours,
       c.cycle,
       c.target_time - workitem.clock_used(c.calendar, c.used, c.since, now()) AS remaining,
       date_part('epoch', c.target_time - workitem.clock_used(c.calendar, c.used, c.since, now())) / 3600 AS remaining_hours,
       round((extract(epoch FROM workitem.clock_used(c.calendar, c.used, c.since, now()))
              / NULLIF(extract(epoch FROM c.target_time), 0) * 100)::numeric, 1) AS percent_used,
       workitem.clock_label(c.state, c.calendar, c.target_time, c.used, c.since, c.due_at, now()) AS label,
       c.breached_at,
       s.ended_by,
       workitem.source_name(c.source) AS source_name
FROM workitem.sla_clock c
LEFT JOIN workitem.sla_policy p ON p.id = c.policy_id
LEFT JOIN workitem.sla_target g ON g.policy_id = c.policy_id AND g.target = c.target
LEFT JOIN LATERAL (
    SELECT CASE WHEN e.what IN ('created', 'status') THEN e.new_value END AS current_status,
           CASE WHEN e.what IN ('deleted', 'filtered_out') THEN e.what END AS ended_by
    FROM workitem.event e
    WHERE e.source = c.source AND e.row_key = c.row_key AND e.tenant = c.tenant
      AND e.what IN ('created', 'status', 'deleted', 'filtered_out')
    ORDER BY e.source DESC, e.row_key DESC, e.id DESC LIMIT 1) s ON true
WHERE c.source IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM workitem.sla_clock c2
                  WHERE c2.source = c.source AND c2.row_key = c.row_key AND c2.tenant = c.tenant AND c2.target = c.target
                    AND c2.cycle > c.cycle);
COMMENT ON VIEW workitem.attached_sla IS
    'SLA of rows of attached tables, one row per row and target (current cycle), from the clocks the table''s trigger keeps: due time, used and remaining working time, state, label, and the row''s status from the log.';
COMMENT ON COLUMN workitem.attached_sla.source IS 'The attached table (regclass).';
COMMENT ON COLUMN workitem.attached_sla.row_key IS 'The row''s primary key, as text.';
COMMENT ON COLUMN workitem.attached_sla.target IS 'first_response or resolution (text).';
COMMENT ON COLUMN workitem.attached_sla.policy IS 'The SLA policy the clock follows, matched by the table''s kind (text; NULL once deleted).';
COMMENT ON COLUMN workitem.attached_sla.calendar IS 'The business calendar the clock counts in (text).';
COMMENT ON COLUMN workitem.attached_sla.target_time IS 'Working time allowed (interval; a target in business days converted when the clock started).';
COMMENT ON COLUMN workitem.attached_sla.target_days IS 'Business days allowed, for a target given so (integer; else NULL).';
COMMENT ON COLUMN workitem.attached_sla.started_at IS 'When the clock started: the row''s creation, or its first assignment for a target that starts then (timestamptz; NULL while pending).';
COMMENT ON COLUMN workitem.attached_sla.stopped_at IS 'When the clock stopped: first response, resolved, closed, deleted or out of the filter (timestamptz; NULL while it runs or is paused).';
COMMENT ON COLUMN workitem.attached_sla.current_status IS 'The row''s status now, in our labels, from its last status event (text; NULL once deleted or out of the filter, or when the table logs no events).';
COMMENT ON COLUMN workitem.attached_sla.used IS 'Working time used, stopping waits excluded (interval).';
COMMENT ON COLUMN workitem.attached_sla.due_at IS 'When the target is due, while the clock runs (timestamptz).';
COMMENT ON COLUMN workitem.attached_sla.state IS 'pending, running, paused, warning, breached, met or missed (text).';
COMMENT ON COLUMN workitem.attached_sla.target_time_hours IS 'double precision, working hours: target_time.';
COMMENT ON COLUMN workitem.attached_sla.used_hours IS 'double precision, working hours: used.';
COMMENT ON COLUMN workitem.attached_sla.cycle IS 'integer: 1, higher after reopens under a new_cycle policy or a key used again.';
COMMENT ON COLUMN workitem.attached_sla.remaining IS 'interval: working time left now (negative once overdue).';
COMMENT ON COLUMN workitem.attached_sla.remaining_hours IS 'double precision, working hours: remaining.';
COMMENT ON COLUMN workitem.attached_sla.percent_used IS 'numeric, percent: used / target_time x 100, one decimal.';
COMMENT ON COLUMN workitem.attached_sla.label IS 'text: Due: <time>, Due: paused ..., Met: ..., Missed: ...';
COMMENT ON COLUMN workitem.attached_sla.breached_at IS 'timestamptz: the due time run_timers() logged a breach for (NULL: none).';
COMMENT ON COLUMN workitem.attached_sla.ended_by IS 'text: deleted or filtered_out when the row is gone from the table or the filter, else NULL.';
COMMENT ON COLUMN workitem.attached_sla.source_name IS 'text: source as text, for drivers that know no regclass.';
-- item_sla has attached rows too (its other columns: 75_bi.sql)
COMMENT ON COLUMN workitem.item_sla.source IS 'regclass: the attached table, for a row of one (item_id NULL); else NULL';
COMMENT ON COLUMN workitem.item_sla.row_key IS 'text: the attached row''s primary key; else NULL';
COMMENT ON COLUMN workitem.item_sla.source_name IS 'text: source as text, for drivers that know no regclass';
-- status_durations has attached rows too (its other columns: 75_bi.sql)
COMMENT ON COLUMN workitem.status_durations.source IS 'regclass: the attached table, for a row of one (item_id NULL); else NULL';
COMMENT ON COLUMN workitem.status_durations.row_key IS 'text: the attached row''s primary key; else NULL';
COMMENT ON COLUMN workitem.status_durations.source_name IS 'text: source as text, for drivers that know no regclass';
REVOKE ALL ON workitem.attached_sla FROM PUBLIC;
GRANT SELECT ON workitem.attached_sla TO workitem_reader;

-- Citus: start_timer() and stop_timer() run these on the node of the
-- item's shard (distribute() makes them distributed functions delegated by
-- the tenant), with the caller's resource and actor.
CREATE FUNCTION workitem.start_timer_on(tenant text, id bigint, resource text, actor text)
    RETURNS workitem.timer AS 'MODULE_PATHNAME', 'workitem_start_timer_on' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.start_timer_on(text, bigint, text, text) IS
    'Citus: start_timer() on the node of the item''s shard (start_timer() calls it); refused on plain PostgreSQL.';
CREATE FUNCTION workitem.stop_timer_on(tenant text, id bigint, resource text, actor text)
    RETURNS workitem.time_entry AS 'MODULE_PATHNAME', 'workitem_stop_timer_on' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.stop_timer_on(text, bigint, text, text) IS
    'Citus: stop_timer() on the node of the item''s shard (stop_timer() calls it); refused on plain PostgreSQL.';
REVOKE ALL ON FUNCTION workitem.start_timer_on(text, bigint, text, text),
    workitem.stop_timer_on(text, bigint, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.start_timer_on(text, bigint, text, text),
    workitem.stop_timer_on(text, bigint, text, text) TO workitem_agent;

-- Citus: run_timers() for one tenant, delegated to the node of its shards (src/timers.c)
CREATE FUNCTION workitem.run_timers_tenant(tenant text, at timestamptz, max_items integer)
    RETURNS integer AS 'MODULE_PATHNAME', 'workitem_run_timers_tenant'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.run_timers_tenant(text, timestamptz, integer) IS
    'Citus: run_timers() for one tenant, on the node of its shards (run_timers() calls it); refused on plain PostgreSQL.';
REVOKE ALL ON FUNCTION workitem.run_timers_tenant(text, timestamptz, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.run_timers_tenant(text, timestamptz, integer) TO workitem_admin;

------------------------------------------------------------------------
-- Citus: functions given an item id look in the session's named tenant
-- first (one shard); create_action() in C (the actor carried in the row)
------------------------------------------------------------------------
CREATE FUNCTION workitem.routed_tenant() RETURNS text
    AS 'MODULE_PATHNAME', 'workitem_routed_tenant' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION workitem.routed_tenant() IS
    'Citus: the tenant this session named (workitem.tenant set), where the functions given an item id look first (one shard); NULL when none is named, and on plain PostgreSQL.';
REVOKE ALL ON FUNCTION workitem.routed_tenant() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.routed_tenant() TO workitem_agent;
CREATE OR REPLACE FUNCTION workitem.history(id bigint)
    RETURNS SETOF workitem.event
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql, not sql: Citus plans no parameterized SQL function over a
    -- distributed table. On Citus, the tenant the session named first (one
    -- shard; every item has its created row), then every shard.
    AS $$
DECLARE
    t text := workitem.routed_tenant();
BEGIN
    -- In order: by id within each node's range of ids (id >> 48; on one
    -- node one range, and this is the order of ids), the ranges interleaved
    -- by time: a tenant moved to another node (Citus) logs its next moves
    -- with that node's ids, which may be lower. A row's key is the latest
    -- time up to it in its range, so that a move made after waiting for
    -- another's lock (an earlier now()) stays after it. Materialized: on
    -- Citus the rows are read on the workers, ordered on the coordinator.
    IF t IS NOT NULL THEN
        RETURN QUERY
        WITH h AS MATERIALIZED (
            SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
                   e.old_value, e.new_value, e.reason, e.tenant
            FROM workitem.activity_log e
            WHERE e.item_id OPERATOR(pg_catalog.=) history.id AND e.tenant OPERATOR(pg_catalog.=) t)
        SELECT h.* FROM h
        ORDER BY pg_catalog.max(h.at) OVER (PARTITION BY h.id OPERATOR(pg_catalog.>>) 48 ORDER BY h.id), h.id;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
               e.old_value, e.new_value, e.reason, e.tenant
        FROM workitem.activity_log e WHERE e.item_id OPERATOR(pg_catalog.=) history.id)
    SELECT h.* FROM h
    ORDER BY pg_catalog.max(h.at) OVER (PARTITION BY h.id OPERATOR(pg_catalog.>>) 48 ORDER BY h.id), h.id;
END
$$;
CREATE OR REPLACE FUNCTION workitem.create_action(case_id bigint, title text,
                                       description text DEFAULT NULL,
                                       assignee text DEFAULT NULL,
                                       priority text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_create_action' LANGUAGE C VOLATILE;
CREATE OR REPLACE FUNCTION workitem.thread(id bigint)
    RETURNS SETOF workitem.message
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql, and the item's tenant first: Citus plans no parameterized
    -- SQL function over a distributed table, and a recursive query only
    -- within one shard (merged items are of one tenant)
    AS $$
DECLARE
    t text := workitem.routed_tenant();
BEGIN
    -- on Citus, the tenant the session named first (one shard), then every shard
    IF t IS NOT NULL AND NOT EXISTS (SELECT FROM workitem.item i
                                     WHERE i.id OPERATOR(pg_catalog.=) thread.id AND i.tenant OPERATOR(pg_catalog.=) t) THEN
        t := NULL;
    END IF;
    IF t IS NULL THEN
        SELECT i.tenant INTO t FROM workitem.item i WHERE i.id OPERATOR(pg_catalog.=) thread.id;
    END IF;
    RETURN QUERY
    WITH RECURSIVE merged(id) AS (
        SELECT thread.id
        UNION
        SELECT i.id FROM workitem.item i JOIN merged m ON i.merged_into OPERATOR(pg_catalog.=) m.id
        WHERE i.tenant OPERATOR(pg_catalog.=) t
    )
    SELECT msg.* FROM workitem.message msg JOIN merged m ON msg.item_id OPERATOR(pg_catalog.=) m.id
    WHERE msg.tenant OPERATOR(pg_catalog.=) t
    ORDER BY msg.at, msg.id;
END
$$;

-- Citus: log_time() and add_expense() carry the actor in the row
-- (write-only, like item.change_actor; the trigger logs and clears it)
ALTER TABLE workitem.time_entry ADD COLUMN change_actor text;
ALTER TABLE workitem.expense ADD COLUMN change_actor text;
-- issue 14 (Citus): a plain INSERT carries the session's actor (the default
-- is evaluated on the coordinator); set apart: no stored value for old rows
ALTER TABLE workitem.time_entry ALTER COLUMN change_actor SET DEFAULT workitem.actor();
ALTER TABLE workitem.expense ALTER COLUMN change_actor SET DEFAULT workitem.actor();

-- The SLA readers per row of a query Citus pushed to a worker (issue 14)
-- Citus: this node's shards of a workitem table, for a reader called per
-- row of a query that Citus pushed to this node (NULL elsewhere).
CREATE FUNCTION workitem.node_shards(tbl text) RETURNS text[]
    AS 'MODULE_PATHNAME', 'workitem_node_shards' LANGUAGE C STABLE PARALLEL SAFE;
COMMENT ON FUNCTION workitem.node_shards(text) IS
    'Citus: in a query Citus pushed to this node, this node''s shards of workitem.<tbl> (the placement of a reference table), which a reader called per row reads instead of the distributed table; NULL elsewhere and on plain PostgreSQL.';

-- The current clock of an item for a target.
-- plpgsql: Citus plans no parameterized SQL function over a distributed
-- (or reference) table; on Citus the session's tenant is tried first, and
-- per row of a query pushed to a worker the worker's own shards.
CREATE OR REPLACE FUNCTION workitem.current_clock(item bigint, target text)
    RETURNS workitem.sla_clock LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    t text := workitem.routed_tenant();
    local text[] := workitem.node_shards('sla_clock');
    c workitem.sla_clock;
    n text;
BEGIN
    IF local IS NOT NULL THEN
        -- the item's clocks are colocated with its row, which this node holds
        FOREACH n IN ARRAY local LOOP
            EXECUTE pg_catalog.format('SELECT s.* FROM %s s WHERE s.item_id OPERATOR(pg_catalog.=) $1'
                                      ' AND s.target OPERATOR(pg_catalog.=) $2 ORDER BY s.cycle DESC LIMIT 1', n)
                INTO c USING current_clock.item, current_clock.target;
            IF c.id IS NOT NULL THEN
                RETURN c;
            END IF;
        END LOOP;
        FOREACH n IN ARRAY workitem.node_shards('item') LOOP
            EXECUTE pg_catalog.format('SELECT true FROM %s i WHERE i.id OPERATOR(pg_catalog.=) $1', n)
                INTO t USING current_clock.item;
            IF t IS NOT NULL THEN
                RETURN c;               -- an item of this node without such a clock
            END IF;
        END LOOP;
        t := NULL;                      -- not this node's item: the distributed query (refused)
    END IF;
    IF t IS NOT NULL THEN
        SELECT s.* INTO c FROM workitem.sla_clock s
        WHERE s.item_id OPERATOR(pg_catalog.=) current_clock.item AND s.tenant OPERATOR(pg_catalog.=) t
          AND s.target OPERATOR(pg_catalog.=) current_clock.target
        ORDER BY s.cycle DESC LIMIT 1;
        IF FOUND THEN
            RETURN c;
        END IF;
    END IF;
    SELECT s.* INTO c FROM workitem.sla_clock s
    WHERE s.item_id OPERATOR(pg_catalog.=) current_clock.item AND s.target OPERATOR(pg_catalog.=) current_clock.target
    ORDER BY s.cycle DESC LIMIT 1;
    RETURN c;
END
$$;

CREATE OR REPLACE FUNCTION workitem.sla_state(item bigint, target text DEFAULT 'resolution',
                                   at timestamptz DEFAULT now())
    RETURNS text LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql, the clock first and its policy's thresholds apart: see current_clock()
    AS $$
DECLARE
    c workitem.sla_clock := workitem.current_clock(sla_state.item, sla_state.target);
    local text[];
    w numeric[];
BEGIN
    IF c.id IS NULL THEN
        RETURN 'none';
    END IF;
    local := workitem.node_shards('sla_policy');
    IF local IS NULL THEN
        SELECT p.warn_at INTO w FROM workitem.sla_policy p WHERE p.id OPERATOR(pg_catalog.=) c.policy_id;
    ELSE
        EXECUTE pg_catalog.format('SELECT p.warn_at FROM %s p WHERE p.id OPERATOR(pg_catalog.=) $1', local[1])
            INTO w USING c.policy_id;
    END IF;
    RETURN workitem.clock_state(c.state, c.calendar, c.target_time, c.used, c.since, w, sla_state.at);
END
$$;

-- and, on Citus, the shards the SLA readers read per row on a worker
REVOKE ALL ON FUNCTION workitem.node_shards(text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.node_shards(text) TO workitem_agent;

------------------------------------------------------------------------
-- Citus: the NOTIFY of moves made in Citus's connection to a worker
-- (src/notify.c). The trigger there cannot send it (a transaction that
-- wrote on two nodes commits in two phases, and PREPARE refuses one that
-- sent a NOTIFY): it keeps the payload in that transaction, and the
-- operation on the coordinator takes it back and sends it at its commit.
------------------------------------------------------------------------
CREATE FUNCTION workitem.worker_moves() RETURNS text[]
    AS 'MODULE_PATHNAME', 'workitem_worker_moves' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.worker_moves() IS
    'Citus: the NOTIFY payloads of the moves made so far in this transaction in Citus''s connection to this worker, each returned once (the operations on the coordinator send them); empty elsewhere.';
REVOKE ALL ON FUNCTION workitem.worker_moves() FROM PUBLIC;
-- and, on Citus, take back the moves their statements made on a worker
GRANT EXECUTE ON FUNCTION workitem.worker_moves() TO workitem_agent;

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
