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

-- The status an item left was entered at its status (or creation) event
-- just before: found through event_item_idx (event_row_idx for a row of an
-- attached table), so a filter on at, item_id or source reaches the log.
CREATE OR REPLACE VIEW workitem.transitions AS
WITH changes AS (
    SELECT e.id AS event_id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what, e.reason,
           CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_label,
           -- created: 'ticket to_do' for an item, 'to_do' for a row of an attached table
           CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_label,
           COALESCE(pi.at, pr.at) AS previous_at
    FROM workitem.event e
    LEFT JOIN LATERAL (
        SELECT e2.at FROM workitem.event e2
        WHERE e2.item_id = e.item_id AND e2.id < e.id AND e2.what IN ('created', 'status')
          AND e2.source IS NOT DISTINCT FROM e.source AND e2.row_key IS NOT DISTINCT FROM e.row_key
        ORDER BY e2.item_id DESC, e2.id DESC LIMIT 1) pi ON e.item_id IS NOT NULL
    LEFT JOIN LATERAL (
        SELECT e2.at FROM workitem.event e2
        WHERE e2.source = e.source AND e2.row_key = e.row_key AND e2.id < e.id
          AND e2.what IN ('created', 'status') AND e2.item_id IS NULL
        ORDER BY e2.source DESC, e2.row_key DESC, e2.id DESC LIMIT 1) pr ON e.item_id IS NULL
    WHERE e.what IN ('created', 'status')
)
SELECT c.event_id, c.item_id, c.source, c.row_key, COALESCE(i.kind, a.kind) AS kind, c.at, c.actor,
       c.what = 'created' AS is_creation,
       c.from_label::workitem.status AS from_status,
       c.to_label::workitem.status AS to_status,
       c.reason,
       c.previous_at AS entered_previous_at,
       c.at - c.previous_at AS time_in_previous,
       CASE WHEN c.previous_at IS NOT NULL
            THEN workitem.business_time(COALESCE(p.calendar, '24x7'), c.previous_at, c.at)
       END AS working_time_in_previous
FROM changes c
LEFT JOIN workitem.item i ON i.id = c.item_id
LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
LEFT JOIN workitem.attached_table a ON a.tbl = c.source
-- attached tables log their own labels mapped to ours; anything else is skipped
WHERE c.to_label = ANY (enum_range(NULL::workitem.status)::text[])
  AND (c.from_label IS NULL OR c.from_label = ANY (enum_range(NULL::workitem.status)::text[]));

-- daily_flow reads the log itself: it needs no time in the status left.
CREATE OR REPLACE VIEW workitem.daily_flow AS
WITH moves AS (
    SELECT e.at, e.item_id, e.what = 'created' AS is_creation,
           (CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END)::workitem.status AS from_status,
           (CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END)::workitem.status AS to_status
    FROM workitem.event e
    WHERE e.item_id IS NOT NULL AND e.what IN ('created', 'status')
)
SELECT (m.at)::date AS day, i.kind, i.category,
       count(*) FILTER (WHERE m.is_creation) AS created,
       count(*) FILTER (WHERE (m.is_creation AND m.to_status NOT IN ('draft', 'closed'))
                           OR (m.from_status = 'draft' AND m.to_status <> 'closed')) AS submitted,
       count(*) FILTER (WHERE m.to_status = 'resolved'
                           OR (m.to_status = 'closed' AND m.from_status IS DISTINCT FROM 'resolved')) AS resolved,
       count(*) FILTER (WHERE m.to_status = 'closed') AS closed,
       count(*) FILTER (WHERE m.from_status = 'resolved' AND m.to_status IN ('to_do', 'in_progress')) AS reopened
FROM moves m
JOIN workitem.item i ON i.id = m.item_id
GROUP BY 1, 2, 3;

-- daily_flow for the days from_day to to_day (in the session time zone):
-- a filter on day cannot reach the log's time index, this range does. The
-- query is planned for the days given (EXECUTE): a plan for any range
-- would join every item.
CREATE FUNCTION workitem.daily_flow_between(from_day date, to_day date)
    RETURNS SETOF workitem.daily_flow
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- a window's rows: starting parallel workers would cost more than reading them
    SET max_parallel_workers_per_gather = 0
    AS $f$
BEGIN
    RETURN QUERY EXECUTE $q$
