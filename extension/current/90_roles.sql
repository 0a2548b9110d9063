------------------------------------------------------------------------
-- Roles and privileges. Sorts last, so every function and table exists
-- by now; the privileges are explicit lists.
--
--   workitem_reader  USAGE on the schema, SELECT on the views, the pure
--                    functions, and what the views need (the calendars).
--   workitem_agent   reader + the operations and the tables they write.
--                    No function is SECURITY DEFINER: an agent's UPDATE
--                    is checked by the same trigger as any other. Nothing
--                    on workitem.event: the C code appends to it directly.
--   workitem_admin   agent + calendars, SLA policies and targets,
--                    category_config, attach/detach, timers, holidays.
--
-- Nothing is granted to PUBLIC but the types' USAGE (PostgreSQL's default).
------------------------------------------------------------------------

-- The roles are cluster-wide: created once, NOLOGIN; members log in.
DO $roles$
DECLARE
    r text;
BEGIN
    FOREACH r IN ARRAY ARRAY['workitem_reader', 'workitem_agent', 'workitem_admin'] LOOP
        IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname OPERATOR(pg_catalog.=) r) THEN
            EXECUTE pg_catalog.format('CREATE ROLE %I NOLOGIN', r);
        END IF;
    END LOOP;
    -- agent includes reader, admin includes agent (no NOTICE when already so)
    IF NOT pg_catalog.pg_has_role('workitem_agent', 'workitem_reader', 'MEMBER') THEN
        GRANT workitem_reader TO workitem_agent;
    END IF;
    IF NOT pg_catalog.pg_has_role('workitem_admin', 'workitem_agent', 'MEMBER') THEN
        GRANT workitem_agent TO workitem_admin;
    END IF;
END $roles$;

------------------------------------------------------------------------
-- Start from nothing: no function is executable by PUBLIC, then grant back.
------------------------------------------------------------------------
REVOKE ALL ON SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL TABLES IN SCHEMA workitem FROM PUBLIC;
REVOKE ALL ON ALL SEQUENCES IN SCHEMA workitem FROM PUBLIC;

GRANT USAGE ON SCHEMA workitem TO workitem_reader;

------------------------------------------------------------------------
-- workitem_reader
------------------------------------------------------------------------
GRANT SELECT ON workitem.items, workitem.queue, workitem.transitions, workitem.daily_flow,
                workitem.activity_log, workitem.item_sla, workitem.sla_breaches,
                workitem.status_durations, workitem.time_per_item, workitem.time_per_resource,
                workitem.attached, workitem.days, workitem.flow_per_day, workitem.status_time_per_day,
                workitem.sla_per_day, workitem.sla_compliance, workitem.work_per_day, workitem.attached_sla
      TO workitem_reader;
-- the working-time functions (called by the SLA and duration views) read
-- the calendars as the caller
GRANT SELECT ON workitem.calendar, workitem.calendar_hours, workitem.calendar_holiday
      TO workitem_reader;
GRANT EXECUTE ON FUNCTION
    workitem.can_transition(workitem.kind, workitem.status, workitem.status),
    workitem.next_statuses(workitem.kind, workitem.status),
    workitem.allowed_wait_types(workitem.kind),
    workitem.allowed_resolutions(workitem.kind),
    workitem.legacy_status(workitem.kind, text),
    workitem.actor(),
    workitem.valid_time_zone(text),
    workitem.business_time(text, timestamptz, timestamptz),
    workitem.business_add(text, timestamptz, interval),
    workitem.end_of_working_day(text, timestamptz, integer),
    workitem.clock_used(text, interval, timestamptz, timestamptz),
    workitem.clock_state(text, text, interval, interval, timestamptz, numeric[], timestamptz),
    workitem.clock_label(text, text, interval, interval, timestamptz, timestamptz, timestamptz)
    TO workitem_reader;
GRANT EXECUTE ON FUNCTION workitem.daily_flow_between(date, date), workitem.agent_queue(text, integer),
                          workitem.inbox(integer) TO workitem_reader;
-- called by the facts per day (75_bi.sql)
GRANT EXECUTE ON FUNCTION workitem.on_day(timestamptz, date), workitem.day_series(date, date) TO workitem_reader;
-- called by the views for source_name
GRANT EXECUTE ON FUNCTION workitem.source_name(regclass) TO workitem_reader;

