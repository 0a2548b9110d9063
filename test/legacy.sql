-- workitem.legacy_status(kind, label): every row of the three tables of
-- spec section 4, exactly (status, wait_type, resolution), then the same
-- labels in other cases and with other dashes and spacing, and the errors.
BEGIN;
SELECT plan(137);

-- The three tables of spec section 4, copied as data ('' = empty cell).
CREATE TEMP TABLE spec_legacy (n serial, kind workitem.kind, label text,
                               status text, wait_type text, resolution text);
INSERT INTO spec_legacy (kind, label, status, wait_type, resolution) VALUES
    ('ticket', 'In Progress (not yet being processed)', 'to_do', '', ''),
    ('ticket', 'In Progress (being processed)', 'in_progress', '', ''),
    ('ticket', 'Paused - Awaiting more information', 'waiting', 'more_info', ''),
    ('ticket', 'Paused - Scheduled for follow-up', 'waiting', 'follow_up', ''),
    ('ticket', 'Resolved', 'resolved', '', 'customer_response'),
    ('ticket', 'Resolved - Manual response', 'resolved', '', 'customer_response'),
    ('ticket', 'Resolved - No customer response', 'resolved', '', 'no_customer_response'),
    ('ticket', 'Rejected', 'resolved', '', 'rejected'),
    ('ticket', 'Rejected as spam', 'closed', '', 'spam'),
    ('ticket', 'Rejected - Unknown email address', 'closed', '', 'unknown_sender'),
    ('ticket', 'Resolved - Ticket split', 'waiting', 'split', ''),
    ('ticket', 'Resolved - Ticket split (completed)', 'resolved', '', 'split_completed'),
    ('ticket', 'Resolved - Existing ticket updated', 'closed', '', 'merged'),
    ('ticket', 'Resolved - New case launched', 'waiting', 'case_launched', ''),
    ('ticket', 'Resolved - Existing case updated', 'closed', '', 'merged'),
    ('case', 'In Progress (not yet being processed)', 'to_do', '', ''),
    ('case', 'In Progress (being processed)', 'in_progress', '', ''),
    ('case', 'Paused - Awaiting more information', 'waiting', 'more_info', ''),
    ('case', 'Paused - Scheduled for follow-up', 'waiting', 'follow_up', ''),
    ('case', 'Paused', 'waiting', 'paused', ''),
    ('case', 'Resolved', 'resolved', '', 'completed'),
    ('case', 'Closed', 'closed', '', 'completed'),
    ('case', 'Needs attention', 'to_do', '', ''),
    ('action', 'In Progress (not yet being processed)', 'to_do', '', ''),
    ('action', 'In Progress (being processed)', 'in_progress', '', ''),
    ('action', 'Paused - Awaiting more information', 'waiting', 'more_info', ''),
    ('action', 'Paused - Scheduled for follow-up', 'waiting', 'follow_up', ''),
    ('action', 'Resolved', 'closed', '', 'completed'),
    ('action', 'Unable to complete', 'closed', '', 'unable_to_complete'),
    ('action', 'Peer review - In progress', 'to_do', '', '');

-- The mapping of a label as "status|wait_type|resolution".
CREATE FUNCTION pg_temp.mapped(k workitem.kind, label text) RETURNS text
LANGUAGE sql AS $$
SELECT concat_ws('|', status, coalesce(wait_type::text, ''), coalesce(resolution::text, ''))
FROM workitem.legacy_status(k, label)
$$;

-- 1. Every row, exactly as the spec writes the label (30)
SELECT is(pg_temp.mapped(kind, label), concat_ws('|', status, wait_type, resolution),
          format('%s "%s" -> %s', kind, label, concat_ws('|', status, wait_type, resolution)))
FROM spec_legacy ORDER BY n;

-- 2. Case-insensitive: upper case (30) and lower case (30)
SELECT is(pg_temp.mapped(kind, upper(label)), concat_ws('|', status, wait_type, resolution),
          format('%s "%s" (upper case)', kind, upper(label)))
FROM spec_legacy ORDER BY n;
SELECT is(pg_temp.mapped(kind, lower(label)), concat_ws('|', status, wait_type, resolution),
          format('%s "%s" (lower case)', kind, lower(label)))