SELECT (e.at)::date AS day, i.kind, i.category,
       count(*) FILTER (WHERE m.is_creation) AS created,
       count(*) FILTER (WHERE (m.is_creation AND m.to_status OPERATOR(pg_catalog.<>) ALL ('{draft,closed}'))
                           OR (m.from_status OPERATOR(pg_catalog.=) 'draft'
                               AND m.to_status OPERATOR(pg_catalog.<>) 'closed')) AS submitted,
       count(*) FILTER (WHERE m.to_status OPERATOR(pg_catalog.=) 'resolved'
                           OR (m.to_status OPERATOR(pg_catalog.=) 'closed'
                               AND m.from_status IS DISTINCT FROM 'resolved'::workitem.status)) AS resolved,
       count(*) FILTER (WHERE m.to_status OPERATOR(pg_catalog.=) 'closed') AS closed,
       count(*) FILTER (WHERE m.from_status OPERATOR(pg_catalog.=) 'resolved'
                           AND m.to_status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')) AS reopened
FROM workitem.event e
CROSS JOIN LATERAL (
    SELECT e.what OPERATOR(pg_catalog.=) 'created' AS is_creation,
           (CASE WHEN e.what OPERATOR(pg_catalog.=) 'created' THEN NULL ELSE e.old_value END)::workitem.status AS from_status,
           (CASE WHEN e.what OPERATOR(pg_catalog.=) 'created'
                 THEN pg_catalog.regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END)::workitem.status AS to_status) m
JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) e.item_id
WHERE e.at OPERATOR(pg_catalog.>=) $1::timestamptz
  AND e.at OPERATOR(pg_catalog.<) ($2 OPERATOR(pg_catalog.+) 1)::timestamptz
  AND e.item_id IS NOT NULL AND e.what OPERATOR(pg_catalog.=) ANY ('{created,status}')
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3 $q$ USING from_day, to_day;
END $f$;
COMMENT ON FUNCTION workitem.daily_flow_between(date, date) IS
    'The rows of workitem.daily_flow for the days from_day to to_day, read through the log''s time index.';

-- One person's queue (NULL: the unassigned), in the queue's order, at
-- most max_rows rows: read through item_assignee_idx. position counts
-- within this queue (the view's counts within the whole section).
CREATE FUNCTION workitem.agent_queue(assignee text, max_rows integer DEFAULT 100)
    RETURNS SETOF workitem.queue
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$
SELECT o.section,
       row_number() OVER (PARTITION BY o.section
                          ORDER BY o.highlighted DESC, o.needs_attention DESC,
                                   o.comes_back_at NULLS LAST, o.resolution_due_at NULLS LAST,
                                   o.status_changed_at, o.id) AS position,
       o.id, o.kind, o.status, o.assignee, o.title, o.category, o.priority, o.queue,
       o.highlighted, o.needs_attention, o.attention_reason,
       o.wait_type, o.wait_reason, o.comes_back_at, o.close_if_no_reply,
       o.resolution_due_at, o.resolution_state,
       o.status_changed_at AS since,
       pg_catalog.now() OPERATOR(pg_catalog.-) o.status_changed_at AS time_in_status
FROM (
    SELECT i.*,
           CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN 'waiting' ELSE 'inbox' END AS section,
           CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN i.wait_until END AS comes_back_at,
           r.due_at AS resolution_due_at,
           COALESCE(r.state, 'none') AS resolution_state
    FROM workitem.item i
    LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id
                                 AND r.target OPERATOR(pg_catalog.=) 'resolution'
    WHERE i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress,waiting}')
      AND i.assignee OPERATOR(pg_catalog.=) $1
    UNION ALL
    SELECT i.*,
           CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN 'waiting' ELSE 'inbox' END,
           CASE WHEN i.status OPERATOR(pg_catalog.=) 'waiting' THEN i.wait_until END,
           r.due_at, COALESCE(r.state, 'none')
    FROM workitem.item i
    LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id
                                 AND r.target OPERATOR(pg_catalog.=) 'resolution'
    WHERE $1 IS NULL AND i.assignee IS NULL
      AND i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress,waiting}')
) o
ORDER BY o.section, position
LIMIT $2 $$;
COMMENT ON FUNCTION workitem.agent_queue(text, integer) IS
    'The open items of one assignee (NULL: unassigned) in the order of workitem.queue, first max_rows; position counts within this queue.';

