-- Enforcing the lifecycle on a table that is not ours: an existing
-- helpdesk.tickets table with text statuses, attached in three lines.
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS workitem;
RESET client_min_messages;
\set ECHO none
\ir test/lib/on_every_node.sql
\set ECHO all
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
CALL pg_temp.on_every_node('helpdesk.tickets');
INSERT INTO helpdesk.tickets (subject, status) VALUES ('Old one', 'open'), ('Older', 'closed');

-- The three lines
SELECT workitem.attach('helpdesk.tickets',
       label_map => '{"new": "draft", "open": "to_do", "working": "in_progress",
                      "pending": "waiting", "solved": "resolved", "closed": "closed"}',
       assignee_column => 'owner', resolution_column => 'outcome');

-- Allowed moves pass, and the rules the table can express apply. (The
-- moves the log shows below are made in transactions that name their actor
-- with SET LOCAL: on Citus, with citus.propagate_set_commands = 'local',
-- it reaches the workers, where the trigger runs; a session's SET does not.
-- On one node it is the session's actor again.)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'dba';
UPDATE helpdesk.tickets SET status = 'working' WHERE id = 1;
SELECT id, status, owner FROM helpdesk.tickets WHERE id = 1;
UPDATE helpdesk.tickets SET owner = 'bob' WHERE id = 1;
SELECT id, status, owner FROM helpdesk.tickets WHERE id = 1;
COMMIT;
-- A refused UPDATE, as psql shows it
UPDATE helpdesk.tickets SET status = 'new' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'open' WHERE id = 2;
UPDATE helpdesk.tickets SET status = 'reopened' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'solved' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'solved', outcome = 'cancelled' WHERE id = 1;
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'dba';
UPDATE helpdesk.tickets SET status = 'solved', outcome = 'customer_response' WHERE id = 1;
UPDATE helpdesk.tickets SET status = 'working', owner = 'ann' WHERE id = 1;
SELECT id, status, owner, outcome FROM helpdesk.tickets WHERE id = 1;
INSERT INTO helpdesk.tickets (subject) VALUES ('Fresh');
COMMIT;
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
CALL pg_temp.on_every_node('helpdesk.no_pk');
SELECT workitem.attach('helpdesk.no_pk');
CREATE TABLE helpdesk.odd (id int PRIMARY KEY, status text);
CALL pg_temp.on_every_node('helpdesk.odd');
INSERT INTO helpdesk.odd VALUES (1, 'open'), (2, 'parked');
SELECT workitem.attach('helpdesk.odd', label_map => '{"open": "to_do"}');
SELECT workitem.attach('helpdesk.odd', label_map => '{"open": "to_do", "parked": "shelved"}');
SELECT workitem.attach('helpdesk.odd', status_column => 'state');

-- A status column of our own type, and a partitioned table
CREATE TABLE helpdesk.cases (id int PRIMARY KEY, status workitem.status NOT NULL DEFAULT 'draft');
CALL pg_temp.on_every_node('helpdesk.cases');
SELECT workitem.attach('helpdesk.cases', kind => 'case');
INSERT INTO helpdesk.cases VALUES (1, 'to_do');
UPDATE helpdesk.cases SET status = 'waiting' WHERE id = 1;
UPDATE helpdesk.cases SET status = 'draft' WHERE id = 1;
-- (on Citus distributed by region, as a tenant, colocated with workitem.item:
-- a partitioned table cannot be a reference table)
CREATE TABLE helpdesk.regional (id int, region text COLLATE "C", status text NOT NULL, PRIMARY KEY (id, region))
    PARTITION BY LIST (region);
CREATE TABLE helpdesk.regional_eu PARTITION OF helpdesk.regional FOR VALUES IN ('eu');
CALL pg_temp.on_every_node('helpdesk.regional', 'region');
SELECT workitem.attach('helpdesk.regional');
INSERT INTO helpdesk.regional VALUES (1, 'eu', 'to_do');
UPDATE helpdesk.regional SET status = 'draft';
SELECT source, row_key, what, new_value FROM workitem.event WHERE source = 'helpdesk.regional'::regclass;

-- A label map of any size: every one of 120 labels is known to the
-- trigger, the 65th and the last as well as the first
CREATE TABLE helpdesk.many (id int PRIMARY KEY, status text NOT NULL);
CALL pg_temp.on_every_node('helpdesk.many');
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

-- Issue 15: a help desk's own table, as Request Tracker has it: integer
-- owner (6 is nobody) and updater, reminders in the same table, labels
-- that mean a status with a wait type or a resolution.
CREATE TABLE helpdesk.rt (id int PRIMARY KEY, type text NOT NULL DEFAULT 'ticket',
                          status varchar(64) NOT NULL DEFAULT 'new'
                              CHECK (status IN ('new', 'open', 'stalled', 'resolved', 'rejected', 'deleted')),
                          owner int NOT NULL DEFAULT 6, lastupdatedby int NOT NULL DEFAULT 1);
CALL pg_temp.on_every_node('helpdesk.rt');
-- the whole vocabulary is checked: CHECK literals and the default
SELECT workitem.attach('helpdesk.rt', label_map => '{"open": "in_progress", "resolved": "resolved"}');
-- log_events => false with observe would leave no trace: refused
SELECT workitem.attach('helpdesk.rt', mode => 'observe', log_events => false,
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "resolved": "resolved",
                      "rejected": "resolved", "deleted": "closed"}');
-- a map to what a ticket cannot be
SELECT workitem.attach('helpdesk.rt', label_map => '{"new": "to_do", "open": "in_progress",
       "stalled": {"status": "in_progress", "wait_type": "more_info"}, "resolved": "resolved",
       "rejected": "resolved", "deleted": "closed"}');
SELECT workitem.attach('helpdesk.rt', mode => 'sometimes');
SELECT workitem.attach('helpdesk.rt', enforce_only => '{"open->elsewhere"}',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "resolved": "resolved",
                      "rejected": "resolved", "deleted": "closed"}');
SELECT workitem.attach('helpdesk.rt', filter => 'no_such_column = 1',
       label_map => '{"new": "to_do", "open": "in_progress", "stalled": "waiting", "resolved": "resolved",
                      "rejected": "resolved", "deleted": "closed"}');
-- observe: every move logged, what enforce would refuse is a violation, nothing refused
SELECT workitem.attach('helpdesk.rt', mode => 'observe', filter => 'type = ''ticket''',
       actor_column => 'lastupdatedby', assignee_column => 'owner', assignee_nobody => '6',
       label_map => '{"new": "to_do", "open": "in_progress",
                      "stalled": {"status": "waiting", "wait_type": "more_info"},
                      "resolved": {"status": "resolved", "resolution": "completed"},
                      "rejected": {"status": "resolved", "resolution": "rejected"},
                      "deleted": {"status": "closed", "resolution": "rejected"}}');
INSERT INTO helpdesk.rt (id) VALUES (1), (2);
INSERT INTO helpdesk.rt (id, type, status) VALUES (3, 'reminder', 'open');
UPDATE helpdesk.rt SET status = 'open', owner = 12, lastupdatedby = 12 WHERE id = 1;
UPDATE helpdesk.rt SET status = 'resolved' WHERE id = 1;
UPDATE helpdesk.rt SET status = 'rejected' WHERE id = 1;
UPDATE helpdesk.rt SET status = 'deleted', lastupdatedby = 14 WHERE id = 1;
UPDATE helpdesk.rt SET status = 'open' WHERE id = 1;          -- closed -> in_progress: a violation
UPDATE helpdesk.rt SET status = 'stalled' WHERE id = 3;       -- a reminder: not ours
UPDATE helpdesk.rt SET owner = 13 WHERE id = 1;               -- observed: the row is not rewritten
SELECT id, status, owner FROM helpdesk.rt ORDER BY id;
DELETE FROM helpdesk.rt WHERE id = 2;
SELECT row_key, actor, what, old_value, new_value, reason FROM workitem.event
 WHERE source = 'helpdesk.rt'::regclass ORDER BY id;
-- enforce only one move: the rest is observed; switching keeps the log
SELECT workitem.attach('helpdesk.rt', enforce_only => '{"deleted->open", "delete"}', filter => 'type = ''ticket''',
       actor_column => 'lastupdatedby', assignee_column => 'owner', assignee_nobody => '6',
       label_map => (SELECT label_map FROM workitem.attached WHERE tbl = 'helpdesk.rt'::regclass));
SELECT mode, enforce_only, filter, actor_column, assignee_nobody FROM workitem.attached
 WHERE tbl = 'helpdesk.rt'::regclass;
INSERT INTO helpdesk.rt (id, status) VALUES (4, 'deleted');
UPDATE helpdesk.rt SET status = 'open' WHERE id = 4;
DELETE FROM helpdesk.rt WHERE id = 4;
UPDATE helpdesk.rt SET status = 'new' WHERE id = 1;
SELECT count(*) AS events_kept FROM workitem.event WHERE source = 'helpdesk.rt'::regclass;
SELECT row_key, what, old_value, new_value, reason FROM workitem.event
 WHERE source = 'helpdesk.rt'::regclass AND row_key IN ('1', '4') ORDER BY id DESC LIMIT 3;
-- enforce: the contract, with the resolution the label gives
SELECT workitem.attach('helpdesk.rt', filter => 'type = ''ticket''', assignee_column => 'owner', assignee_nobody => '6',
       label_map => (SELECT label_map FROM workitem.attached WHERE tbl = 'helpdesk.rt'::regclass));
-- (no actor column now: the actor is workitem.actor, named with SET LOCAL as above)
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'dba';
INSERT INTO helpdesk.rt (id) VALUES (5);
UPDATE helpdesk.rt SET status = 'resolved' WHERE id = 5;
UPDATE helpdesk.rt SET status = 'open' WHERE id = 5;
UPDATE helpdesk.rt SET owner = 20 WHERE id = 5;               -- reassigned in progress: back to new
SELECT id, status, owner FROM helpdesk.rt WHERE id = 5;
COMMIT;
UPDATE helpdesk.rt SET status = 'deleted' WHERE id = 5;
-- the contract is silent on deleting: logged, not refused (unless enforce_only names "delete")
BEGIN;
SET LOCAL citus.propagate_set_commands = 'local';
SET LOCAL workitem.actor = 'dba';
DELETE FROM helpdesk.rt WHERE id = 5;
COMMIT;
-- history() of a row of an attached table
SELECT what, old_value, new_value, actor FROM workitem.history('helpdesk.rt', '5');
-- the filter is evaluated under a fixed search_path: a hostile "=" earlier
-- on the caller's path does not make a reminder a ticket
CREATE SCHEMA evil;
CREATE FUNCTION evil.always(text, text) RETURNS boolean LANGUAGE sql AS 'SELECT true';
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.always);
SET search_path = evil, pg_catalog, public;
UPDATE helpdesk.rt SET status = 'deleted' WHERE id = 3;
RESET search_path;
SELECT id, type, status FROM helpdesk.rt WHERE id = 3;