FROM spec_legacy ORDER BY n;

-- 3. Dashes: every label with " - " as an en dash with odd spacing (15)
-- and as a bare hyphen (15)
SELECT is(pg_temp.mapped(kind, replace(label, ' - ', '   –  ')), concat_ws('|', status, wait_type, resolution),
          format('%s "%s" (en dash, odd spacing)', kind, replace(label, ' - ', '   –  ')))
FROM spec_legacy WHERE label LIKE '% - %' ORDER BY n;
SELECT is(pg_temp.mapped(kind, replace(label, ' - ', '-')), concat_ws('|', status, wait_type, resolution),
          format('%s "%s" (hyphen, no spaces)', kind, replace(label, ' - ', '-')))
FROM spec_legacy WHERE label LIKE '% - %' ORDER BY n;

-- 4. Odd spacing and mixtures
SELECT is(pg_temp.mapped('ticket', 'paused–awaiting MORE information'), 'waiting|more_info|',
          'en dash without spaces, mixed case');
SELECT is(pg_temp.mapped('ticket', E'  Paused\t-\tScheduled  for   follow-up  '), 'waiting|follow_up|',
          'tabs around the dash, runs of spaces, leading and trailing spaces');
SELECT is(pg_temp.mapped('case', 'paused — awaiting more information'), 'waiting|more_info|',
          'em dash');
SELECT is(pg_temp.mapped('action', 'PEER REVIEW –IN PROGRESS'), 'to_do||',
          'en dash with a space on one side only');
SELECT is(pg_temp.mapped('ticket', E'in progress\n(being processed)'), 'in_progress||',
          'a newline counts as a space');
SELECT is(pg_temp.mapped('ticket', 'Paused - Scheduled for follow–up'), 'waiting|follow_up|',
          'an en dash inside follow-up too');

-- 5. Unknown labels name the label and the kind (WI012)
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', 'Escalated')$$,
                 'WI012', 'unknown legacy status "Escalated" for a ticket', 'unknown label for a ticket');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('case', 'Rejected as spam')$$,
                 'WI012', 'unknown legacy status "Rejected as spam" for a case',
                 'a ticket label is unknown for a case');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('action', 'Paused')$$,
                 'WI012', 'unknown legacy status "Paused" for an action',
                 'a case label is unknown for an action');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', 'Needs attention')$$,
                 'WI012', 'unknown legacy status "Needs attention" for a ticket',
                 'a case label is unknown for a ticket');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', 'Resolved - ')$$,
                 'WI012', NULL, 'a dangling dash does not match "Resolved"');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', 'Resolved Manual response')$$,
                 'WI012', NULL, 'a missing dash does not match');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', '')$$,
                 'WI012', NULL, 'an empty label is unknown');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('ticket', NULL)$$,
                 '22004', NULL, 'a NULL label is refused');
SELECT throws_ok($$SELECT * FROM workitem.legacy_status('gizmo', 'Resolved')$$,
                 '22P02', NULL, 'an unknown kind is refused by the enum');

-- 6. A merge label maps to the pair the engine stores for a merge
-- (closed + merged), never to resolved + merged
SET LOCAL workitem.actor = 'legacy';
CREATE TEMP TABLE merged_pair (status text, resolution text);
DO $$
DECLARE
    a bigint := (workitem.create_ticket('from', 'd', 'c', 'r@example.com', 'r@example.com')).id;
    b bigint := (workitem.create_ticket('into', 'd', 'c', 'r@example.com', 'r@example.com')).id;
BEGIN
    PERFORM workitem.submit(a);
    PERFORM workitem.submit(b);
    INSERT INTO merged_pair SELECT m.status, m.resolution FROM workitem.merge(a, b) m;
END $$;
SELECT is((SELECT status || '|' || resolution FROM workitem.legacy_status('ticket', label)),
          (SELECT status || '|' || resolution FROM merged_pair),
          format('ticket "%s" maps to what merge() stores', label))
FROM unnest(ARRAY['Resolved - Existing ticket updated', 'Resolved - Existing case updated']) label;

SELECT * FROM finish();
ROLLBACK;
