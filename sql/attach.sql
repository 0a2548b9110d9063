-- Enforcing the lifecycle on a table that is not ours: an existing
-- helpdesk.tickets table with text statuses, attached in three lines.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set SHOW_CONTEXT never
SET workitem.actor = 'dba';
CREATE SCHEMA helpdesk;
CREATE TABLE helpdesk.tickets (
    id      serial PRIMARY KEY,
    subject text NOT NULL,
    status  text NOT NULL DEFAULT 'new',
    owner   text,
    outcome text
);
INSERT INTO helpdesk.tickets (subject, status) VALUES ('Old one', 'open'), ('Older', 'closed');

-- The three lines
SELECT workitem.attach('helpdesk.tickets',
       label_map => '{"new": "draft", "open": "to_do", "working": "in_progress",
                      "pending": "waiting", "solved": "resolved", "closed": "closed"}',
       assignee_column => 'owner', resolution_column => 'outcome');

-- Allowed moves pass, and the rules the table can express apply
UPDATE helpdesk.tickets SET status = 'working' WHERE id = 1;
SELECT id, status, owner FROM helpdesk.tickets WHERE id = 1;
UPDATE helpdesk.tickets SET owner = 'bob' WHERE id = 1;
SELECT id, status, owner FROM helpdesk.tickets WHERE id = 1;
-- A refused UPDATE, as psql shows it
UPDATE helpdesk.tickets SET status = 'new' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'open' WHERE id = 2;
UPDATE helpdesk.tickets SET status = 'reopened' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'solved' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'solved', outcome = 'cancelled' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'solved', outcome = 'customer_response' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'working', owner = 'ann' WHERE id = 1;
SELECT id, status, owner, outcome FROM helpdesk.tickets WHERE id = 1;
INSERT INTO helpdesk.tickets (subject) VALUES ('Fresh');
INSERT INTO helpdesk.tickets (subject, status) VALUES ('Too early', 'pending');
-- Events name the table and the row's primary key
SELECT source, row_key, what, old_value, new_value, actor FROM workitem.event
 WHERE source = 'helpdesk.tickets'::regclass ORDER BY id;

-- Twice is harmless; the list of attached tables; detach removes it
SELECT workitem.attach('helpdesk.tickets',
       label_map => '{"new": "draft", "open": "to_do", "working": "in_progress",
                      "pending": "waiting", "solved": "resolved", "closed": "closed"}',
       assignee_column => 'owner', resolution_column => 'outcome', log_events => false);
SELECT tbl, status_column, kind, log_events, assignee_column FROM workitem.attached;
SELECT count(*) AS triggers FROM pg_trigger WHERE tgrelid = 'helpdesk.tickets'::regclass AND NOT tgisinternal;
SELECT workitem.detach('helpdesk.tickets');
UPDATE helpdesk.tickets SET status = 'new' WHERE id = 2;
SELECT count(*) AS attached FROM workitem.attached;

-- Refusals at attach time
CREATE TABLE helpdesk.no_pk (status text);
SELECT workitem.attach('helpdesk.no_pk');
CREATE TABLE helpdesk.odd (id int PRIMARY KEY, status text);
INSERT INTO helpdesk.odd VALUES (1, 'open'), (2, 'parked');
SELECT workitem.attach('helpdesk.odd', label_map => '{"open": "to_do"}');
SELECT workitem.attach('helpdesk.odd', label_map => '{"open": "to_do", "parked": "shelved"}');
SELECT workitem.attach('helpdesk.odd', status_column => 'state');

-- A status column of our own type, and a partitioned table
CREATE TABLE helpdesk.cases (id int PRIMARY KEY, status workitem.status NOT NULL DEFAULT 'draft');
SELECT workitem.attach('helpdesk.cases', kind => 'case');
INSERT INTO helpdesk.cases VALUES (1, 'to_do');
UPDATE helpdesk.cases SET status = 'waiting' WHERE id = 1;
UPDATE helpdesk.cases SET status = 'draft' WHERE id = 1;
CREATE TABLE helpdesk.regional (id int, region text, status text NOT NULL, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE helpdesk.regional_eu PARTITION OF helpdesk.regional FOR VALUES IN ('eu');
SELECT workitem.attach('helpdesk.regional');
INSERT INTO helpdesk.regional VALUES (1, 'eu', 'to_do');
UPDATE helpdesk.regional SET status = 'draft';
SELECT source, row_key, what, new_value FROM workitem.event WHERE source = 'helpdesk.regional'::regclass;

-- A label map of any size: every one of 120 labels is known to the
-- trigger, the 65th and the last as well as the first
CREATE TABLE helpdesk.many (id int PRIMARY KEY, status text NOT NULL);
SELECT workitem.attach('helpdesk.many',
       label_map => (SELECT jsonb_object_agg(format('s%s', i),
                                             (enum_range(NULL::workitem.status))[1 + i % 6])
                       FROM generate_series(1, 120) i));
SELECT count(*) AS labels FROM jsonb_object_keys((SELECT label_map FROM workitem.attached
                                                   WHERE tbl = 'helpdesk.many'::regclass));
INSERT INTO helpdesk.many VALUES (1, 's6'), (2, 's120'), (3, 's66');
UPDATE helpdesk.many SET status = 's67' WHERE id = 1;
UPDATE helpdesk.many SET status = 's115' WHERE id = 2;
UPDATE helpdesk.many SET status = 's116' WHERE id = 2;
UPDATE helpdesk.many SET status = 's1' WHERE id = 3;
SELECT row_key, what, old_value, new_value FROM workitem.event
 WHERE source = 'helpdesk.many'::regclass ORDER BY id;
-- a label that is not in the map is still refused (its hint lists all 120)
\set VERBOSITY terse
UPDATE helpdesk.many SET status = 's121' WHERE id = 3;
\set VERBOSITY default
