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
    item_id     bigint NOT NULL REFERENCES workitem.item (id),
    resource    text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    started_by  text NOT NULL,
    auto        boolean NOT NULL DEFAULT false,
    tenant      text COLLATE "C" NOT NULL DEFAULT 'default',
    PRIMARY KEY (item_id, resource)
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
    id          bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
    item_id     bigint NOT NULL REFERENCES workitem.item (id),
    kind        workitem.expense_kind NOT NULL DEFAULT 'expense',
    description text NOT NULL,
    quantity    numeric NOT NULL CONSTRAINT expense_quantity_positive CHECK (quantity > 0),
    unit_price  numeric NOT NULL CONSTRAINT expense_unit_price_not_negative CHECK (unit_price >= 0),
    currency    text COLLATE "C" NOT NULL CONSTRAINT expense_currency_code CHECK (currency ~ '^[A-Z]{3}$'),
    at          timestamptz NOT NULL DEFAULT now(),
    author      text NOT NULL,
    tenant      text COLLATE "C" NOT NULL DEFAULT 'default'
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
           NULL::numeric AS products, NULL::numeric AS expenses, NULL::bigint AS expense_lines
    FROM workitem.time_entry t
    GROUP BY t.item_id, t.started_at::date
    UNION ALL
    SELECT e.item_id, e.at::date, e.currency, NULL, NULL, NULL,
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'product'), 0),
           COALESCE(sum(e.quantity * e.unit_price) FILTER (WHERE e.kind = 'expense'), 0),
           count(*)
    FROM workitem.expense e
    GROUP BY e.item_id, e.at::date, e.currency;
COMMENT ON VIEW workitem.work_per_day IS
    'Per item and day: time tracked by timers and typed by hand (row with currency NULL), products and expenses per currency.';

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
