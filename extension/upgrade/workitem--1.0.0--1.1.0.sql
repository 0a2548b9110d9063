-- workitem 1.0.0 to 1.1.0 (frozen)
\echo Use "ALTER EXTENSION workitem UPDATE" to load this file. \quit
-- workitem 1.0.0 -> 1.1.0: assign() with a reason, create_action(),
-- import_holidays(), a check on SLA targets, timers and the background
-- worker (run_timers, SLA alarms), a cheaper attached-event path, the BI
-- views, and the roles and grants. Everything new since the first release
-- goes in extension/1.1.0/ (one file per concern); extension/1.0.0/ is
-- frozen.
-- assign() takes a reason, as unassign() does: reassigning work in
-- progress puts it back to to_do, and the spec keeps the reason.
DROP FUNCTION workitem.assign(bigint, text);
CREATE FUNCTION workitem.assign(id bigint, resource text, reason text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_assign' LANGUAGE C VOLATILE;

------------------------------------------------------------------------
-- Actions: create_action() is a convenience over a plain INSERT. The
-- rules (created in to_do, refused while the case waits, is resolved or
-- closed, unknown case) live in the C trigger, so both are held to the
-- same checks; only the NULL case is caught here, to say which argument.
------------------------------------------------------------------------
CREATE FUNCTION workitem.create_action(case_id bigint, title text,
                                       description text DEFAULT NULL,
                                       assignee text DEFAULT NULL,
                                       priority text DEFAULT NULL)
    RETURNS workitem.item
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result workitem.item;
BEGIN
    IF create_action.case_id IS NULL THEN
        RAISE EXCEPTION 'case_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'An action belongs to a case: pass the id of an open case.';
    END IF;
    INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority)
    VALUES ('action'::workitem.kind, create_action.case_id, create_action.title,
            create_action.description, create_action.assignee, create_action.priority)
    RETURNING i.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION workitem.create_action(bigint, text, text, text, text) IS
    'Inserts an action of a case, in to_do; returns the new item.';

------------------------------------------------------------------------
-- Holiday import: the holidays of a calendar from an iCalendar feed
-- (RFC 5545), parsed in C (src/ics.c). A malformed feed is refused whole.
------------------------------------------------------------------------
CREATE FUNCTION workitem.import_holidays(calendar text, ics text)
    RETURNS integer
    AS 'MODULE_PATHNAME', 'workitem_import_holidays'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.import_holidays(text, text) IS
    'Loads the events of an iCalendar feed into workitem.calendar_holiday; returns the rows added.';
-- Checks on configured times. A target in working time cannot be in
-- months or years (a month of working time has no fixed length): refused
-- when the policy is written, not at every submission that matches it.
-- NOT VALID: an upgrade with such a row still goes through; the row
-- fails as before until fixed.
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_no_months
    CHECK (working_time IS NULL
           OR (pg_catalog.date_part('month', working_time) = 0
               AND pg_catalog.date_part('year', working_time) = 0)) NOT VALID;

-- PostgreSQL 17 has infinite intervals: no working time, window or
-- duration may be one (isfinite() is always true on 13 to 16).
ALTER TABLE workitem.sla_target ADD CONSTRAINT sla_target_working_time_finite
    CHECK (working_time IS NULL OR pg_catalog.isfinite(working_time)) NOT VALID;
ALTER TABLE workitem.category_config ADD CONSTRAINT category_config_feedback_window_finite
    CHECK (feedback_window IS NULL OR pg_catalog.isfinite(feedback_window)) NOT VALID;
ALTER TABLE workitem.item ADD CONSTRAINT item_feedback_window_finite
    CHECK (feedback_window IS NULL OR pg_catalog.isfinite(feedback_window)) NOT VALID;
ALTER TABLE workitem.time_entry ADD CONSTRAINT time_entry_duration_finite
    CHECK (pg_catalog.isfinite(duration)) NOT VALID;
------------------------------------------------------------------------
-- Time-driven moves (issue 5): follow-ups reached, days to wait over,
-- feedback windows over, split tickets done, SLA warnings and breaches.
-- workitem.run_timers() does the due work (src/timers.c); the background
-- worker (src/worker.c) or pg_cron calls it.
------------------------------------------------------------------------
CREATE FUNCTION workitem.run_timers(at timestamptz DEFAULT now(), max_items integer DEFAULT 1000)
    RETURNS integer AS 'MODULE_PATHNAME', 'workitem_run_timers'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.run_timers(timestamptz, integer) IS
    'Does the time-driven work due by at (at most max_items items); returns how many items it moved or flagged with an SLA alarm.';

