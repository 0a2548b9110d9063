-- The activity log is appended to without the executor (src/eventlog.c),
-- yet a row of it gets what INSERT would give it: the default of a column
-- the owner added, and the NOT NULL and CHECK constraints the owner put on
-- the log; a move whose log row breaks one is refused and changes nothing.
-- Also the notes (workitem.message), appended the same way.
-- citus: the log and the notes are distributed there (constraints named
-- after each shard in errors, no exclusion constraint without the tenant)
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
BEGIN;
SELECT plan(13);
SET LOCAL workitem.actor = 'shape';
-- the SQLSTATE and message of the error of a statement, the shard's suffix
-- Citus adds to the names of the relation and constraint taken off
CREATE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE m text; c text;
BEGIN
    EXECUTE q;
    RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
    GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, c = RETURNED_SQLSTATE;
    RETURN c || ': ' || regexp_replace(m, '_[0-9]+"', '"', 'g');
END $$;

ALTER TABLE workitem.event ADD COLUMN region text NOT NULL DEFAULT 'acme';
ALTER TABLE workitem.event ADD COLUMN logged_at_txn bigint DEFAULT txid_current();
ALTER TABLE workitem.message ADD COLUMN lang text NOT NULL DEFAULT 'en';

CREATE TEMP TABLE shape_item AS
SELECT (workitem.create_ticket('Shape', 'The description becomes a note', 'shape',
                               'r@example.com', 'r@example.com')).id;
SELECT is((SELECT status::text FROM workitem.submit((SELECT id FROM shape_item))), 'to_do',
          'a move with a description note is logged');

-- 1. defaults of added columns
SELECT is((SELECT count(*) FROM workitem.event WHERE item_id = (SELECT id FROM shape_item)
            AND region = 'acme' AND logged_at_txn = txid_current()),
          (SELECT count(*) FROM workitem.event WHERE item_id = (SELECT id FROM shape_item)),
          'every log row of the move has the defaults of the added columns');
SELECT cmp_ok((SELECT count(*) FROM workitem.event WHERE item_id = (SELECT id FROM shape_item)), '>=', 2::bigint,
              'the move wrote log rows (created, status, the note)');
SELECT is((SELECT lang FROM workitem.message WHERE item_id = (SELECT id FROM shape_item) AND is_description),
          'en', 'the description note has the default of the column added to workitem.message');

-- 2. NOT NULL of an added column without a default: the move is refused
ALTER TABLE workitem.event ADD COLUMN must_have text;
UPDATE workitem.event SET must_have = 'old rows';
ALTER TABLE workitem.event ALTER COLUMN must_have SET NOT NULL;
\if :citus
SELECT is(pg_temp.error_of($$SELECT workitem.start((SELECT id FROM shape_item))$$),
          '23502: null value in column "must_have" of relation "event" violates not-null constraint',
          'a log row that breaks NOT NULL is refused');
\else
SELECT throws_ok($$SELECT workitem.start((SELECT id FROM shape_item))$$, '23502',
                 'null value in column "must_have" of relation "event" violates not-null constraint',
                 'a log row that breaks NOT NULL is refused');
\endif
SELECT is((SELECT status::text FROM workitem.item WHERE id = (SELECT id FROM shape_item)), 'to_do',
          'the refused move changed nothing');
ALTER TABLE workitem.event DROP COLUMN must_have;

-- 3. CHECK constraints
ALTER TABLE workitem.event ADD CONSTRAINT no_assignee_rows CHECK (what <> 'assignee');
\if :citus
SELECT is(pg_temp.error_of($$SELECT workitem.start((SELECT id FROM shape_item))$$),
          '23514: new row for relation "event" violates check constraint "no_assignee_rows"',
          'a log row that breaks a CHECK is refused');
\else
SELECT throws_ok($$SELECT workitem.start((SELECT id FROM shape_item))$$, '23514',
                 'new row for relation "event" violates check constraint "no_assignee_rows"',
                 'a log row that breaks a CHECK is refused');
\endif
SELECT is((SELECT assignee FROM workitem.item WHERE id = (SELECT id FROM shape_item)), NULL,
          'the refused move changed nothing');
ALTER TABLE workitem.event DROP CONSTRAINT no_assignee_rows;
ALTER TABLE workitem.message ADD CONSTRAINT short_notes CHECK (length(body) < 10) NOT VALID;
\if :citus
SELECT is(pg_temp.error_of($$SELECT workitem.resolve((SELECT id FROM shape_item), 'customer_response', 'A note far too long')$$),
          '23514: new row for relation "message" violates check constraint "short_notes"',
          'a note that breaks a CHECK of workitem.message is refused');
\else
SELECT throws_ok($$SELECT workitem.resolve((SELECT id FROM shape_item), 'customer_response', 'A note far too long')$$,
                 '23514', 'new row for relation "message" violates check constraint "short_notes"',
                 'a note that breaks a CHECK of workitem.message is refused');
\endif
ALTER TABLE workitem.message DROP CONSTRAINT short_notes;
SELECT is((SELECT status::text FROM workitem.start((SELECT id FROM shape_item))), 'in_progress',
          'without the constraint the move is logged');

-- 4. exclusion constraints: here, one status row per item for actor "excl"
\if :citus
SELECT skip('Citus refuses an exclusion constraint without the distribution column (tenant) on the distributed log', 2);
\else
ALTER TABLE workitem.event ADD CONSTRAINT one_status_row
    EXCLUDE USING btree (item_id WITH =, what WITH =, actor WITH =) WHERE (actor = 'excl');
SET LOCAL workitem.actor = 'excl';
CREATE TEMP TABLE excl_item AS
SELECT (workitem.create_ticket('Excl', 'd', 'shape', 'r@example.com', 'r@example.com')).id;
SELECT is((SELECT status::text FROM workitem.submit((SELECT id FROM excl_item))), 'to_do',
          'the first status row passes the exclusion constraint');
SELECT throws_ok($$SELECT workitem.start((SELECT id FROM excl_item))$$, '23P01', NULL,
                 'a second one is refused by it');

ALTER TABLE workitem.event DROP CONSTRAINT one_status_row;
\endif

-- 5. a generated column would be left NULL: refused, with the reason
SET LOCAL workitem.actor = 'shape';
ALTER TABLE workitem.event ADD COLUMN shout text GENERATED ALWAYS AS (upper(what)) STORED;
SELECT throws_ok($$UPDATE workitem.item SET title = 'Shape 2' WHERE id = (SELECT id FROM shape_item)$$,
                 '0A000', 'workitem.event has a generated column "shout", which the activity log cannot fill',
                 'a generated column on the log is refused');

SELECT * FROM finish();
ROLLBACK;
