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
       END AS state,
       pg_catalog.date_part('epoch', c.working_time) / 3600 AS target_time_hours,
       pg_catalog.date_part('epoch', c.used) / 3600 AS used_hours
FROM clocked c;
COMMENT ON VIEW workitem.attached_sla IS
    'SLA of rows of attached tables, read from the log: the resolution target of the policy matching the kind, paused while waiting, stopped at the first resolved or closed.';
COMMENT ON COLUMN workitem.attached_sla.source IS 'The attached table (regclass).';
COMMENT ON COLUMN workitem.attached_sla.row_key IS 'The row''s primary key, as text.';
COMMENT ON COLUMN workitem.attached_sla.target IS 'Always resolution (text).';
COMMENT ON COLUMN workitem.attached_sla.policy IS 'The SLA policy matching the table''s kind (text).';
COMMENT ON COLUMN workitem.attached_sla.calendar IS 'The policy''s business calendar (text).';
COMMENT ON COLUMN workitem.attached_sla.target_time IS 'Working time allowed (interval; NULL for a target in business days).';
COMMENT ON COLUMN workitem.attached_sla.target_days IS 'Business days allowed (integer; NULL for a target in working time).';
COMMENT ON COLUMN workitem.attached_sla.started_at IS 'When the row was created (timestamptz).';
COMMENT ON COLUMN workitem.attached_sla.stopped_at IS 'When it first became resolved or closed (timestamptz; NULL while open).';
COMMENT ON COLUMN workitem.attached_sla.current_status IS 'Its status now, in our labels (text).';
COMMENT ON COLUMN workitem.attached_sla.used IS 'Working time used, paused while waiting (interval).';
COMMENT ON COLUMN workitem.attached_sla.due_at IS 'When the target is due while the clock runs (timestamptz).';
COMMENT ON COLUMN workitem.attached_sla.state IS 'running, paused, breached, met or missed (text).';
COMMENT ON COLUMN workitem.attached_sla.target_time_hours IS 'target_time in hours (double precision).';
COMMENT ON COLUMN workitem.attached_sla.used_hours IS 'used in hours (double precision).';