REVOKE ALL ON FUNCTION workitem.daily_flow_between(date, date), workitem.agent_queue(text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.daily_flow_between(date, date) TO workitem_reader;
GRANT EXECUTE ON FUNCTION workitem.agent_queue(text, integer) TO workitem_reader;

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

-- The inbox's top max_rows, the rows of workitem.queue whose section is
-- inbox and position at most max_rows, read in the queue's order instead
-- of numbering every open item: first the flagged items (highlighted or
-- needing attention: few), then those with a running resolution clock by
-- due time (sla_clock_due_idx), then the rest by the time of their last
-- status change; each step runs only if the ones before did not fill the
-- page. Each query is planned for its limit (EXECUTE).
CREATE INDEX item_inbox_flagged_idx ON workitem.item (id)
    WHERE (highlighted OR needs_attention) AND status = ANY ('{to_do,in_progress}');
CREATE INDEX item_inbox_age_idx ON workitem.item (status_changed_at, id)
    WHERE status = ANY ('{to_do,in_progress}') AND NOT highlighted AND NOT needs_attention;

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
            LEFT JOIN workitem.sla_clock c ON c.item_id OPERATOR(pg_catalog.=) i.id
                 AND c.target OPERATOR(pg_catalog.=) 'resolution' AND c.state OPERATOR(pg_catalog.=) 'running'
            WHERE (i.highlighted OR i.needs_attention) AND i.status OPERATOR(pg_catalog.=) ANY ('{to_do,in_progress}')
            ORDER BY o LIMIT $1) s $q$
        INTO ids USING max_rows;
    IF pg_catalog.cardinality(ids) OPERATOR(pg_catalog.<) max_rows THEN
        EXECUTE $q$
            SELECT $2 OPERATOR(pg_catalog.||) COALESCE(pg_catalog.array_agg(s.id ORDER BY s.o), '{}') FROM (
                SELECT i.id, pg_catalog.row_number() OVER (ORDER BY c.due_at, i.status_changed_at, i.id) AS o
                FROM workitem.sla_clock c
                JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) c.item_id
                WHERE c.state OPERATOR(pg_catalog.=) 'running' AND c.target OPERATOR(pg_catalog.=) 'resolution'
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
                  AND NOT EXISTS (SELECT 1 FROM workitem.sla_clock c WHERE c.item_id OPERATOR(pg_catalog.=) i.id
                                  AND c.target OPERATOR(pg_catalog.=) 'resolution'
                                  AND c.state OPERATOR(pg_catalog.=) 'running')
                ORDER BY i.status_changed_at, i.id LIMIT $1) s $q$
            INTO ids USING max_rows OPERATOR(pg_catalog.-) pg_catalog.cardinality(ids), ids;
    END IF;
    RETURN QUERY
    SELECT 'inbox'::pg_catalog.text, o.n, i.id, i.kind, i.status, i.assignee, i.title, i.category, i.priority, i.queue,
           i.highlighted, i.needs_attention, i.attention_reason,
           i.wait_type, i.wait_reason, NULL::timestamptz, i.close_if_no_reply,
           r.due_at, COALESCE(r.state, 'none'),
           i.status_changed_at, pg_catalog.now() OPERATOR(pg_catalog.-) i.status_changed_at
    FROM pg_catalog.unnest(ids) WITH ORDINALITY AS o(id, n)
    JOIN workitem.item i ON i.id OPERATOR(pg_catalog.=) o.id
    LEFT JOIN workitem.item_sla r ON r.item_id OPERATOR(pg_catalog.=) i.id AND r.target OPERATOR(pg_catalog.=) 'resolution'
    ORDER BY o.n;
END $f$;
COMMENT ON FUNCTION workitem.inbox(integer) IS
    'The inbox''s first max_rows items: the rows of workitem.queue in section inbox with position <= max_rows, read in order instead of numbering every open item.';
