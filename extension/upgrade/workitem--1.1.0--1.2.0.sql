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

CREATE OR REPLACE VIEW workitem.activity_log AS
SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
       e.old_value, e.new_value, e.reason, e.tenant
FROM workitem.event e;
CREATE OR REPLACE FUNCTION workitem.history(id bigint)
    RETURNS SETOF workitem.event
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql, not sql: Citus plans no parameterized SQL function over a
    -- distributed table
    AS $$
BEGIN
    RETURN QUERY
    SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
           e.old_value, e.new_value, e.reason, e.tenant
    FROM workitem.activity_log e WHERE e.item_id OPERATOR(pg_catalog.=) history.id ORDER BY e.id;
END
$$;

-- queue's "i.*" is expanded when the view is made: again, with the tenant
CREATE OR REPLACE VIEW workitem.queue AS
WITH open AS (
    SELECT i.*,
           CASE WHEN i.status = 'waiting' THEN 'waiting' ELSE 'inbox' END AS section,
           CASE WHEN i.status = 'waiting' THEN i.wait_until END AS comes_back_at,
           r.due_at AS resolution_due_at,
           COALESCE(r.state, 'none') AS resolution_state
    FROM workitem.item i
    LEFT JOIN workitem.item_sla r ON r.item_id = i.id AND r.target = 'resolution'
    WHERE i.status IN ('to_do', 'in_progress', 'waiting')
)
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
       now() - o.status_changed_at AS time_in_status
FROM open o
ORDER BY o.section, position;

-- an action takes its case's tenant
CREATE OR REPLACE FUNCTION workitem.create_action(case_id bigint, title text,
                                       description text DEFAULT NULL,
                                       assignee text DEFAULT NULL,
                                       priority text DEFAULT NULL)
    RETURNS workitem.item
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result workitem.item;
    case_tenant text;
BEGIN
    IF create_action.case_id IS NULL THEN
        RAISE EXCEPTION 'case_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'An action belongs to a case: pass the id of an open case.';
    END IF;
    -- the case's tenant (an unknown case is the trigger's WI404)
    SELECT c.tenant INTO case_tenant FROM workitem.item c WHERE c.id OPERATOR(pg_catalog.=) create_action.case_id;
    INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority, tenant)
    VALUES ('action'::workitem.kind, create_action.case_id, create_action.title,
            create_action.description, create_action.assignee, create_action.priority,
            COALESCE(case_tenant, workitem.current_tenant()))
    RETURNING i.* INTO result;
    RETURN result;
END
$$;

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
                              'workitem.sla_clock', 'workitem.sla_clock_event']::regclass[];
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
