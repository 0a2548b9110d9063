-- The PL/pgSQL trigger a user would otherwise write: the same status-graph
-- check and the same event row as workitem.enforce_attached(). Baseline of
-- bench/attach.sh; not part of the extension.
CREATE OR REPLACE FUNCTION public.plpgsql_enforce() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT workitem.can_transition('ticket', OLD.status::workitem.status, NEW.status::workitem.status) THEN
            RAISE EXCEPTION 'row %: cannot move from % to %', OLD.id, OLD.status, NEW.status
                USING ERRCODE = 'WI001';
        END IF;
        INSERT INTO workitem.event (item_id, source, row_key, actor, what, old_value, new_value)
        VALUES (NULL, TG_RELID, OLD.id::text, workitem.actor(), 'status', OLD.status, NEW.status);
    END IF;
    RETURN NEW;
END $$;
