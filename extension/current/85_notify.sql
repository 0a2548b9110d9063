------------------------------------------------------------------------
-- Citus: the NOTIFY of moves made in Citus's connection to a worker
-- (src/notify.c). The trigger there cannot send it (a transaction that
-- wrote on two nodes commits in two phases, and PREPARE refuses one that
-- sent a NOTIFY): it keeps the payload in that transaction, and the
-- operation on the coordinator takes it back and sends it at its commit.
------------------------------------------------------------------------
CREATE FUNCTION workitem.worker_moves() RETURNS text[]
    AS 'MODULE_PATHNAME', 'workitem_worker_moves' LANGUAGE C VOLATILE;
COMMENT ON FUNCTION workitem.worker_moves() IS
    'Citus: the NOTIFY payloads of the moves made so far in this transaction in Citus''s connection to this worker, each returned once (the operations on the coordinator send them); empty elsewhere.';
