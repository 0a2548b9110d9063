------------------------------------------------------------------------
-- Attaching the lifecycle to a table that is not ours (issue 6): the
-- same compiled rules, in the C trigger workitem.enforce_attached(),
-- enforced or only observed (issue 15).
------------------------------------------------------------------------
CREATE FUNCTION workitem.enforce_attached() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_enforce_attached' LANGUAGE C;

-- (workitem.attached_table: in 10_core.sql, before the views that join it)

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
COMMENT ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                    text, text[], text, name, text, interval) IS
    'The lifecycle on a table of your own, enforced or observed: installs the C trigger zz_workitem_attached.';

CREATE FUNCTION workitem.detach(tbl regclass) RETURNS void LANGUAGE plpgsql
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

CREATE VIEW workitem.attached AS
    SELECT tbl, status_column, kind, label_map, log_events, wait_type_column,
           resolution_column, assignee_column, attached_at, attached_by,
           mode, enforce_only, filter, actor_column, assignee_nobody, feedback_window
    FROM workitem.attached_table;
COMMENT ON VIEW workitem.attached IS 'The tables the lifecycle is attached to.';
