------------------------------------------------------------------------
-- Views for BI tools (issue 6): plain relations with stable column names
-- and types, documented column by column in README.md ("Views for BI
-- tools"). They read the tables as the view owner, so the role
-- workitem_reader needs SELECT on them and nothing on the tables (the SLA
-- columns read the calendar tables, which workitem_reader may read).
------------------------------------------------------------------------

-- One row per item: where it stands now, and its two SLA targets.
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

-- The work queue: the inbox (to_do and in_progress, highlighted first)
-- and the waiting items with the moment they come back by themselves.
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

-- Every status change, with how long the item had been in the status it
-- left (wall clock, and working time in the calendar of its SLA policy).
-- The status an item left was entered at its status (or creation) event
-- just before: found through event_item_idx (event_row_idx for a row of an
-- attached table), so a filter on at, item_id or source reaches the log.
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

-- Flow per day (in the session time zone), kind and category; it reads
-- the log itself (no time in the status left is needed). Rows of attached
-- tables count under the table's kind, category NULL, source_name set.
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

------------------------------------------------------------------------
-- Readers for the shapes a view cannot serve fast (issue 13): each reads
-- what it returns, through indexes.
------------------------------------------------------------------------
-- daily_flow for the days from_day to to_day (in the session time zone):
-- a filter on day cannot reach the log's time index, this range does. The
-- query is planned for the days given (EXECUTE): a plan for any range
-- would join every item. (source_name: schema-qualified, in the search_path
-- of the function.)
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

-- One person's queue (NULL: the unassigned), in the queue's order, at
-- most max_rows rows: read through item_assignee_idx. position counts
-- within this queue (the view's counts within the whole section).
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
