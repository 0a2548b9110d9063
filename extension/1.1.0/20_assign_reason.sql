-- assign() takes a reason, as unassign() does: reassigning work in
-- progress puts it back to to_do, and the spec keeps the reason.
DROP FUNCTION workitem.assign(bigint, text);
CREATE FUNCTION workitem.assign(id bigint, resource text, reason text DEFAULT NULL)
    RETURNS workitem.item
    AS 'MODULE_PATHNAME', 'workitem_assign' LANGUAGE C VOLATILE;
