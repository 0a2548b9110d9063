-- Hostile users and odd input (issue 7).
--
-- 1. A non-privileged user creates, in a schema it owns, functions,
--    operators, aggregates and types named like the ones the extension's
--    SQL uses (now(), = and <> on text / bigint / enums, count(*), max(),
--    lower, btrim, regexp_replace, coalesce, unnest, make_interval, jsonb
--    operators, and domains named text, timestamptz and jsonb). A victim
--    puts that schema first: search_path = evil, pg_catalog, workitem,
--    public (pg_catalog listed explicitly after it, so the attack is real).
--    The same story of operations (every operation, messages, split, merge,
--    launch case, actions, SLA clocks, calendars, attach) is run once with
--    a clean search_path and once with the hostile one; everything it
--    leaves (items, events, messages, clocks, time entries, results) must
--    be the same, and no hostile object may have run: every hostile
--    object calls evil.log, which both inserts into evil.calls (readable,
--    but rolled back with any subtransaction that fails) and takes a value
--    of the sequence evil.hits (never rolled back, so a call made on an
--    error path is seen too).
--    The story runs a third time under the hostile path as a login member
--    of workitem_agent: the triggers then switch to the schema's owner for
--    the SLA clocks and the resolution note, and that SQL must not see the
--    agent's search_path (a spy trigger on sla_clock records it); the
--    attacks of issue 18 are refused with 42501.
-- 2. Oversized and odd input: 1 MB titles, odd Unicode, timestamps at the
--    edges, intervals of months and years, negative and huge days: a clear
--    error with a specific SQLSTATE or a correct result, never a crash or
--    a wrong state.
-- All in one transaction, rolled back; the roles and the hostile user's
-- objects are made before it and dropped after it: on Citus, CREATE ROLE
-- reaches the workers only outside a transaction, and a second user's
-- connections to them do not see what the transaction made.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS evil CASCADE;
DROP ROLE IF EXISTS wi_hostile_agent, wi_hostile_user;
CREATE ROLE wi_hostile_agent LOGIN IN ROLE workitem_agent;
CREATE ROLE wi_hostile_user LOGIN;  -- (LOGIN: Citus connects to the workers as the user that makes its objects)

------------------------------------------------------------------------
-- The hostile user and its objects, made before the test's transaction
-- and dropped after it, as the roles (on Citus, the schema and the
-- functions, operators and types reach the workers then, as their owner)
------------------------------------------------------------------------
CREATE SCHEMA evil AUTHORIZATION wi_hostile_user;
CREATE TABLE evil.calls (what text);
ALTER TABLE evil.calls OWNER TO wi_hostile_user;
GRANT INSERT, SELECT ON evil.calls TO PUBLIC;
CREATE SEQUENCE evil.hits;
ALTER SEQUENCE evil.hits OWNER TO wi_hostile_user;
GRANT USAGE, SELECT ON evil.hits TO PUBLIC;
SET ROLE wi_hostile_user;
CREATE FUNCTION evil.log(w text) RETURNS boolean LANGUAGE sql
    AS $$ SELECT pg_catalog.nextval('evil.hits'::pg_catalog.regclass);
          INSERT INTO evil.calls VALUES (w) RETURNING true $$;
