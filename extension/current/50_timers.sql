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
    'Does the time-driven work due by at (at most max_items items); returns how many items it moved or flagged with an SLA alarm, and work timers it stopped at workitem.timer_max_running.';

-- Citus: run_timers() on the coordinator calls this for each tenant with
-- due work; distribute() makes it a distributed function delegated by its
-- tenant, so the work runs on the node of the tenant's shards.
CREATE FUNCTION workitem.run_timers_tenant(tenant text, at timestamptz, max_items integer)
    RETURNS integer AS 'MODULE_PATHNAME', 'workitem_run_timers_tenant'
    LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.run_timers_tenant(text, timestamptz, integer) IS
    'Citus: run_timers() for one tenant, on the node of its shards (run_timers() calls it); refused on plain PostgreSQL.';

-- Split parents, found without a scan of all waiting items.
CREATE INDEX item_split_wait_idx ON workitem.item (id)
    WHERE status = 'waiting' AND wait_type = 'split';