REVOKE ALL ON FUNCTION workitem.inbox(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.inbox(integer) TO workitem_reader;

-- issue 15: attach() enforces or observes, maps a label to a status, wait
-- type and resolution, filters rows, reads the actor and the assignee from
-- columns of any type; the trigger sees DELETE too.
ALTER TABLE workitem.attached_table
    ADD COLUMN mode text NOT NULL DEFAULT 'enforce',
    ADD COLUMN enforce_only text[],
    ADD COLUMN filter text,
    ADD COLUMN actor_column name,
    ADD COLUMN assignee_nobody text;
DROP FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name);
CREATE FUNCTION workitem.attach(tbl regclass, status_column name DEFAULT 'status',
                                kind workitem.kind DEFAULT 'ticket', label_map jsonb DEFAULT NULL,
                                log_events boolean DEFAULT true, wait_type_column name DEFAULT NULL,
                                resolution_column name DEFAULT NULL, assignee_column name DEFAULT NULL,
                                mode text DEFAULT 'enforce', enforce_only text[] DEFAULT NULL,
                                filter text DEFAULT NULL, actor_column name DEFAULT NULL,
                                assignee_nobody text DEFAULT NULL)
    RETURNS void LANGUAGE plpgsql
    SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
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
            IF entry IN ('transition', 'wait_type', 'resolution', 'label', 'assignee', 'delete') THEN
                rules := rules || entry;
                CONTINUE;
            END IF;
            sides := regexp_split_to_array(entry, '\s*->\s*');
            IF array_length(sides, 1) <> 2 THEN
                RAISE EXCEPTION 'enforce_only: "%" is neither a rule nor a move from->to', entry
                    USING ERRCODE = '22023',
                          HINT = 'Rules: transition, wait_type, resolution, label, assignee, delete; moves: closed->in_progress or the table''s labels, deleted->open.';
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

    IF EXISTS (SELECT 1 FROM pg_trigger g WHERE g.tgrelid = tbl AND g.tgname = 'zz_workitem_attached') THEN
        EXECUTE format('DROP TRIGGER zz_workitem_attached ON %s', tbl);
    END IF;
    EXECUTE format('CREATE TRIGGER zz_workitem_attached BEFORE INSERT OR DELETE OR UPDATE OF %s ON %s '
                   'FOR EACH ROW EXECUTE FUNCTION workitem.enforce_attached(%L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L, %L)',
                   (SELECT string_agg(quote_ident(c), ', ') FROM unnest(ARRAY[status_column, wait_type_column,
                        resolution_column, assignee_column]) c WHERE c IS NOT NULL),
                   tbl, status_column, kind, CASE WHEN label_map IS NULL THEN '' ELSE m::text END,
                   CASE WHEN log_events THEN 't' ELSE 'f' END,
                   COALESCE(wait_type_column, ''), COALESCE(resolution_column, ''),
                   COALESCE(assignee_column, ''),
                   CASE WHEN mode = 'observe' THEN 'o' WHEN enforce_only IS NOT NULL THEN 'p' ELSE 'e' END,
                   array_to_string(rules, ','), COALESCE(filter, ''), COALESCE(actor_column, ''),
                   COALESCE(assignee_nobody, ''));
    INSERT INTO workitem.attached_table AS t (tbl, status_column, kind, label_map, log_events,
                                              wait_type_column, resolution_column, assignee_column,
                                              mode, enforce_only, filter, actor_column, assignee_nobody)
    VALUES (attach.tbl, attach.status_column, attach.kind, attach.label_map, attach.log_events,
            attach.wait_type_column, attach.resolution_column, attach.assignee_column,
            attach.mode, attach.enforce_only, attach.filter, attach.actor_column, attach.assignee_nobody)
    ON CONFLICT ON CONSTRAINT attached_table_pkey DO UPDATE
       SET status_column = EXCLUDED.status_column, kind = EXCLUDED.kind, label_map = EXCLUDED.label_map,
           log_events = EXCLUDED.log_events, wait_type_column = EXCLUDED.wait_type_column,
           resolution_column = EXCLUDED.resolution_column, assignee_column = EXCLUDED.assignee_column,
           mode = EXCLUDED.mode, enforce_only = EXCLUDED.enforce_only, filter = EXCLUDED.filter,
           actor_column = EXCLUDED.actor_column, assignee_nobody = EXCLUDED.assignee_nobody,
           attached_at = now(), attached_by = session_user;
END $$;
COMMENT ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                    text, text[], text, name, text) IS
    'The lifecycle on a table of your own, enforced or observed: installs the C trigger zz_workitem_attached.';
REVOKE ALL ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                     text, text[], text, name, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                                          text, text[], text, name, text) TO workitem_admin;
CREATE OR REPLACE VIEW workitem.attached AS
    SELECT tbl, status_column, kind, label_map, log_events, wait_type_column,
           resolution_column, assignee_column, attached_at, attached_by,
           mode, enforce_only, filter, actor_column, assignee_nobody
    FROM workitem.attached_table;

-- The history of one row of an attached table (issue 15), as history(id)
-- gives an item's; its own columns, so that it does not follow the log's.
CREATE FUNCTION workitem.history(tbl regclass, row_key text)
    RETURNS TABLE (id bigint, at timestamptz, actor text, what text,
                   old_value text, new_value text, reason text)
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT e.id, e.at, e.actor, e.what, e.old_value, e.new_value, e.reason
          FROM workitem.activity_log e
          WHERE e.source OPERATOR(pg_catalog.=) $1 AND e.row_key OPERATOR(pg_catalog.=) $2
          ORDER BY e.id $$;
