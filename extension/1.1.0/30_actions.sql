
------------------------------------------------------------------------
-- Actions: create_action() is a convenience over a plain INSERT. The
-- rules (created in to_do, refused while the case waits, is resolved or
-- closed, unknown case) live in the C trigger, so both are held to the
-- same checks; only the NULL case is caught here, to say which argument.
------------------------------------------------------------------------
CREATE FUNCTION workitem.create_action(case_id bigint, title text,
                                       description text DEFAULT NULL,
                                       assignee text DEFAULT NULL,
                                       priority text DEFAULT NULL)
    RETURNS workitem.item
    LANGUAGE plpgsql VOLATILE
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    result workitem.item;
BEGIN
    IF create_action.case_id IS NULL THEN
        RAISE EXCEPTION 'case_id must not be NULL'
            USING ERRCODE = 'null_value_not_allowed',
                  HINT = 'An action belongs to a case: pass the id of an open case.';
    END IF;
    INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority)
    VALUES ('action'::workitem.kind, create_action.case_id, create_action.title,
            create_action.description, create_action.assignee, create_action.priority)
    RETURNING i.* INTO result;
    RETURN result;
END
$$;
COMMENT ON FUNCTION workitem.create_action(bigint, text, text, text, text) IS
    'Inserts an action of a case, in to_do; returns the new item.';
