-- The checks shared by the random test, the load benchmark and the crash
-- test: rows that break an invariant of spec section 1 (and the columns
-- the trigger owns), and items whose last status event is not their
-- status. Views in the current schema of a test database.
CREATE VIEW wi_bad_rows AS
SELECT id, kind, status, wait_type, resolution FROM workitem.item
WHERE NOT (
    ((status = 'waiting') = (wait_type IS NOT NULL))
    AND ((status IN ('resolved', 'closed')) = (resolution IS NOT NULL))
    AND (kind <> 'action' OR status <> 'draft')
    AND ((kind = 'action') = (case_id IS NOT NULL))
    AND (wait_type IS NULL
         OR (kind = 'ticket' AND wait_type IN ('more_info', 'follow_up', 'split', 'case_launched'))
         OR (kind = 'case' AND wait_type IN ('more_info', 'follow_up', 'paused'))
         OR (kind = 'action' AND wait_type IN ('more_info', 'follow_up')))
    AND (resolution IS NULL
         OR (kind = 'ticket' AND resolution IN ('customer_response', 'no_customer_response',
                'rejected', 'spam', 'unknown_sender', 'merged', 'split_completed', 'completed'))
         OR (kind = 'case' AND resolution IN ('completed', 'cancelled', 'merged'))
         OR (kind = 'action' AND resolution IN ('completed', 'unable_to_complete', 'cancelled')))
    AND (status <> 'in_progress' OR assignee IS NOT NULL)
    AND ((status = 'closed') = (closed_at IS NOT NULL)));

-- The last status event (a "created" or "status" row) of each item (the
-- tenant in the join: on Citus, a join of colocated shards).
CREATE VIEW wi_bad_events AS
SELECT i.id, i.status::text, e.what, e.new_value
FROM workitem.item i
LEFT JOIN LATERAL (SELECT what, new_value FROM workitem.event e
                   WHERE e.item_id = i.id AND e.tenant = i.tenant AND e.what IN ('created', 'status')
                   ORDER BY e.id DESC LIMIT 1) e ON true
WHERE e.what IS NULL
   OR CASE WHEN e.what = 'created' THEN split_part(e.new_value, ' ', 2) ELSE e.new_value END
      IS DISTINCT FROM i.status::text;