-- Functions that lie and leave a trace.
CREATE FUNCTION evil.now() RETURNS timestamptz LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.log('now()') THEN timestamptz '2001-01-01' END $$;
CREATE FUNCTION evil.lower(text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('lower') THEN 'x' END $$;
CREATE FUNCTION evil.upper(text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('upper') THEN 'x' END $$;
CREATE FUNCTION evil.btrim(text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('btrim') THEN 'x' END $$;
CREATE FUNCTION evil.btrim(text, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('btrim2') THEN 'x' END $$;
CREATE FUNCTION evil."coalesce"(text, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('coalesce') THEN 'x' END $$;
CREATE FUNCTION evil.regexp_replace(text, text, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('regexp_replace') THEN 'x' END $$;
CREATE FUNCTION evil.regexp_replace(text, text, text, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('regexp_replace4') THEN 'x' END $$;
CREATE FUNCTION evil.make_interval(days integer) RETURNS interval LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('make_interval') THEN interval '1 second' END $$;
CREATE FUNCTION evil.unnest(text[]) RETURNS SETOF text LANGUAGE sql AS $$ SELECT 'x' WHERE evil.log('unnest') $$;
CREATE FUNCTION evil.jsonb_extract_path_text(jsonb, VARIADIC text[]) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('jsonb_extract_path_text') THEN 'x' END $$;
-- Operators: = and <> always "true", + and - that shift by a year.
CREATE FUNCTION evil.eq_text(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('text = text') $$;
CREATE FUNCTION evil.ne_text(text, text) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('text <> text') $$;
CREATE FUNCTION evil.eq_int8(bigint, bigint) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('bigint = bigint') $$;
CREATE FUNCTION evil.eq_enum(anyenum, anyenum) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('enum = enum') $$;
CREATE FUNCTION evil.ne_enum(anyenum, anyenum) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('enum <> enum') $$;
CREATE FUNCTION evil.cat(text, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('||') THEN 'x' END $$;
CREATE FUNCTION evil.ts_pl(timestamptz, interval) RETURNS timestamptz LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('timestamptz + interval') THEN $1 END $$;
CREATE FUNCTION evil.iv_mi(interval, interval) RETURNS interval LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('interval - interval') THEN $1 END $$;
CREATE FUNCTION evil.iv_pl(interval, interval) RETURNS interval LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('interval + interval') THEN $1 END $$;
CREATE FUNCTION evil.ts_lt(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('timestamptz < timestamptz') $$;
CREATE FUNCTION evil.ts_ge(timestamptz, timestamptz) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('timestamptz >= timestamptz') $$;
CREATE FUNCTION evil.jsonb_get_text(jsonb, text) RETURNS text LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('jsonb ->> text') THEN 'closed' END $$;
CREATE FUNCTION evil.jsonb_get(jsonb, text) RETURNS jsonb LANGUAGE sql AS $$ SELECT CASE WHEN evil.log('jsonb -> text') THEN '"closed"'::jsonb END $$;
CREATE FUNCTION evil.jsonb_has(jsonb, text) RETURNS boolean LANGUAGE sql AS $$ SELECT evil.log('jsonb ? text') $$;
CREATE OPERATOR evil.= (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.eq_text);
CREATE OPERATOR evil.<> (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.ne_text);
CREATE OPERATOR evil.= (LEFTARG = bigint, RIGHTARG = bigint, FUNCTION = evil.eq_int8);
CREATE OPERATOR evil.= (LEFTARG = anyenum, RIGHTARG = anyenum, FUNCTION = evil.eq_enum);
CREATE OPERATOR evil.<> (LEFTARG = anyenum, RIGHTARG = anyenum, FUNCTION = evil.ne_enum);
CREATE OPERATOR evil.|| (LEFTARG = text, RIGHTARG = text, FUNCTION = evil.cat);
CREATE OPERATOR evil.+ (LEFTARG = timestamptz, RIGHTARG = interval, FUNCTION = evil.ts_pl);
CREATE OPERATOR evil.- (LEFTARG = interval, RIGHTARG = interval, FUNCTION = evil.iv_mi);
CREATE OPERATOR evil.+ (LEFTARG = interval, RIGHTARG = interval, FUNCTION = evil.iv_pl);
CREATE OPERATOR evil.< (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.ts_lt);
CREATE OPERATOR evil.>= (LEFTARG = timestamptz, RIGHTARG = timestamptz, FUNCTION = evil.ts_ge);
CREATE OPERATOR evil.->> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jsonb_get_text);
CREATE OPERATOR evil.-> (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jsonb_get);
CREATE OPERATOR evil.? (LEFTARG = jsonb, RIGHTARG = text, FUNCTION = evil.jsonb_has);
-- Aggregates that count wrong.
CREATE FUNCTION evil.count_step(bigint) RETURNS bigint LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.log('count(*)') THEN 42::bigint END $$;
CREATE AGGREGATE evil.count(*) (SFUNC = evil.count_step, STYPE = bigint, INITCOND = '42');
CREATE FUNCTION evil.max_step(integer, integer) RETURNS integer LANGUAGE sql
    AS $$ SELECT CASE WHEN evil.log('max(int)') THEN 99 END $$;
CREATE AGGREGATE evil.max(integer) (SFUNC = evil.max_step, STYPE = integer, INITCOND = '99');
-- Types named like built-in ones: a cast to text would run the check.
CREATE DOMAIN evil.text AS pg_catalog.text CHECK (evil.log('domain text'));
CREATE DOMAIN evil.timestamptz AS pg_catalog.timestamptz CHECK (evil.log('domain timestamptz'));
CREATE DOMAIN evil.jsonb AS pg_catalog.jsonb CHECK (evil.log('domain jsonb'));
-- offered to everybody, so that a victim with the schema first on its path reaches them
GRANT USAGE ON SCHEMA evil TO PUBLIC;
RESET ROLE;
RESET client_min_messages;

-- citus: a database distributed by Citus
SELECT EXISTS (SELECT FROM pg_extension WHERE extname = 'citus') AS citus \gset
BEGIN;
\ir lib/on_every_node.sql
SELECT plan(61);
SET LOCAL timezone = 'UTC';
-- Citus: the host tables are reference tables, whose rows a move assigns to
-- the actor only when every placement gets the same one (README "Scale out
-- with Citus"): the session user's name, set so that Citus sends it (and
-- nothing else: the hostile search_path below stays on the coordinator).
\if :citus
SET LOCAL citus.propagate_set_commands = 'local';
SELECT session_user AS session_actor \gset
SET LOCAL workitem.actor = :'session_actor';
SET LOCAL citus.propagate_set_commands = 'none';
\endif

------------------------------------------------------------------------
-- Set-up shared by both runs
------------------------------------------------------------------------
INSERT INTO workitem.category_config (kind, category, feedback_window, require_resolution_note, days_to_wait)
VALUES ('ticket', 'hostile', '7 days', true, 3), ('case', 'hostile', '2 days', false, 2);
INSERT INTO workitem.sla_policy (name, kind, category, reopen_policy, stop_wait_types)
VALUES ('hostile tickets', 'ticket', 'hostile', 'new_cycle', '{more_info,follow_up}'),
       ('hostile cases', 'case', 'hostile', 'reset', '{paused}');
INSERT INTO workitem.sla_target (policy_id, target, working_time, business_days, clock_start)
SELECT id, 'resolution', interval '8 hours', NULL::int, 'submission' FROM workitem.sla_policy WHERE name LIKE 'hostile%'
UNION ALL
SELECT id, 'first_response', NULL, 2, 'assignment' FROM workitem.sla_policy WHERE name LIKE 'hostile%';
INSERT INTO workitem.calendar (name, time_zone) VALUES ('hostile_cal', 'Europe/Paris');
INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
SELECT 'hostile_cal', d, s, e FROM generate_series(1, 5) d,
       (VALUES ('08:00'::time, '12:00'::time), ('13:00', '17:00')) r(s, e);
INSERT INTO workitem.calendar_holiday (calendar, day, starts, ends, name)
VALUES ('hostile_cal', '2026-12-25', NULL, NULL, 'Christmas'), ('hostile_cal', '2026-12-24', '13:00', NULL, 'Eve');

-- A user table with its own labels, attached once per run.
CREATE TABLE public.wi_hostile_app_clean (id int PRIMARY KEY, status text NOT NULL DEFAULT 'new', owner text);
CREATE TABLE public.wi_hostile_app_evil (LIKE public.wi_hostile_app_clean INCLUDING ALL);
CREATE TABLE public.wi_hostile_app_agent (LIKE public.wi_hostile_app_clean INCLUDING ALL);
CALL pg_temp.on_every_node('public.wi_hostile_app_clean');
CALL pg_temp.on_every_node('public.wi_hostile_app_evil');
CALL pg_temp.on_every_node('public.wi_hostile_app_agent');
INSERT INTO public.wi_hostile_app_clean VALUES (1, 'new', NULL), (2, 'open', NULL);
INSERT INTO public.wi_hostile_app_evil VALUES (1, 'new', NULL), (2, 'open', NULL);
INSERT INTO public.wi_hostile_app_agent VALUES (1, 'new', NULL), (2, 'open', NULL);
SELECT workitem.attach(t, label_map => '{"new": "draft", "open": "to_do", "working": "in_progress",
                       "pending": "waiting", "solved": "resolved", "closed": "closed"}',
                       assignee_column => 'owner')
FROM unnest(ARRAY['public.wi_hostile_app_clean', 'public.wi_hostile_app_evil', 'public.wi_hostile_app_agent']::regclass[]) t;

-- What each run records besides the rows it leaves.
CREATE TEMP TABLE results (n serial, tag text, what text, value text);

-- The victim of the third run: an agent that logs in (issue 18; made above).
GRANT SELECT, INSERT ON results TO wi_hostile_agent;
GRANT USAGE ON SEQUENCE results_n_seq TO wi_hostile_agent;
GRANT SELECT, UPDATE ON public.wi_hostile_app_agent TO wi_hostile_agent;

-- The attack works on plain SQL: under the hostile path, "now()" and "="
-- are the hostile user's (checked, then the trace is cleared).
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT now() AS hostile_now, 'a'::text = 'b' AS hostile_eq \gset
SET LOCAL search_path = pg_catalog, public;
SELECT is(:'hostile_now'::timestamptz, '2001-01-01'::timestamptz, 'the hostile now() wins on the hostile search_path');
SELECT ok(:'hostile_eq'::boolean, 'the hostile = wins on the hostile search_path');
SELECT is((SELECT last_value FROM evil.hits WHERE is_called), (SELECT pg_catalog.count(*) FROM evil.calls),
          'each hostile call is counted in evil.hits as well as logged in evil.calls');
DELETE FROM evil.calls;
SELECT last_value AS hits_before FROM evil.hits \gset

------------------------------------------------------------------------
-- The story, run once per search_path. Its own SQL is qualified
-- throughout, so that only the extension's code meets the attack.
------------------------------------------------------------------------
CREATE FUNCTION pg_temp.story(tag pg_catalog.text) RETURNS bigint LANGUAGE plpgsql AS $story$
DECLARE
    first bigint; t1 bigint; t2 bigint; t3 bigint; t4 bigint; t5 bigint; t6 bigint; d bigint;
    c bigint; c2 bigint; a1 bigint; a2 bigint; a3 bigint; kids bigint[];
    app pg_catalog.text := pg_catalog.concat('public.wi_hostile_app_', tag);
    st pg_catalog.text; msg pg_catalog.text; path pg_catalog.text;
BEGIN
    t1 := (workitem.create_ticket('Charged twice', 'Invoice 2026-114', 'hostile', 'c@example.com',
                                  'c@example.com', 'high', true)).id;
    first := t1;
    PERFORM workitem.start(t1);
    PERFORM workitem.wait_more_info(t1);                        -- category days
    PERFORM workitem.record_message(t1, 'inbound', 'email', 'Re: invoice', 'Here it is');
    PERFORM workitem.record_message(t1, 'outbound', 'email', 'Refund', 'Refunded');
    PERFORM workitem.resolve(t1, 'customer_response');           -- the outbound message counts
    PERFORM workitem.reopen(t1, 'refund missing');                -- new SLA cycle
    PERFORM workitem.resolve(t1, 'customer_response', 'Refunded again');
    PERFORM workitem.close(t1);
    PERFORM workitem.record_message(t1, 'inbound', 'email', 'Thanks', 'One more thing');  -- follow-up
    BEGIN
        PERFORM workitem.resolve(t1, 'rejected');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        INSERT INTO pg_temp.results (tag, what, value) VALUES (tag, 'resolve closed', pg_catalog.concat(st, ' ', msg));
    END;

    t2 := (workitem.create_ticket('Split me', 'Two things', 'hostile', 'c@example.com', 'c@example.com', NULL, true)).id;
    kids := workitem.split(t2, ARRAY['Part A', 'Part B']);
    PERFORM workitem.resolve(kids[1], 'customer_response', 'A done');
    PERFORM workitem.resolve(kids[2], 'rejected', 'B refused');   -- the parent resolves itself

    t3 := (workitem.create_ticket('Launch', 'Needs a case', 'hostile', 'c@example.com', 'c@example.com', NULL, true)).id;
    PERFORM workitem.start(t3, 'agent');
    c := workitem.launch_case(t3, 'Launched case');
    INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', c, 'Step 1') RETURNING id INTO a1;
    INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', c, 'Step 2') RETURNING id INTO a2;
    PERFORM workitem.resolve(a1, 'unable_to_complete', 'Blocked by supplier');  -- case needs attention
    PERFORM workitem.start(c);
    PERFORM workitem.pause(c, 'waiting for the supplier');
    PERFORM workitem.resume(c);
    PERFORM workitem.resolve(a2, 'completed');
    PERFORM workitem.resolve(c, 'completed', 'Case done');     -- the ticket resolves "completed"

    c2 := (workitem.create_case('Cancel me', 'A case', 'hostile', NULL, true)).id;
    INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', c2, 'Open step') RETURNING id INTO a3;
    PERFORM workitem.cancel(c2, 'withdrawn');                  -- the open action is cancelled too

    t4 := (workitem.create_ticket('Duplicate', 'Same thing', 'hostile', 'c@example.com', 'c@example.com', NULL, true)).id;
    t5 := (workitem.create_ticket('Original', 'Same thing', 'hostile', 'c@example.com', 'c@example.com', NULL, true)).id;
    PERFORM workitem.record_message(t4, 'inbound', 'chat', 'Dup', 'Duplicate message');
    PERFORM workitem.start_timer(t4, 'carol');                   -- stopped by the merge
    PERFORM workitem.merge(t4, t5);
    INSERT INTO pg_temp.results (tag, what, value)
    SELECT tag, 'thread', pg_catalog.string_agg(pg_catalog.concat(m.direction, ' ', m.subject, ' ', m.body), '; ' ORDER BY m.at, m.id)
    FROM workitem.thread(t5) m;
    PERFORM workitem.assign(t5, 'bob');
    PERFORM workitem.wait_until(t5, pg_catalog.now() OPERATOR(pg_catalog.+) interval '2 days', 'call back');
    PERFORM workitem.resume(t5);
    PERFORM workitem.unassign(t5, 'bob is away');
    PERFORM workitem.log_time(t5, interval '1 hour 30 minutes', 'research');
    INSERT INTO workitem.time_entry (item_id, resource, duration) VALUES (t5, 'carol', interval '20 minutes');
    -- work time (issue 16): timers, entries changed and deleted, expenses
    PERFORM workitem.start_timer(t5, 'bob');
    PERFORM workitem.start_timer(t5, 'bob');                     -- a no-op
    PERFORM workitem.stop_timer(t5, 'bob');
    PERFORM workitem.start_timer(t5, 'erin');                    -- stopped by the hand-over below
    UPDATE workitem.time_entry SET duration = interval '25 minutes', note = 'longer'
    WHERE item_id OPERATOR(pg_catalog.=) t5 AND resource OPERATOR(pg_catalog.=) 'carol';
    PERFORM workitem.add_expense(t5, 'expense', 'Taxi', 1, 23.50, 'eur');
    PERFORM workitem.add_expense(t5, 'product', 'Cable', 3, 4.99, 'EUR');
    UPDATE workitem.expense SET quantity = 2 WHERE item_id OPERATOR(pg_catalog.=) t5 AND description OPERATOR(pg_catalog.=) 'Cable';
    DELETE FROM workitem.expense WHERE item_id OPERATOR(pg_catalog.=) t5 AND description OPERATOR(pg_catalog.=) 'Taxi';
    PERFORM workitem.assign(t5, 'frank');
    PERFORM workitem.wait_more_info(t5, 2, true, 'need the invoice');
    INSERT INTO pg_temp.results (tag, what, value)
    VALUES (tag, 'sla', pg_catalog.concat(workitem.sla_state(t5), ' ', workitem.sla_label(t5), ' ',
                                          workitem.sla_remaining(t5), ' ', workitem.sla_due_at(t5, 'resolution', pg_catalog.now())));

    d := (workitem.create_ticket()).id;                         -- a blank draft
    PERFORM workitem.record_message(d, 'inbound', 'email', 'Printer broken', 'It jams');  -- fills it
    BEGIN
        PERFORM workitem.submit(d);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = PG_EXCEPTION_DETAIL;
        INSERT INTO pg_temp.results (tag, what, value) VALUES (tag, 'submit draft', pg_catalog.concat(st, ' ', msg));
    END;
    t6 := (workitem.create_ticket('Spam', NULL, NULL, NULL, NULL, NULL, false)).id;
    PERFORM workitem.resolve(t6, 'spam');                       -- a draft closes at once
    UPDATE workitem.item SET status = 'in_progress', change_reason = 'plain update'
    WHERE id OPERATOR(pg_catalog.=) (t3 OPERATOR(pg_catalog.+) 100000);  -- no row
    UPDATE workitem.item SET assignee = 'dave', change_reason = 'plain update'
    WHERE id OPERATOR(pg_catalog.=) kids[1];

    -- The attached table, through plain UPDATEs. (Citus: its local execution
    -- of a statement on the coordinator's placement of a reference table
    -- parses its own deparsed text again, built-in types unqualified
    -- ('open'::text), under the session's search_path, where the hostile
    -- domain text runs, in Citus, for these statements of the test's own:
    -- there they run with pg_catalog first, up to the calendars below. The
    -- table's trigger runs on each placement, under that path too on the
    -- coordinator; on the workers, under their sessions' own.)
    IF pg_catalog.to_regclass('pg_catalog.pg_dist_partition') IS NOT NULL THEN
        path := pg_catalog.current_setting('search_path');
        PERFORM pg_catalog.set_config('search_path', pg_catalog.concat('pg_catalog, ', path), true);
    END IF;
    EXECUTE pg_catalog.format('UPDATE %s SET status = %L WHERE id OPERATOR(pg_catalog.=) 1', app, 'open');
    EXECUTE pg_catalog.format('UPDATE %s SET status = %L WHERE id OPERATOR(pg_catalog.=) 1', app, 'working');
    EXECUTE pg_catalog.format('UPDATE %s SET owner = %L WHERE id OPERATOR(pg_catalog.=) 1', app, 'erin');
    EXECUTE pg_catalog.format('UPDATE %s SET status = %L WHERE id OPERATOR(pg_catalog.=) 2', app, 'closed');
    BEGIN
        EXECUTE pg_catalog.format('UPDATE %s SET status = %L WHERE id OPERATOR(pg_catalog.=) 2', app, 'open');
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
        INSERT INTO pg_temp.results (tag, what, value) VALUES (tag, 'attached closed', st);
    END;
    EXECUTE pg_catalog.format('SELECT pg_catalog.string_agg(pg_catalog.concat(id, status, owner), %L ORDER BY id) FROM %s', ',', app)
        INTO msg;
    INSERT INTO pg_temp.results (tag, what, value) VALUES (tag, 'attached rows', msg);
    IF path IS NOT NULL THEN
        PERFORM pg_catalog.set_config('search_path', path, true);
    END IF;

    -- Calendars, legacy labels and the rule readers.
    INSERT INTO pg_temp.results (tag, what, value) VALUES
        (tag, 'business_time', CAST(workitem.business_time('hostile_cal', '2026-12-21 10:00+01', '2027-01-05 11:00+01') AS pg_catalog.text)),
        (tag, 'business_add', CAST(workitem.business_add('hostile_cal', '2026-12-23 15:00+01', interval '9 hours') AS pg_catalog.text)),
        (tag, 'end_of_working_day', CAST(workitem.end_of_working_day('hostile_cal', '2026-12-23 15:00+01', 2) AS pg_catalog.text)),
        (tag, 'legacy', CAST(workitem.legacy_status('ticket', 'PAUSED – awaiting more information') AS pg_catalog.text)),
        (tag, 'can_transition', CAST(workitem.can_transition('case', 'resolved', 'in_progress') AS pg_catalog.text)),
        (tag, 'history', CAST((SELECT pg_catalog.count(*) FROM workitem.history(t1)) AS pg_catalog.text));
    INSERT INTO pg_temp.results (tag, what, value)
    SELECT tag, 'next_statuses', pg_catalog.string_agg(CAST(s AS pg_catalog.text), ',') FROM workitem.next_statuses('ticket', 'waiting') s;
    RETURN first;
END
$story$;

-- Everything one run left, with item ids made relative to its first item
-- (both runs are in one transaction: now() is the same for both).
-- (plpgsql, each part a query of its own: Citus plans no SQL function with
-- parameters over a distributed table. On Citus a follow-up ticket the
-- trigger makes on a worker draws its id from that node's range, above
-- last: it is one of the run's items as the follow-up of one of them, and
-- named f0, f1, ... after the lowest such id; on one node there is none)
CREATE FUNCTION pg_temp.left_behind(first bigint, last bigint, tag text) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    ids bigint[];
    fmin bigint;
    src oid := format('public.wi_hostile_app_%s', tag)::regclass::oid;
    part text[] := ARRAY[]::text[];
    got text;
BEGIN
  SELECT array_agg(id) INTO ids FROM workitem.item WHERE id BETWEEN first AND last OR follows_id BETWEEN first AND last;
  SELECT min(id) INTO fmin FROM unnest(ids) id WHERE id > last;
  SELECT string_agg(concat_ws('|', CASE WHEN i.id > last THEN 'f' || (i.id - fmin) ELSE (i.id - first)::text END, i.kind, i.status, i.wait_type, i.wait_reason, i.wait_until,
          i.close_if_no_reply, i.resolution, i.resolution_note, i.title, i.description, i.category, i.priority,
          i.primary_contact, i.requester, i.assignee, CASE WHEN i.case_id > last THEN 'f' || (i.case_id - fmin) ELSE (i.case_id - first)::text END, CASE WHEN i.parent_id > last THEN 'f' || (i.parent_id - fmin) ELSE (i.parent_id - first)::text END,
          CASE WHEN i.merged_into > last THEN 'f' || (i.merged_into - fmin) ELSE (i.merged_into - first)::text END,
          CASE WHEN i.follows_id > last THEN 'f' || (i.follows_id - fmin) ELSE (i.follows_id - first)::text END, i.needs_attention, i.attention_reason, i.highlighted, i.feedback_window,
          i.feedback_until, i.require_resolution_note, i.days_to_wait, i.created_at, i.submitted_at,
          i.status_changed_at, i.first_resolved_at, i.first_resolved_by, i.resolved_at, i.resolved_by,
          i.closed_at, i.sla_policy_id IS NOT NULL), E'\n' ORDER BY i.id) INTO got
   FROM workitem.item i WHERE i.id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN e.item_id > last THEN 'f' || (e.item_id - fmin) ELSE (e.item_id - first)::text END, e.at, e.actor, e.what,
          regexp_replace(e.old_value, '[0-9]+', 'N', 'g'), regexp_replace(e.new_value, '[0-9]+', 'N', 'g'),
          regexp_replace(e.reason, '[0-9]+', 'N', 'g')), E'\n' ORDER BY e.id) INTO got
   FROM workitem.event e WHERE e.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN m.item_id > last THEN 'f' || (m.item_id - fmin) ELSE (m.item_id - first)::text END, m.direction, m.channel, m.subject, m.body, m.author,
          m.at, m.is_resolution, m.is_description), E'\n' ORDER BY m.id) INTO got
   FROM workitem.message m WHERE m.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN c.item_id > last THEN 'f' || (c.item_id - fmin) ELSE (c.item_id - first)::text END, c.target, c.cycle, c.calendar, c.target_time, c.state,
          c.started_at, c.since, c.used, c.due_at, c.paused_at, c.stopped_at), E'\n' ORDER BY c.id) INTO got
   FROM workitem.sla_clock c WHERE c.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN c.item_id > last THEN 'f' || (c.item_id - fmin) ELSE (c.item_id - first)::text END, c.target, c.cycle, c.event, c.used, c.due_at, c.reason), E'\n' ORDER BY c.id) INTO got
   FROM workitem.sla_clock_event c WHERE c.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN t.item_id > last THEN 'f' || (t.item_id - fmin) ELSE (t.item_id - first)::text END, t.resource, t.duration, t.note, t.started_at, t.tracked), E'\n' ORDER BY t.id) INTO got
   FROM workitem.time_entry t WHERE t.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN x.item_id > last THEN 'f' || (x.item_id - fmin) ELSE (x.item_id - first)::text END, x.kind, x.description, x.quantity, x.unit_price, x.currency, x.at, x.author),
          E'\n' ORDER BY x.id) INTO got
   FROM workitem.expense x WHERE x.item_id = ANY (ids);
  part := part || got;
  SELECT string_agg(concat_ws('|', CASE WHEN w.item_id > last THEN 'f' || (w.item_id - fmin) ELSE (w.item_id - first)::text END, w.resource, w.started_at, w.started_by, w.auto), E'\n' ORDER BY w.item_id, w.resource) INTO got
   FROM workitem.timer w WHERE w.item_id = ANY (ids);
  part := part || got;
  -- (the table by its OID taken above: a row's log names it by the coordinator's)
  SELECT string_agg(concat_ws('|', e.row_key, e.actor, e.what, e.old_value, e.new_value, e.reason), E'\n' ORDER BY e.id) INTO got
   FROM workitem.event e WHERE e.source::oid = src;
  part := part || got;
  SELECT string_agg(concat_ws('|', what, regexp_replace(value, 'item [0-9]+', 'item N', 'g')), E'\n' ORDER BY n) INTO got
   FROM pg_temp.results r WHERE r.tag = left_behind.tag;
  part := part || got;
  RETURN array_to_string(part, E'\n--\n');