REVOKE ALL ON FUNCTION workitem.history(regclass, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION workitem.history(regclass, text) TO workitem_agent;

------------------------------------------------------------------------
-- SLA of attached rows (issue 15), read from the log: the resolution
-- target of the policy that matches the table's kind (a policy with no
-- category and no priority: an attached row has neither), in the
-- policy's calendar. The clock runs from the row's creation, pauses while
-- it waits, stops at its first resolved or closed; a reopen does not
-- restart it. Not kept by the trigger as items' clocks are: no warnings
-- or breaches fired by run_timers, no first-response target.
------------------------------------------------------------------------
CREATE VIEW workitem.attached_sla AS
WITH moves AS (
    SELECT t.source, t.row_key, t.event_id, t.at, t.to_status, t.is_creation
    FROM workitem.transitions t
    JOIN workitem.attached_table a ON a.tbl = t.source
    WHERE t.item_id IS NULL
), rows_ AS (
    SELECT m.source, m.row_key,
           min(m.at) FILTER (WHERE m.is_creation) AS started_at,
           min(m.at) FILTER (WHERE m.to_status IN ('resolved', 'closed')) AS stopped_at,
           (array_agg(m.to_status ORDER BY m.event_id DESC))[1] AS status,
           max(m.at) AS status_since
    FROM moves m
    GROUP BY m.source, m.row_key
), timed AS (
    SELECT r.*, p.name AS policy, p.calendar, g.working_time, g.business_days,
           -- working time in every status left before the stop, waits excepted
           (SELECT COALESCE(sum(workitem.business_time(p.calendar, s.at, s.next_at)), interval '0')
              FROM (SELECT m.at, m.to_status,
                           lead(m.at) OVER (ORDER BY m.event_id) AS next_at
                      FROM moves m WHERE m.source = r.source AND m.row_key = r.row_key) s
             WHERE s.next_at IS NOT NULL AND s.to_status <> 'waiting'
               AND s.next_at <= COALESCE(r.stopped_at, 'infinity')) AS used_before
    FROM rows_ r
    JOIN workitem.attached_table a ON a.tbl = r.source
    CROSS JOIN LATERAL (
        SELECT p.* FROM workitem.sla_policy p
        WHERE p.enabled AND p.category IS NULL AND p.priority IS NULL
          AND (p.kind IS NULL OR p.kind = a.kind)
        ORDER BY p.kind IS NULL, p.id LIMIT 1) p
    JOIN workitem.sla_target g ON g.policy_id = p.id AND g.target = 'resolution'
    WHERE r.started_at IS NOT NULL
), clocked AS (
    SELECT t.*,
           CASE WHEN t.stopped_at IS NOT NULL OR t.status = 'waiting' THEN t.used_before
                ELSE t.used_before + workitem.business_time(t.calendar, t.status_since, now())
           END AS used,
           CASE WHEN t.business_days IS NOT NULL
                THEN workitem.end_of_working_day(t.calendar, t.started_at, t.business_days)
                WHEN t.stopped_at IS NULL AND t.status <> 'waiting'
                THEN workitem.business_add(t.calendar, t.status_since, t.working_time - t.used_before)
           END AS due_at
    FROM timed t
)
SELECT c.source, c.row_key, 'resolution'::text AS target, c.policy, c.calendar,
       c.working_time AS target_time, c.business_days AS target_days,
       c.started_at, c.stopped_at, c.status AS current_status, c.used, c.due_at,
       CASE WHEN c.business_days IS NOT NULL THEN
                CASE WHEN c.stopped_at IS NOT NULL THEN
                          CASE WHEN c.stopped_at <= c.due_at THEN 'met' ELSE 'missed' END
                     WHEN now() > c.due_at THEN 'breached' ELSE 'running' END
            WHEN c.stopped_at IS NOT NULL THEN
                 CASE WHEN c.used <= c.working_time THEN 'met' ELSE 'missed' END
            WHEN c.used > c.working_time THEN 'breached'
            WHEN c.status = 'waiting' THEN 'paused'
            ELSE 'running'
       END AS state
FROM clocked c;
COMMENT ON VIEW workitem.attached_sla IS
    'SLA of rows of attached tables, read from the log: the resolution target of the policy matching the kind, paused while waiting, stopped at the first resolved or closed.';
REVOKE ALL ON workitem.attached_sla FROM PUBLIC;
GRANT SELECT ON workitem.attached_sla TO workitem_reader;

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
