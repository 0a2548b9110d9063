------------------------------------------------------------------------
-- Time-driven moves (issue 5): follow-ups reached, days to wait over,
-- feedback windows over, split tickets done, SLA warnings and breaches.
-- workitem.run_timers() does the due work (src/timers.c); the background
-- worker (src/worker.c) or pg_cron calls it.
------------------------------------------------------------------------
CREATE FUNCTION workitem.run_timers(at timestamptz DEFAULT now(), max_items integer DEFAULT 1000)
    RETURNS integer AS 'MODULE_PATHNAME', 'workitem_run_timers'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.run_timers(timestamptz, integer) IS
    'Does the time-driven work due by at (at most max_items items); returns how many items it moved or flagged with an SLA alarm.';

-- Split parents, found without a scan of all waiting items.
CREATE INDEX item_split_wait_idx ON workitem.item (id)
    WHERE status = 'waiting' AND wait_type = 'split';

-- When a running clock next needs run_timers(): its first unfired warning
-- threshold or its due time if not breached yet; NULL when nothing is left.
-- Kept by a trigger so that every writer of clocks keeps it right.
ALTER TABLE workitem.sla_clock ADD COLUMN alarm_at timestamptz;
CREATE INDEX sla_clock_alarm_idx ON workitem.sla_clock (alarm_at) WHERE alarm_at IS NOT NULL;

CREATE FUNCTION workitem.clock_alarm() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_clock_alarm' LANGUAGE C;
CREATE TRIGGER clock_alarm BEFORE INSERT OR UPDATE ON workitem.sla_clock
    FOR EACH ROW EXECUTE FUNCTION workitem.clock_alarm();

-- Clocks running when 1.0.0 was updated get their alarm now.
UPDATE workitem.sla_clock SET state = state WHERE state = 'running';