END $$;

SET LOCAL search_path = workitem, public;
SELECT pg_temp.story('clean') AS clean_first \gset
-- (the run's last id of the sequence: on Citus a follow-up made on a worker
-- has an id of that node's range, above all of them; on one node, the last)
SELECT max(id) AS clean_last FROM workitem.item WHERE id >= :clean_first AND follows_id IS NULL \gset

SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT pg_temp.story('evil') AS evil_first \gset
SELECT pg_catalog.max(id) AS evil_last FROM workitem.item
 WHERE id OPERATOR(pg_catalog.>=) :evil_first AND follows_id IS NULL \gset

SET LOCAL search_path = pg_catalog, public;
-- (a follow-up made on a worker, above last, counted apart; none on one node)
SELECT cmp_ok(:evil_last - :evil_first + (SELECT count(*)::int FROM workitem.item
                                          WHERE id > :evil_last AND follows_id BETWEEN :evil_first AND :evil_last),
              '>=', 14, 'the story created its items (tickets, children, follow-up, cases, actions)');
SELECT is((SELECT string_agg(DISTINCT what, ', ') FROM evil.calls), NULL,
          'no hostile function, operator, aggregate or type ran during the story');
SELECT is(pg_temp.left_behind(:evil_first, :evil_last, 'evil'), pg_temp.left_behind(:clean_first, :clean_last, 'clean'),
          'items, events, messages, SLA clocks, time entries, attached rows and results are the same under attack');
-- Spot checks that the story did what it says (so that "the same" means something).
-- (on Citus the follow-up ticket draws no id from the sequence: the
-- tickets after it are one lower)
SELECT is((SELECT string_agg(concat(id - :evil_first, ':', status, '/', coalesce(resolution::text, wait_type::text, '-')), ' ' ORDER BY id)
           FROM workitem.item WHERE id BETWEEN :evil_first AND :evil_last AND kind = 'ticket' AND parent_id IS NULL AND follows_id IS NULL),
          CASE WHEN :'citus'::boolean
               THEN '0:closed/customer_response 1:resolved/split_completed 4:resolved/completed 10:closed/merged 11:waiting/more_info 12:draft/- 13:closed/spam'
               ELSE '0:closed/customer_response 2:resolved/split_completed 5:resolved/completed 11:closed/merged 12:waiting/more_info 13:draft/- 14:closed/spam' END,
          'the tickets of the hostile run ended as the story says');
SELECT is((SELECT count(*)::int FROM workitem.item WHERE id >= :evil_first AND follows_id = :evil_first), 1,
          'the message for the closed ticket started one follow-up ticket');
SELECT is((SELECT string_agg(value, ' | ' ORDER BY n) FROM results WHERE tag = 'evil' AND what IN ('resolve closed', 'attached closed', 'submit draft')),
          format('WI001 item %s: a ticket cannot move from closed to resolved | WI002 Missing: category, primary_contact, requester. | WI001', :evil_first),
          'the refusals inside the story carry the same SQLSTATEs');
SELECT is((SELECT max(cycle) FROM workitem.sla_clock WHERE item_id = :evil_first AND target = 'resolution'), 2,
          'the reopen started a second SLA cycle (max(cycle) is the real max)');

------------------------------------------------------------------------
-- The third run: a member of workitem_agent, under the hostile path.
-- A spy trigger on sla_clock records who runs the SQL that writes the
-- clocks and with which search_path: the triggers run it as the schema's
-- owner (the agent may not write clocks), and the agent's path, which puts
-- its schema first, must not come with it (issue 18, item 10).
------------------------------------------------------------------------
\if :citus
SELECT skip('Citus: a second user in a transaction that wrote these shards (cannot perform query on placements that were modified in this transaction by a different user)', 10);
\else
CREATE TABLE public.wi_hostile_spied (who text, path text);
CREATE FUNCTION public.wi_hostile_spy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO public.wi_hostile_spied (who, path) VALUES (current_user, pg_catalog.current_setting('search_path'));
    RETURN NULL;
END $$;
CREATE TRIGGER wi_hostile_spy AFTER INSERT OR UPDATE ON workitem.sla_clock
    FOR EACH ROW EXECUTE FUNCTION public.wi_hostile_spy();
-- Each attack of issue 18, run as the agent under the hostile path; the SQLSTATE is kept.
CREATE FUNCTION pg_temp.attempt(what pg_catalog.text, stmt pg_catalog.text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    st pg_catalog.text := 'accepted';
BEGIN
    BEGIN
        EXECUTE stmt;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE;
    END;
    INSERT INTO pg_temp.results (tag, what, value) VALUES ('agent attacks', what, st);
END $$;

SET LOCAL ROLE wi_hostile_agent;
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT pg_temp.story('agent') AS agent_first \gset
SELECT pg_catalog.max(id) AS agent_last FROM workitem.item \gset
SELECT pg_temp.attempt('run the timers', 'SELECT workitem.run_timers(pg_catalog.now())');
SELECT pg_temp.attempt('forge a resolution note', pg_catalog.format(
    $$INSERT INTO workitem.message (item_id, direction, channel, body, is_resolution) VALUES (%s, 'internal', 'note', 'forged', true)$$,
    :agent_first OPERATOR(pg_catalog.+) 12));
SELECT pg_temp.attempt('date a note in the future', pg_catalog.format(
    $$INSERT INTO workitem.message (item_id, direction, channel, body, at) VALUES (%s, 'internal', 'note', 'later', '2099-01-01')$$,
    :agent_first OPERATOR(pg_catalog.+) 12));
SELECT pg_temp.attempt('squat an id', $$INSERT INTO workitem.item (id, kind, title) VALUES (900000001, 'case', 'squat')$$);
SELECT pg_temp.attempt('waive the resolution note', pg_catalog.format(
    'UPDATE workitem.item SET require_resolution_note = false WHERE id OPERATOR(pg_catalog.=) %s', :agent_first OPERATOR(pg_catalog.+) 12));
SELECT pg_temp.attempt('rewrite a clock', pg_catalog.format(
    $$UPDATE workitem.sla_clock SET used = '0' WHERE item_id OPERATOR(pg_catalog.=) %s$$, :agent_first OPERATOR(pg_catalog.+) 12));
SELECT pg_temp.attempt('move the id sequence', $$SELECT pg_catalog.setval('workitem.item_id_seq', 900000000)$$);
SELECT pg_temp.attempt('disable the trigger', 'ALTER TABLE workitem.item DISABLE TRIGGER zz_workitem_enforce');
RESET ROLE;
SET LOCAL search_path = pg_catalog, public;
DROP TRIGGER wi_hostile_spy ON workitem.sla_clock;

SELECT cmp_ok(:agent_last - :agent_first, '>=', 14, 'agent: the story created its items');
SELECT is(pg_temp.left_behind(:agent_first, :agent_last, 'agent'), pg_temp.left_behind(:clean_first, :clean_last, 'clean'),
          'agent: items, events, messages, SLA clocks, time entries, attached rows and results are the same under attack');
SELECT cmp_ok((SELECT count(*)::int FROM public.wi_hostile_spied), '>', 10, 'agent: the story wrote SLA clocks (the spy saw them)');
SELECT is((SELECT string_agg(DISTINCT concat(who, ' / ', path), '; ') FROM public.wi_hostile_spied),
          (SELECT concat(nspowner::regrole, ' / pg_catalog, pg_temp') FROM pg_namespace WHERE nspname = 'workitem'),
          'agent: the clocks were written as the schema''s owner, with search_path pg_catalog, pg_temp, not the agent''s');
SELECT results_eq($$SELECT what, value FROM results WHERE tag = 'agent attacks' ORDER BY n$$,
                  $$VALUES ('run the timers', '42501'), ('forge a resolution note', '42501'), ('date a note in the future', '42501'),
                           ('squat an id', '42501'), ('waive the resolution note', '42501'), ('rewrite a clock', '42501'),
                           ('move the id sequence', '42501'), ('disable the trigger', '42501')$$,
                  'agent: every attack of issue 18 is refused with 42501');
SELECT is((SELECT count(*)::int FROM workitem.message WHERE item_id = :agent_first + 12 AND body IN ('forged', 'later')), 0,
          'agent: no forged message was stored');
SELECT is((SELECT (require_resolution_note, status::text) FROM workitem.item WHERE id = :agent_first + 12),
          ROW(true, 'waiting'::text), 'agent: the waiting ticket keeps its rule and status');
SELECT is((SELECT count(*)::int FROM workitem.item WHERE id = 900000001), 0, 'agent: no squatted item');
SELECT is((SELECT string_agg(DISTINCT what, ', ') FROM evil.calls), NULL,
          'agent: no hostile function, operator, aggregate or type ran, as the agent or as the owner');
SELECT is((SELECT last_value FROM evil.hits), :hits_before::bigint, 'agent: evil.hits never moved');
\endif

-- Whatever else the extension offers runs clean under attack too:
-- the readers, the views, and the timers when they exist.
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT pg_catalog.count(*) AS n FROM workitem.item_sla \gset
-- (Citus: these two views' reads run partly on the coordinator's placements
-- of reference tables, where Citus's local execution parses the text it
-- made of them again (count(*), ::text unqualified) under the session's
-- path: with pg_catalog first there, as the story's UPDATEs of its table)
\if :citus
SET LOCAL search_path = pg_catalog, evil, workitem, public;
\endif
SELECT pg_catalog.count(*) AS n FROM workitem.sla_breaches \gset
SELECT pg_catalog.count(*) AS n FROM workitem.time_per_item \gset
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT pg_catalog.count(*) AS n FROM workitem.history(:evil_first) \gset
SELECT pg_catalog.count(*) AS n FROM workitem.allowed_resolutions('case') \gset
SELECT workitem.actor() AS actor \gset
SELECT workitem.attach('public.wi_hostile_app_evil', label_map => '{"new": "draft", "open": "to_do",
       "working": "in_progress", "pending": "waiting", "solved": "resolved", "closed": "closed"}') \gset
-- (Citus: with pg_catalog first, as the story's UPDATEs of the table above)
\if :citus
SET LOCAL search_path = pg_catalog, evil, workitem, public;
\endif
UPDATE public.wi_hostile_app_evil SET status = 'working' WHERE id OPERATOR(pg_catalog.=) 1;
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT workitem.detach('public.wi_hostile_app_evil') \gset
SET LOCAL search_path = pg_catalog, public;
SELECT is((SELECT string_agg(DISTINCT what, ', ') FROM evil.calls), NULL,
          'no hostile object ran in the readers, views, history, attach, an attached UPDATE, detach');
-- The timers (src/timers.c), with everything due.
SET LOCAL search_path = evil, pg_catalog, workitem, public;
SELECT workitem.run_timers(pg_catalog.now() OPERATOR(pg_catalog.+) interval '30 days', 100000) AS moved \gset
SET LOCAL search_path = pg_catalog, public;
SELECT is((SELECT string_agg(DISTINCT what, ', ') FROM evil.calls), NULL, 'no hostile object ran in run_timers');
SELECT is((SELECT last_value FROM evil.hits), :hits_before::bigint,
          'evil.hits never moved: no hostile object ran, not even in a subtransaction that was rolled back');

------------------------------------------------------------------------
-- Oversized and odd input
------------------------------------------------------------------------
SET LOCAL search_path = public, workitem;
-- 1 MB title and description: stored whole, logged, submitted.
SELECT id AS big FROM workitem.create_ticket(repeat('T', 1048576), repeat('D', 1048576), 'hostile',
                                             'c@example.com', 'c@example.com', NULL, true) \gset
-- (records of the tables compared as text: Citus cannot read a worker's
-- anonymous record back as one)
SELECT is((SELECT (length(title), length(description), status::text)::text FROM workitem.item WHERE id = :big),
          ROW(1048576, 1048576, 'to_do'::text)::text, 'a 1 MB title and description are stored whole, and the ticket submitted');
SELECT is((SELECT length(body) FROM workitem.message WHERE item_id = :big AND is_description), 1048576,
          'the 1 MB description became the first note');
SELECT is((SELECT status::text FROM workitem.resolve(:big, 'customer_response', repeat('N', 1048576))), 'resolved',
          'a 1 MB resolution note is taken');
SELECT is((SELECT length(new_value) FROM workitem.event WHERE item_id = :big AND what = 'title'), NULL::int,
          'no title event for an unchanged title');
UPDATE workitem.item SET title = repeat('U', 1048577), change_reason = repeat('R', 1048576) WHERE id = :big;
SELECT is((SELECT (length(old_value), length(new_value), length(reason))::text FROM workitem.event WHERE item_id = :big AND what = 'title'),
          ROW(1048576, 1048577, 1048576)::text, 'a 1 MB title change and reason are logged whole');
SELECT throws_ok(format($$SELECT * FROM workitem.legacy_status('ticket', %L)$$, repeat('x', 1048576)), 'WI012', NULL,
                 'a 1 MB legacy label is an unknown label, not a crash');
SELECT throws_ok($$SELECT workitem.business_time(repeat('c', 1048576), now(), now())$$, 'WI017', NULL,
                 'a 1 MB calendar name is an unknown calendar');
SELECT is(array_length(workitem.split(
              (SELECT id FROM workitem.create_ticket('Many', 'd', 'hostile', 'c', 'c', NULL, true)),
              (SELECT array_agg('child ' || g) FROM generate_series(1, 500) g)), 1), 500,
          'a split into 500 children works');

-- Odd Unicode: stored and read back exactly, never mangled.
SELECT id AS odd FROM workitem.create_ticket(E'\u200fRTL mark\u200e and e\u0301 and 🎫🔥 and \uFFFF', E'\u202eevil\u202c',
                                             'hostile', E'c\u0301@example.com', '🎫@example.com', NULL, true) \gset
SELECT is((SELECT title FROM workitem.item WHERE id = :odd), E'\u200fRTL mark\u200e and e\u0301 and 🎫🔥 and \uFFFF',
          'RTL marks, combining characters, emoji and U+FFFF survive in a title');
SELECT is((SELECT body FROM workitem.message WHERE item_id = :odd AND is_description), E'\u202eevil\u202c',
          'a description with bidi overrides becomes the first note unchanged');
SELECT is((SELECT status::text FROM workitem.start(:odd, E'agent \U0001F600')), 'in_progress', 'an emoji resource is assigned');
SELECT is((SELECT new_value FROM workitem.event WHERE item_id = :odd AND what = 'assignee' ORDER BY id DESC LIMIT 1),
          E'agent \U0001F600', 'and logged as given');
SELECT throws_ok($$SELECT workitem.legacy_status('ticket', E'Paused - Awaiting\u200f more information')$$, 'WI012', NULL,
                 'a legacy label with a hidden RTL mark is unknown, not matched');
SELECT is((SELECT status::text FROM workitem.legacy_status('ticket', E'PAUSED \u2014 AWAITING MORE INFORMATION')), 'waiting',
          'an em dash with spaces around it matches');
SELECT throws_ok($$SELECT workitem.submit((workitem.create_ticket(E'\u200b', E'\u00a0', 'hostile', ' ', 'r')).id)$$,
                 'WI002', NULL, 'blank-looking values: the plain spaces count as missing, the rest is the caller''s');

-- Timestamps at the edges
SELECT id AS edge FROM workitem.create_ticket('Edges', 'd', 'hostile', 'c', 'c', NULL, true) \gset
SELECT throws_ok(format($$SELECT workitem.wait_until(%s, 'infinity')$$, :edge), 'WI010', NULL, 'wait_until infinity refused');
SELECT throws_ok(format($$SELECT workitem.wait_until(%s, '-infinity')$$, :edge), 'WI010', NULL, 'wait_until -infinity refused');
SELECT throws_ok(format($$SELECT workitem.wait_until(%s, '2000-01-01')$$, :edge), 'WI010', NULL, 'wait_until in the past refused');
SELECT is((SELECT (status::text, wait_until) FROM workitem.wait_until(:edge, '294276-12-31 00:00+00')),
          ROW('waiting'::text, '294276-12-31 00:00+00'::timestamptz), 'wait_until on the last day timestamptz has is kept as given');
SELECT is((SELECT status::text FROM workitem.resume(:edge)), 'to_do', 'and the item resumes from it');
SELECT throws_ok($$SELECT workitem.business_time('hostile_cal', now(), '294276-12-31')$$, '22008', NULL,
                 'business_time to 294276-12-31 is out of the calendar''s years');
SELECT throws_ok($$SELECT workitem.business_add('hostile_cal', 'infinity', '1 hour')$$, '22008', NULL, 'business_add from infinity');
SELECT throws_ok($$SELECT workitem.business_add('hostile_cal', '-infinity', '1 hour')$$, '22008', NULL, 'business_add from -infinity');
SELECT throws_ok($$SELECT workitem.end_of_working_day('hostile_cal', '-infinity', 1)$$, '22008', NULL, 'end_of_working_day from -infinity');
SELECT throws_ok($$SELECT workitem.business_add('24x7', now(), '100000000 hours')$$, '22008', NULL,
                 'business_add past the covered years');
SELECT throws_ok(format($$SELECT workitem.log_time(%s, '1 hour', started_at => 'infinity')$$, :edge), '22008', NULL,
                 'a time entry starting at infinity is refused');

-- Intervals of months and years
SELECT throws_ok($$SELECT workitem.business_add('hostile_cal', now(), '1 month')$$, '22023', NULL, 'business_add of a month refused');
SELECT throws_ok($$SELECT workitem.business_add('hostile_cal', now(), '1 year 2 hours')$$, '22023', NULL, 'business_add of a year refused');
SELECT throws_ok(format($$SELECT workitem.log_time(%s, '1 month')$$, :edge), '22023', NULL, 'a time entry of a month refused');
SELECT throws_ok(format($$SELECT workitem.log_time(%s, '-1 year 400 days')$$, :edge), '22023', NULL, 'a time entry with negative years refused');
SELECT throws_ok(format($$SELECT workitem.log_time(%s, '0')$$, :edge), '22023', NULL, 'a zero time entry refused');
INSERT INTO workitem.category_config VALUES ('ticket', 'monthly', '1 month', false, NULL);
-- a calendar month from the resolution (not 30 days: the test runs in 31-day months too)
SELECT is((SELECT (status::text, feedback_until = resolved_at + interval '1 month', feedback_until - resolved_at >= interval '28 days')
           FROM workitem.resolve((workitem.create_ticket('M', 'd', 'monthly', 'c', 'c', NULL, true)).id, 'rejected')),
          ROW('resolved'::text, true, true), 'a feedback window of a month is kept as a month');

-- Days to wait: negative, zero, huge
SELECT throws_ok(format($$SELECT workitem.wait_more_info(%s, 0)$$, :edge), '22023', NULL, 'zero days to wait refused');
SELECT throws_ok(format($$SELECT workitem.wait_more_info(%s, -3)$$, :edge), '22023', NULL, 'negative days to wait refused');
SELECT throws_ok(format($$SELECT workitem.wait_more_info(%s, 2147483647)$$, :edge), '22008', NULL,
                 'two billion days to wait: out of the timestamp range, refused');
INSERT INTO workitem.category_config VALUES ('ticket', 'forever', '1 day', false, 2147483647);
SELECT throws_ok($$SELECT workitem.wait_more_info((workitem.create_ticket('F', 'd', 'forever', 'c', 'c', NULL, true)).id)$$,
                 '22008', NULL, 'a category default of two billion days: refused at the wait');
SELECT throws_ok($$INSERT INTO workitem.category_config VALUES ('ticket', 'neg', '1 day', false, -1)$$, '23514', NULL,
                 'a negative default of days is refused by the config');
SELECT is((SELECT (status::text, wait_type::text)::text FROM workitem.item WHERE id = :edge), ROW('to_do'::text, NULL::text)::text,
          'after all those refusals the item is as it was');

SELECT * FROM finish();
ROLLBACK;
SET client_min_messages = warning;
DROP SCHEMA evil CASCADE;
DROP ROLE wi_hostile_agent, wi_hostile_user;
