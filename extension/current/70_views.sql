------------------------------------------------------------------------
-- Views for BI tools (issue 6): plain relations with stable column names
-- and types, documented column by column in README.md ("Views for BI
-- tools"). They read the tables as the view owner, so the role
-- workitem_reader needs SELECT on them and nothing on the tables (the SLA
-- columns read the calendar tables, which workitem_reader may read).
------------------------------------------------------------------------

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
