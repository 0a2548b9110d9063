------------------------------------------------------------------------
-- The enforcement trigger
------------------------------------------------------------------------
CREATE FUNCTION workitem.enforce_transition() RETURNS trigger
    AS 'MODULE_PATHNAME', 'workitem_enforce_transition'
    LANGUAGE C;

-- Named to sort last: BEFORE triggers fire in name order, and the checks
-- must see the row as any other BEFORE trigger left it.
CREATE TRIGGER zz_workitem_enforce
    BEFORE INSERT OR UPDATE OR DELETE ON workitem.item
    FOR EACH ROW EXECUTE FUNCTION workitem.enforce_transition();

------------------------------------------------------------------------
-- Rules, readable by a UI (from the same compiled table as the trigger)
------------------------------------------------------------------------
CREATE FUNCTION workitem.can_transition(kind workitem.kind, from_status workitem.status,
                                        to_status workitem.status)
    RETURNS boolean
    AS 'MODULE_PATHNAME', 'workitem_can_transition'
    LANGUAGE C STABLE STRICT PARALLEL SAFE;

CREATE FUNCTION workitem.next_statuses(kind workitem.kind, from_status workitem.status)
    RETURNS SETOF workitem.status
    AS 'MODULE_PATHNAME', 'workitem_next_statuses'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 6;

CREATE FUNCTION workitem.allowed_wait_types(kind workitem.kind)
    RETURNS SETOF workitem.wait_type
    AS 'MODULE_PATHNAME', 'workitem_allowed_wait_types'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 5;

CREATE FUNCTION workitem.allowed_resolutions(kind workitem.kind)
    RETURNS SETOF workitem.resolution
    AS 'MODULE_PATHNAME', 'workitem_allowed_resolutions'
    LANGUAGE C STABLE STRICT PARALLEL SAFE ROWS 10;

CREATE FUNCTION workitem.legacy_status(kind workitem.kind, label text,
                                       OUT status workitem.status,
                                       OUT wait_type workitem.wait_type,
                                       OUT resolution workitem.resolution)
    AS 'MODULE_PATHNAME', 'workitem_legacy_status'
    LANGUAGE C STABLE PARALLEL SAFE;

CREATE FUNCTION workitem.actor() RETURNS text
    AS 'MODULE_PATHNAME', 'workitem_actor'
    LANGUAGE C STABLE PARALLEL SAFE;
-- the actor a plain INSERT of an item carries (Citus evaluates it on the
-- coordinator, whose workitem.actor the worker's trigger cannot see)
ALTER TABLE workitem.item ALTER COLUMN change_actor SET DEFAULT workitem.actor();

------------------------------------------------------------------------
-- Operations: thin C wrappers that lock the row and UPDATE it; the rules
-- live in the trigger. Each returns the updated item.
------------------------------------------------------------------------
CREATE FUNCTION workitem.create_ticket(title text DEFAULT NULL, description text DEFAULT NULL,
                                       category text DEFAULT NULL, primary_contact text DEFAULT NULL,
                                       requester text DEFAULT NULL, priority text DEFAULT NULL,
                                       submit boolean DEFAULT false)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_create_ticket'
    LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.create_case(title text, description text DEFAULT NULL,
                                     category text DEFAULT NULL, priority text DEFAULT NULL,
                                     submit boolean DEFAULT false)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_create_case'
    LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.submit(id bigint) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_submit' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.start(id bigint, resource text DEFAULT NULL) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_start' LANGUAGE C VOLATILE;

-- reassigning work in progress puts it back to to_do: the reason is logged
CREATE FUNCTION workitem.assign(id bigint, resource text, reason text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_assign' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.unassign(id bigint, reason text DEFAULT NULL) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_unassign' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.wait_more_info(id bigint, days integer DEFAULT NULL,
                                        close_if_no_reply boolean DEFAULT false,
                                        reason text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_wait_more_info' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.wait_until(id bigint, at timestamptz, reason text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_wait_until' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.pause(id bigint, reason text) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_pause' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.resume(id bigint) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_resume' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.resolve(id bigint, resolution workitem.resolution, note text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_resolve' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.reopen(id bigint, reason text DEFAULT NULL) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_reopen' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.close(id bigint) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_close' LANGUAGE C VOLATILE;

CREATE FUNCTION workitem.cancel(id bigint, reason text) RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_cancel' LANGUAGE C VOLATILE;

-- history() reads the view workitem.activity_log, not workitem.event, on
-- which its callers have no privilege (same rows, same order).
CREATE FUNCTION workitem.history(id bigint)
    RETURNS SETOF workitem.event
    LANGUAGE plpgsql STABLE
    SET search_path = pg_catalog, pg_temp
    -- plpgsql, not sql: Citus plans no parameterized SQL function over a
    -- distributed table. On Citus, the tenant the session named first (one
    -- shard; every item has its created row), then every shard.
    AS $$
DECLARE
    t text := workitem.routed_tenant();
BEGIN
    -- In order: by id within each node's range of ids (id >> 48; on one
    -- node one range, and this is the order of ids), the ranges interleaved
    -- by time: a tenant moved to another node (Citus) logs its next moves
    -- with that node's ids, which may be lower. A row's key is the latest
    -- time up to it in its range, so that a move made after waiting for
    -- another's lock (an earlier now()) stays after it. Materialized: on
    -- Citus the rows are read on the workers, ordered on the coordinator.
    IF t IS NOT NULL THEN
        RETURN QUERY
        WITH h AS MATERIALIZED (
            SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
                   e.old_value, e.new_value, e.reason, e.tenant
            FROM workitem.activity_log e
            WHERE e.item_id OPERATOR(pg_catalog.=) history.id AND e.tenant OPERATOR(pg_catalog.=) t)
        SELECT h.* FROM h
        ORDER BY pg_catalog.max(h.at) OVER (PARTITION BY h.id OPERATOR(pg_catalog.>>) 48 ORDER BY h.id), h.id;
        IF FOUND THEN
            RETURN;
        END IF;
    END IF;
    RETURN QUERY
    WITH h AS MATERIALIZED (
        SELECT e.id, e.item_id, e.source, e.row_key, e.at, e.actor, e.what,
               e.old_value, e.new_value, e.reason, e.tenant
        FROM workitem.activity_log e WHERE e.item_id OPERATOR(pg_catalog.=) history.id)
    SELECT h.* FROM h
    ORDER BY pg_catalog.max(h.at) OVER (PARTITION BY h.id OPERATOR(pg_catalog.>>) 48 ORDER BY h.id), h.id;
END
$$;


------------------------------------------------------------------------
-- Actions: create_action() is a convenience over a plain INSERT. The
-- rules (created in to_do, refused while the case waits, is resolved or
-- closed, unknown case) live in the C trigger, so both are held to the
-- same checks; only the NULL case is caught by the function (C,
-- src/operations.c), to say which argument.
------------------------------------------------------------------------
CREATE FUNCTION workitem.create_action(case_id bigint, title text,
                                       description text DEFAULT NULL,
                                       assignee text DEFAULT NULL,
                                       priority text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_create_action' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.create_action(bigint, text, text, text, text) IS
    'Inserts an action of a case, in to_do; returns the new item.';