-- Split parents, found without a scan of all waiting items.
CREATE INDEX item_split_wait_idx ON workitem.item (id)
    WHERE status = 'waiting' AND wait_type = 'split';

-- When a running clock next needs run_timers(): its first unfired warning
-- threshold or its due time if not breached yet; NULL when nothing is left.
-- Kept by a trigger so that every writer of clocks keeps it right.
ALTER TABLE workitem.sla_clock ADD COLUMN alarm_at timestamptz;
CREATE INDEX sla_clock_alarm_idx ON workitem.sla_clock (alarm_at) WHERE alarm_at IS NOT NULL;

CREATE FUNCTION workitem.clock_alarm() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_clock_alarm' LANGUAGE C;
CREATE TRIGGER clock_alarm BEFORE INSERT OR UPDATE ON workitem.sla_clock
    FOR EACH ROW EXECUTE FUNCTION workitem.clock_alarm();

-- Clocks running when 1.0.0 was updated get their alarm now.
UPDATE workitem.sla_clock SET state = state WHERE state = 'running';
------------------------------------------------------------------------
-- Cheaper event rows for attached tables (issue 6, benchmark target).
--
-- row_key is the primary key of a row of an attached table, as text: it
-- is looked up for equality, never sorted for people. Compare it bytewise.
-- Each event of an attached row goes into event_row_idx (source, row_key,
-- id) at a random place, and the descent costs some twenty row_key
-- comparisons: through the database's collation that is about 6,000
-- instructions a row with C.UTF-8 and 10,000 with an ICU en-US database;
-- bytewise, about 3,000. Lookups by (source, row_key) and equality with
-- any text are unchanged; ORDER BY row_key is now in byte order.
-- The index is rebuilt, the heap is not rewritten. This file runs before
-- 70_views.sql: no view uses the column yet.
--
-- Left as it is, on purpose: event_id_seq has no CACHE. Ids taken in
-- blocks per backend would not follow the row locks, and history(),
-- workitem.transitions and the row index order the events of an item or
-- of a row by id: two sessions taking turns on one row would see their
-- moves out of order.
------------------------------------------------------------------------
ALTER TABLE workitem.event ALTER COLUMN row_key TYPE text COLLATE "C";
------------------------------------------------------------------------
-- Views for BI tools (issue 6): plain relations with stable column names
-- and types, documented column by column in README.md ("Views for BI
-- tools"). They read the tables as the view owner, so the role
-- workitem_reader needs SELECT on them and nothing on the tables (the SLA
-- columns read the calendar tables, which workitem_reader may read).
------------------------------------------------------------------------

-- The activity log, readable: workitem.event itself has no privilege
-- granted to anybody (only the C code writes it), and history() reads it
-- through this view.
CREATE VIEW workitem.activity_log AS
SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
       e.old_value, e.new_value, e.reason
FROM workitem.event e;
COMMENT ON VIEW workitem.activity_log IS
    'The activity log (workitem.event), read-only: one row per changed field of an item or of a row of an attached table.';

-- One row per item: where it stands now, and its two SLA targets.
CREATE VIEW workitem.items AS
SELECT i.id, i.kind, i.status, i.wait_type, i.wait_until, i.wait_reason,
       i.resolution, i.title, i.category, i.priority, i.queue, i.assignee,
       i.requester, i.primary_contact, i.case_id, i.parent_id, i.merged_into,
       i.follows_id, i.highlighted, i.needs_attention, i.attention_reason,
       i.created_at, i.submitted_at, i.status_changed_at, i.first_resolved_at,
       i.resolved_at, i.closed_at, i.feedback_until,
       COALESCE(i.closed_at, now()) - i.created_at AS age,
       now() - i.status_changed_at AS time_in_status,
       p.name AS sla_policy,
       r.due_at AS resolution_due_at,
       r.remaining AS resolution_remaining,
       COALESCE(r.state, 'none') AS resolution_state,
       f.due_at AS first_response_due_at,
       f.remaining AS first_response_remaining,
       COALESCE(f.state, 'none') AS first_response_state
FROM workitem.item i
LEFT JOIN workitem.sla_policy p ON p.id = i.sla_policy_id
LEFT JOIN workitem.item_sla r ON r.item_id = i.id AND r.target = 'resolution'
LEFT JOIN workitem.item_sla f ON f.item_id = i.id AND f.target = 'first_response';
COMMENT ON VIEW workitem.items IS
    'One row per item: current status, wait, resolution, assignee, age, time in the current status, and the resolution and first_response SLA targets (due_at, remaining, state).';

-- The work queue: the inbox (to_do and in_progress, highlighted first)
-- and the waiting items with the moment they come back by themselves.
CREATE VIEW workitem.queue AS
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
COMMENT ON VIEW workitem.queue IS
    'The work queue: section inbox (to_do and in_progress: highlighted, then needing attention, then by SLA due time, oldest first) and section waiting (by comes_back_at, the wait_until of the wait); position orders each section.';

-- Every status change, with how long the item had been in the status it
-- left (wall clock, and working time in the calendar of its SLA policy).
CREATE VIEW workitem.transitions AS
WITH changes AS (
    SELECT e.id AS event_id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what, e.reason,
           CASE WHEN e.what = 'created' THEN NULL ELSE e.old_value END AS from_label,
           -- created: 'ticket to_do' for an item, 'to_do' for a row of an attached table
           CASE WHEN e.what = 'created' THEN regexp_replace(e.new_value, '^.* ', '') ELSE e.new_value END AS to_label,
           lag(e.at) OVER w AS previous_at
    FROM workitem.event e
    WHERE e.what IN ('created', 'status')
    WINDOW w AS (PARTITION BY e.item_id, e.source, e.row_key ORDER BY e.id)
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
COMMENT ON VIEW workitem.transitions IS
    'One row per status change (and per creation, with from_status NULL) of items and attached rows, with the time spent in the status left.';

-- Flow per day (in the session time zone), kind and category.
CREATE VIEW workitem.daily_flow AS
WITH moves AS (
    SELECT t.at, t.item_id, t.is_creation, t.from_status, t.to_status
    FROM workitem.transitions t
    WHERE t.item_id IS NOT NULL
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
COMMENT ON VIEW workitem.daily_flow IS
    'Per day, kind and category: items created, submitted, resolved (given a resolution), closed and reopened.';
------------------------------------------------------------------------
-- Roles and privileges (issue 6). Sorts last among the 1.1.0 parts, so
-- every function and table exists by now; the privileges are explicit
-- lists.
--
--   workitem_reader  USAGE on the schema, SELECT on the views, the pure
--                    functions, and what the views need (the calendars).
--   workitem_agent   reader + the operations and the tables they write.
--                    No function is SECURITY DEFINER: an agent's UPDATE
--                    is checked by the same trigger as any other. Nothing
--                    on workitem.event: the C code appends to it directly.
--   workitem_admin   agent + calendars, SLA policies and targets,
--                    category_config, attach/detach, timers, holidays.
--
-- Nothing is granted to PUBLIC but the types' USAGE (PostgreSQL's default).
------------------------------------------------------------------------

-- The roles are cluster-wide: created once, NOLOGIN; members log in.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['workitem_reader', 'workitem_agent', 'workitem_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    -- agent includes reader, admin includes agent (no NOTICE when already so)
    IF NOT pg_catalog.pg_has_role('workitem_agent', 'workitem_reader', 'MEMBER') THEN
        GRANT workitem_reader TO workitem_agent;
    END IF;
    IF NOT pg_catalog.pg_has_role('workitem_admin', 'workitem_agent', 'MEMBER') THEN
        GRANT workitem_agent TO workitem_admin;
    END IF;
END $roles$;

-- history() read workitem.event as the caller, who has no privilege on it:
-- it reads the view workitem.activity_log instead (same rows, same order).
CREATE OR REPLACE FUNCTION workitem.history(id bigint)
    RETURNS SETOF workitem.event
    LANGUAGE sql STABLE
    SET search_path = pg_catalog, pg_temp
    AS $$ SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
                 e.old_value, e.new_value, e.reason
          FROM workitem.activity_log e WHERE e.item_id OPERATOR(pg_catalog.=) $1 ORDER BY e.id $$;

------------------------------------------------------------------------
-- Start from nothing: no function is executable by PUBLIC, then grant back.
------------------------------------------------------------------------
REVOKE ALL ON SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA workitem FROM PUBLIC;

GRANT USAGE ON SCHEMA workitem TO workitem_reader;

------------------------------------------------------------------------
-- workitem_reader
------------------------------------------------------------------------
GRANT SELECT ON workitem.items, workitem.queue, workitem.transitions, workitem.daily_flow,
                workitem.activity_log, workitem.item_sla, workitem.sla_breaches,
                workitem.status_durations, workitem.time_per_item, workitem.time_per_resource,
                workitem.attached
      TO workitem_reader;
-- the working-time functions (called by the SLA and duration views) read
-- the calendars as the caller
GRANT SELECT ON workitem.calendar, workitem.calendar_hours, workitem.calendar_holiday
      TO workitem_reader;
GRANT EXECUTE ON FUNCTION
    workitem.can_transition(workitem.kind, workitem.status, workitem.status),
    workitem.next_statuses(workitem.kind, workitem.status),
    workitem.allowed_wait_types(workitem.kind),
    workitem.allowed_resolutions(workitem.kind),
    workitem.legacy_status(workitem.kind, text),
    workitem.actor(),
    workitem.valid_time_zone(text),
    workitem.business_time(text, timestamptz, timestamptz),
    workitem.business_add(text, timestamptz, interval),
    workitem.end_of_working_day(text, timestamptz, integer),
    workitem.clock_used(text, interval, timestamptz, timestamptz),
    workitem.clock_state(text, text, interval, interval, timestamptz, numeric[], timestamptz),
    workitem.clock_label(text, text, interval, interval, timestamptz, timestamptz, timestamptz)
    TO workitem_reader;

------------------------------------------------------------------------
-- workitem_agent: the operations, and what they (and the C triggers,
-- through SPI, as the caller) read and write.
------------------------------------------------------------------------
GRANT EXECUTE ON FUNCTION
    workitem.create_ticket(text, text, text, text, text, text, boolean),
    workitem.create_case(text, text, text, text, boolean),
    workitem.submit(bigint),
    workitem.start(bigint, text),
    workitem.assign(bigint, text, text),
    workitem.unassign(bigint, text),
    workitem.wait_more_info(bigint, integer, boolean, text),
    workitem.wait_until(bigint, timestamptz, text),
    workitem.pause(bigint, text),
    workitem.resume(bigint),
    workitem.resolve(bigint, workitem.resolution, text),
    workitem.reopen(bigint, text),
    workitem.close(bigint),
    workitem.cancel(bigint, text),
    workitem.record_message(bigint, workitem.direction, workitem.channel, text, text, text),
    workitem.split(bigint, text[]),
    workitem.merge(bigint, bigint),
    workitem.launch_case(bigint, text),
    workitem.log_time(bigint, interval, text, text, timestamptz),
    workitem.history(bigint),
    workitem.thread(bigint),
    workitem.current_clock(bigint, text),
    workitem.sla_remaining(bigint, text, timestamptz),
    workitem.sla_due_at(bigint, text, timestamptz),
    workitem.sla_state(bigint, text, timestamptz),
    workitem.sla_label(bigint, text, timestamptz)
    TO workitem_agent;
GRANT EXECUTE ON FUNCTION workitem.create_action(bigint, text, text, text, text) TO workitem_agent;

-- Items: every write goes through the trigger (only drafts can be deleted).
GRANT SELECT, INSERT, UPDATE, DELETE ON workitem.item TO workitem_agent;
-- Messages: written once. The trigger marks the resolution note, and keeps
-- the SLA clocks and their log, as the schema's owner (wi_become_owner() in
-- src/workitem.c): agents read them and cannot write them by hand.
GRANT SELECT, INSERT ON workitem.message TO workitem_agent;
GRANT SELECT, INSERT ON workitem.time_entry TO workitem_agent;
GRANT SELECT ON workitem.sla_clock, workitem.sla_clock_event TO workitem_agent;
-- configuration, read at submit and by the SLA clocks
GRANT SELECT ON workitem.category_config, workitem.sla_policy, workitem.sla_target,
                workitem.attached_table
      TO workitem_agent;
GRANT USAGE ON SEQUENCE workitem.item_id_seq, workitem.message_id_seq, workitem.time_entry_id_seq
      TO workitem_agent;

------------------------------------------------------------------------
-- workitem_admin: configuration, attaching tables, the engine's timers.
------------------------------------------------------------------------
GRANT INSERT, UPDATE, DELETE ON workitem.calendar, workitem.calendar_hours, workitem.calendar_holiday,
                                workitem.sla_policy, workitem.sla_target, workitem.category_config,
                                workitem.attached_table
      TO workitem_admin;
GRANT USAGE ON SEQUENCE workitem.sla_policy_id_seq TO workitem_admin;
GRANT EXECUTE ON FUNCTION
    workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name),
    workitem.detach(regclass),
    workitem.enforce_attached()     -- attach() creates a trigger that calls it
    TO workitem_admin;
GRANT EXECUTE ON FUNCTION workitem.run_timers(timestamptz, integer),
                           workitem.import_holidays(text, text) TO workitem_admin;