------------------------------------------------------------------------
-- workitem_agent: the operations, and what they (and the C triggers,
-- through SPI, as the caller) read and write.
------------------------------------------------------------------------
GRANT EXECUTE ON FUNCTION
    workitem.create_ticket(text, text, text, text, text, text, boolean),
    workitem.create_case(text, text, text, text, boolean),
    workitem.submit(bigint),
    workitem.start(bigint, text),
    workitem.assign(bigint, text, text),
    workitem.unassign(bigint, text),
    workitem.wait_more_info(bigint, integer, boolean, text),
    workitem.wait_until(bigint, timestamptz, text),
    workitem.pause(bigint, text),
    workitem.resume(bigint),
    workitem.resolve(bigint, workitem.resolution, text),
    workitem.reopen(bigint, text),
    workitem.close(bigint),
    workitem.cancel(bigint, text),
    workitem.record_message(bigint, workitem.direction, workitem.channel, text, text, text),
    workitem.split(bigint, text[]),
    workitem.merge(bigint, bigint),
    workitem.launch_case(bigint, text),
    workitem.log_time(bigint, interval, text, text, timestamptz),
    workitem.start_timer(bigint, text),
    workitem.stop_timer(bigint, text),
    workitem.start_timer_on(text, bigint, text, text),
    workitem.stop_timer_on(text, bigint, text, text),
    workitem.add_expense(bigint, workitem.expense_kind, text, numeric, numeric, text, timestamptz, text),
    workitem.history(bigint),
    workitem.history(regclass, text),
    workitem.thread(bigint),
    workitem.current_clock(bigint, text),
    workitem.sla_remaining(bigint, text, timestamptz),
    workitem.sla_due_at(bigint, text, timestamptz),
    workitem.sla_state(bigint, text, timestamptz),
    workitem.sla_label(bigint, text, timestamptz)
    TO workitem_agent;
GRANT EXECUTE ON FUNCTION workitem.create_action(bigint, text, text, text, text) TO workitem_agent;
-- whoever writes items runs their CHECK
GRANT EXECUTE ON FUNCTION workitem.item_check TO workitem_agent;
-- and the default of their tenant columns
GRANT EXECUTE ON FUNCTION workitem.current_tenant() TO workitem_agent;
-- and where the plpgsql readers look first (history(), thread())
GRANT EXECUTE ON FUNCTION workitem.routed_tenant() TO workitem_agent;
-- and, on Citus, the shards the SLA readers read per row on a worker
GRANT EXECUTE ON FUNCTION workitem.node_shards(text) TO workitem_agent;
-- and, on Citus, take back the moves their statements made on a worker
GRANT EXECUTE ON FUNCTION workitem.worker_moves() TO workitem_agent;

-- Items: every write goes through the trigger (only drafts can be deleted).
GRANT SELECT, INSERT, UPDATE, DELETE ON workitem.item TO workitem_agent;
-- Messages: written once. The trigger marks the resolution note, and keeps
-- the SLA clocks and their log, as the schema's owner (wi_become_owner() in
-- src/workitem.c): agents read them and cannot write them by hand.
GRANT SELECT, INSERT ON workitem.message TO workitem_agent;
-- Time entries, products and expenses: changed and deleted through their
-- triggers (logged, frozen once the item is closed). Timers are written by
-- the C code as the schema's owner: agents cannot backdate one.
GRANT SELECT, INSERT, UPDATE, DELETE ON workitem.time_entry, workitem.expense TO workitem_agent;
GRANT SELECT ON workitem.timer TO workitem_agent;
GRANT SELECT ON workitem.sla_clock, workitem.sla_clock_event TO workitem_agent;
-- configuration, read at submit and by the SLA clocks
GRANT SELECT ON workitem.category_config, workitem.sla_policy, workitem.sla_target,
                workitem.attached_table
      TO workitem_agent;
GRANT USAGE ON SEQUENCE workitem.item_id_seq, workitem.message_id_seq, workitem.time_entry_id_seq,
                        workitem.expense_id_seq
      TO workitem_agent;

------------------------------------------------------------------------
-- workitem_admin: configuration, attaching tables, the engine's timers.
------------------------------------------------------------------------
GRANT INSERT, UPDATE, DELETE ON workitem.calendar, workitem.calendar_hours, workitem.calendar_holiday,
                                workitem.sla_policy, workitem.sla_target, workitem.category_config,
                                workitem.attached_table
      TO workitem_admin;
GRANT USAGE ON SEQUENCE workitem.sla_policy_id_seq TO workitem_admin;
GRANT EXECUTE ON FUNCTION
    workitem.attach(regclass, name, workitem.kind, jsonb, boolean, name, name, name,
                    text, text[], text, name, text, interval),
    workitem.detach(regclass),
    workitem.enforce_attached()     -- attach() creates a trigger that calls it
    TO workitem_admin;
GRANT EXECUTE ON FUNCTION workitem.run_timers(timestamptz, integer),
                           workitem.run_timers_tenant(text, timestamptz, integer),
                           workitem.import_holidays(text, text) TO workitem_admin;

