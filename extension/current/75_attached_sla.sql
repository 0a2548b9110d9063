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
