------------------------------------------------------------------------
-- BI facts and the day dimension (issue 17). Every fact is keyed by day
-- (in the session's TimeZone) and driven by the series of days: the rows
-- of one day are read for that day through an index (the log's time
-- index, sla_clock_stopped_idx), so a filter on day costs that day's rows,
-- and a day with nothing still has its row (zeros), so charts have no
-- holes. The series runs from the day of the first log row to today
-- (workitem.days: to a year ahead). Durations are hours (double
-- precision), labels text.
------------------------------------------------------------------------

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
