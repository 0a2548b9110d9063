------------------------------------------------------------------------
-- Attaching the lifecycle to a table that is not ours (issue 6): the
-- same compiled rules, in the C trigger workitem.enforce_attached().
------------------------------------------------------------------------
CREATE FUNCTION workitem.enforce_attached() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_enforce_attached' LANGUAGE C;

CREATE TABLE workitem.attached_table (
    tbl               regclass PRIMARY KEY,
    status_column     name NOT NULL,
    kind              workitem.kind NOT NULL,
    label_map         jsonb,
    log_events        boolean NOT NULL,
    wait_type_column  name,
    resolution_column name,
    assignee_column   name,
    attached_at       timestamptz NOT NULL DEFAULT now(),
    attached_by       text NOT NULL DEFAULT session_user
);
SELECT pg_catalog.pg_extension_config_dump('workitem.attached_table', '');

CREATE FUNCTION workitem.attach(tbl regclass, status_column name DEFAULT 'status',
                                kind workitem.kind DEFAULT 'ticket', label_map jsonb DEFAULT NULL,
                                log_events boolean DEFAULT true, wait_type_column name DEFAULT NULL,
                                resolution_column name DEFAULT NULL, assignee_column name DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    col name;
    typ regtype;
    bad text;
    labels text[];
BEGIN
    IF tbl IS NULL OR status_column IS NULL OR kind IS NULL OR log_events IS NULL THEN
        RAISE EXCEPTION 'attach needs a table, a status column, a kind and log_events, not NULL'
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
    -- every mapped column exists and has a type the trigger reads
    FOREACH col IN ARRAY ARRAY[status_column, wait_type_column, resolution_column, assignee_column] LOOP
        CONTINUE WHEN col IS NULL;
        SELECT a.atttypid::regtype INTO typ FROM pg_attribute a
         WHERE a.attrelid = tbl AND a.attname = col AND a.attnum > 0 AND NOT a.attisdropped;
        IF typ IS NULL THEN
            RAISE EXCEPTION 'column "%" of % does not exist', col, tbl USING ERRCODE = '42703';
        END IF;
        IF typ NOT IN ('text'::regtype, 'character varying'::regtype, 'workitem.status'::regtype,
                       'workitem.wait_type'::regtype, 'workitem.resolution'::regtype) THEN
            RAISE EXCEPTION 'column "%" of % is of type %, not text or a workitem type', col, tbl, typ
                USING ERRCODE = '42804';
        END IF;
    END LOOP;
    -- the label map names only real statuses
    IF label_map IS NOT NULL THEN
        IF jsonb_typeof(label_map) <> 'object' THEN
            RAISE EXCEPTION 'label_map must be a JSON object of labels, not %', label_map USING ERRCODE = '22023';
        END IF;
        SELECT string_agg(format('%s: %s', e.key, e.value), ', ') INTO bad
          FROM jsonb_each(label_map) e
         WHERE jsonb_typeof(e.value) <> 'string'
            OR NOT (e.value #>> '{}') = ANY (enum_range(NULL::workitem.status)::text[]);
        IF bad IS NOT NULL THEN
            RAISE EXCEPTION 'label_map maps to labels that are not statuses: %', bad
                USING ERRCODE = 'WI012',
                      HINT = 'Statuses: draft, to_do, in_progress, waiting, resolved, closed.';
        END IF;
    END IF;
    -- the rows already there must have statuses the trigger will understand
    labels := CASE WHEN label_map IS NULL THEN enum_range(NULL::workitem.status)::text[]
                   ELSE ARRAY(SELECT jsonb_object_keys(label_map)) END;
    EXECUTE format('SELECT string_agg(DISTINCT %I::text, '', '') FROM %s WHERE NOT (%I::text = ANY ($1))',
                   status_column, tbl, status_column)
       INTO bad USING labels;
    IF bad IS NOT NULL THEN
        RAISE EXCEPTION 'rows of % have status labels that are not mapped: %', tbl, bad
            USING ERRCODE = 'WI012', HINT = 'Add them to label_map.';
    END IF;

    IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgname = 'zz_workitem_attached') THEN
        EXECUTE format('DROP TRIGGER zz_workitem_attached ON %s', tbl);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_workitem_attached BEFORE INSERT OR UPDATE OF %s ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION workitem.enforce_attached(%L, %L, %L, %L, %L, %L, %L)',
                   (SELECT string_agg(quote_ident(c), ', ') FROM unnest(ARRAY[status_column, wait_type_column,
                        resolution_column, assignee_column]) c WHERE c IS NOT NULL),
                   tbl, status_column, kind, COALESCE(label_map::text, ''),
                   CASE WHEN log_events THEN 't' ELSE 'f' END,
                   COALESCE(wait_type_column, ''), COALESCE(resolution_column, ''),
                   COALESCE(assignee_column, ''));
    INSERT INTO workitem.attached_table AS t (tbl, status_column, kind, label_map, log_events,
                                              wait_type_column, resolution_column, assignee_column)
    VALUES (attach.tbl, attach.status_column, attach.kind, attach.label_map, attach.log_events,
            attach.wait_type_column, attach.resolution_column, attach.assignee_column)
    ON CONFLICT ON CONSTRAINT attached_table_pkey DO UPDATE
       SET status_column = EXCLUDED.status_column, kind = EXCLUDED.kind, label_map = EXCLUDED.label_map,
           log_events = EXCLUDED.log_events, wait_type_column = EXCLUDED.wait_type_column,
           resolution_column = EXCLUDED.resolution_column, assignee_column = EXCLUDED.assignee_column,
           attached_at = now(), attached_by = session_user;
END $$;
COMMENT ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name) IS
    'Enforce the lifecycle on a table of your own: installs the C trigger zz_workitem_attached.';

CREATE FUNCTION workitem.detach(tbl regclass) RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgname = 'zz_workitem_attached') THEN
        EXECUTE format('DROP TRIGGER zz_workitem_attached ON %s', tbl);
    END IF;
    DELETE FROM workitem.attached_table a WHERE a.tbl = detach.tbl;
END $$;

CREATE VIEW workitem.attached AS
    SELECT tbl, status_column, kind, label_map, log_events, wait_type_column,
           resolution_column, assignee_column, attached_at, attached_by
    FROM workitem.attached_table;
COMMENT ON VIEW workitem.attached IS 'The tables the lifecycle is attached to.';
