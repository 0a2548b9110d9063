-- The activity log of one ticket's full story through the operations:
-- create, submit, start, assign, wait_more_info, resume, resolve with a
-- note, reopen, resolve again (by another person), close. Each step's
-- result, then the exact sequence of (what, old_value, new_value, actor,
-- reason) rows.
BEGIN;
SELECT plan(16);
SET LOCAL timezone = 'UTC';

INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'story_billing', '7 days', false, 3);

CREATE TEMP TABLE story (step int, status workitem.status, assignee text);

SET LOCAL workitem.actor = 'carol';
-- the item's id in a psql variable: a value, which Citus routes (a temp
-- function's call would be pushed to the workers, where it does not exist)
SELECT id AS t FROM workitem.create_ticket('Invoice charged twice', 'Charged twice for 2026-114',
                                           'story_billing', 'carol@example.com', 'carol@example.com') \gset
SELECT is((SELECT status FROM workitem.item WHERE id = :t), 'draft'::workitem.status, 'created as a draft by carol');

SET LOCAL workitem.actor = 'alice';
SELECT is((SELECT status FROM workitem.submit(:t)), 'to_do'::workitem.status, 'alice submits it');
SELECT is((SELECT row(status, assignee)::text FROM workitem.start(:t)),
          row('in_progress', 'alice')::text, 'alice starts it: in_progress, assigned to her');
SELECT is((SELECT row(status, assignee)::text FROM workitem.assign(:t, 'bob')),
          row('to_do', 'bob')::text, 'alice assigns it to bob: back to to_do');

SET LOCAL workitem.actor = 'bob';
SELECT is((SELECT row(status, wait_type, wait_until = now() + interval '3 days')::text
           FROM workitem.wait_more_info(:t, NULL, false, 'need the invoice number')),
          row('waiting', 'more_info', true)::text, 'bob waits for more information, 3 days (the category''s)');
SELECT is((SELECT row(status, wait_type)::text FROM workitem.resume(:t)),
          row('in_progress', NULL)::text, 'bob resumes it: in_progress (assigned)');
SELECT is((SELECT row(status, resolution, feedback_until = now() + interval '7 days')::text
           FROM workitem.resolve(:t, 'customer_response', 'Refunded')),
          row('resolved', 'customer_response', true)::text, 'bob resolves it with a note, 7 days of feedback window');

SET LOCAL workitem.actor = 'carol';
SELECT is((SELECT row(status, resolution)::text FROM workitem.reopen(:t, 'refund missing')),
          row('in_progress', NULL)::text, 'carol reopens it: in_progress (bob still assigned)');

-- dora resolves it the second time: the first resolution stays bob's
SET LOCAL workitem.actor = 'dora';
SELECT is((SELECT status FROM workitem.resolve(:t, 'customer_response')),
          'resolved'::workitem.status, 'dora resolves it again');
SET LOCAL workitem.actor = 'bob';
SELECT is((SELECT row(status, resolution, first_resolved_by, resolved_by)::text FROM workitem.close(:t)),
          row('closed', 'customer_response', 'bob', 'dora')::text,
          'bob closes it: first resolved by bob, last resolved by dora');

-- The notes the story made: the description at submission, the resolution note
SELECT results_eq(
    format($$SELECT subject, body, author, is_resolution, is_description FROM workitem.message
      WHERE item_id = %s ORDER BY id$$, :t),
    $$VALUES ('Invoice charged twice', 'Charged twice for 2026-114', 'alice', false, true),
             ('Resolution', 'Refunded', 'bob', true, false)$$,
    'the description note and the resolution note');

-- The log, exactly. A note's row comes just before the move that made it.
CREATE TEMP TABLE ids AS
SELECT (SELECT id FROM workitem.message WHERE item_id = :t AND is_description) AS description_note,
       (SELECT id FROM workitem.message WHERE item_id = :t AND is_resolution) AS resolution_note,
       (now() + interval '3 days')::text AS wait_until;

SELECT results_eq(
    format($$SELECT what, old_value, new_value, actor, reason FROM workitem.history(%s)$$, :t),
    $$SELECT * FROM (VALUES
        ('created',         NULL,                'ticket draft'::text, 'carol', NULL),
        ('message',         NULL,                'internal note #' || (SELECT description_note FROM ids), 'alice', NULL),
        ('status',          'draft',             'to_do',             'alice', NULL),
        ('feedback_window', NULL,                '7 days',            'alice', NULL),
        ('status',          'to_do',             'in_progress',       'alice', NULL),
        ('assignee',        NULL,                'alice',             'alice', NULL),
        ('status',          'in_progress',       'to_do',             'alice', NULL),
        ('assignee',        'alice',             'bob',               'alice', NULL),
        ('status',          'to_do',             'waiting',           'bob',   'need the invoice number'),
        ('wait_type',       NULL,                'more_info',         'bob',   'need the invoice number'),
        ('wait_until',      NULL,                (SELECT wait_until FROM ids), 'bob', 'need the invoice number'),
        ('status',          'waiting',           'in_progress',       'bob',   NULL),
        ('wait_type',       'more_info',         NULL,                'bob',   NULL),
        ('wait_until',      (SELECT wait_until FROM ids), NULL,       'bob',   NULL),
        ('message',         NULL,                'internal note #' || (SELECT resolution_note FROM ids), 'bob', NULL),
        ('status',          'in_progress',       'resolved',          'bob',   NULL),
        ('resolution',      NULL,                'customer_response', 'bob',   NULL),
        ('status',          'resolved',          'in_progress',       'carol', 'refund missing'),
        ('resolution',      'customer_response', NULL,                'carol', 'refund missing'),
        ('status',          'in_progress',       'resolved',          'dora',  NULL),
        ('resolution',      NULL,                'customer_response', 'dora',  NULL),
        ('status',          'resolved',          'closed',            'bob',   NULL)
      ) v(what, old_value, new_value, actor, reason)$$,
    'the exact sequence of the activity log');

-- history() is workitem.event for the item, in order, all at the moment of its transaction
SELECT is((SELECT array_agg(id ORDER BY id) FROM workitem.event WHERE item_id = :t),
          (SELECT array_agg(id) FROM workitem.history(:t)),
          'history() returns every event of the item, in id order');
SELECT is((SELECT count(*)::int FROM workitem.history(:t) WHERE at <> now()), 0,
          'every event is stamped with its transaction''s time');
-- Closed: nothing changes, and a refused change logs nothing
SELECT throws_ok(format($$UPDATE workitem.item SET assignee = 'dora' WHERE id = %s$$, :t),
                 'WI009', NULL, 'the closed ticket never changes');
SELECT is((SELECT count(*)::int FROM workitem.event WHERE item_id = :t), 22,
          'a refused change adds nothing to the log');

SELECT * FROM finish();
ROLLBACK;
