/*
 * notify.c: apps hear about moves without polling. Every accepted move of
 * an item or of a row of an attached table sends a NOTIFY on the channel
 * "workitem_moves" with a small JSON payload; NOTIFY is transactional, so
 * listeners hear it at commit, and never of a move that was rolled back.
 * workitem.notify = off turns it off (bulk loads).
 *
 * Citus: the triggers run on the workers, in Citus's own connections,
 * whose transactions commit in two phases when a statement writes on two
 * nodes, and PREPARE refuses a transaction that sent a NOTIFY. So nothing
 * is sent there: the payload is kept in the worker's transaction instead,
 * and the operations, which run on the coordinator, take it back in the
 * same transaction (workitem.worker_moves(), on the connection that made
 * the moves) and send it at the coordinator's commit. Plain UPDATEs
 * through the coordinator are not heard (README, "Scale out with Citus").
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/async.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "nodes/pg_list.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/memutils.h"

#include "workitem.h"

bool		wi_notify = true;

/* Citus: the payloads of this transaction's moves in Citus's connection to this worker */
static List *worker_moves = NIL;
static bool worker_moves_callback = false;

/* per open subtransaction (Citus's savepoints): the list's length at its start */
static List *worker_marks = NIL;

static void
worker_moves_reset(XactEvent event, void *arg)
{
	/* the lists lived in TopTransactionContext */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT || event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
		worker_moves = worker_marks = NIL;
}

/* A rolled back savepoint takes its moves with it. */
static void
worker_moves_subxact(SubXactEvent event, SubTransactionId mySubid, SubTransactionId parentSubid, void *arg)
{
	MemoryContext old;

	switch (event)
	{
		case SUBXACT_EVENT_START_SUB:
			old = MemoryContextSwitchTo(TopTransactionContext);
			worker_marks = lcons_int(list_length(worker_moves), worker_marks);
			MemoryContextSwitchTo(old);
			break;
		case SUBXACT_EVENT_ABORT_SUB:
			if (worker_marks != NIL)
			{
				int			keep = linitial_int(worker_marks);

				if (list_length(worker_moves) > keep)
					worker_moves = list_truncate(worker_moves, keep);
				worker_marks = list_delete_first(worker_marks);
			}
			break;
		case SUBXACT_EVENT_COMMIT_SUB:
			if (worker_marks != NIL)
				worker_marks = list_delete_first(worker_marks);
			break;
		default:
			break;
	}
}

/* Long texts are cut, so that the payload stays far below NOTIFY's 8000 bytes. */
#define WI_NOTIFY_FIELD_MAX 256

static void
add_field(StringInfo buf, const char *name, const char *value)
{
	char	   *v;

	if (value == NULL)
	{
		appendStringInfo(buf, ", \"%s\": null", name);
		return;
	}
	v = pstrdup(value);
	if (strlen(v) > WI_NOTIFY_FIELD_MAX)
		v[pg_mbcliplen(v, strlen(v), WI_NOTIFY_FIELD_MAX)] = '\0';
	appendStringInfo(buf, ", \"%s\": ", name);
	escape_json(buf, v);
}

/*
 * item: the item (table NULL), or the attached table and the row's key.
 * from NULL: created; to NULL: deleted. Labels: the table's own, or NULL.
 */
void
wi_notify_move(int64 item, const char *table, const char *key, const char *from, const char *to,
			   const char *from_label, const char *to_label, const char *actor)
{
	StringInfoData buf;

	if (!wi_notify)
		return;
	if (table == NULL && from != NULL && to != NULL && strcmp(from, to) == 0)
		return;					/* an item's update that is no move */
	initStringInfo(&buf);
	if (table == NULL)
		appendStringInfo(&buf, "{\"item\": " INT64_FORMAT, item);
	else
	{
		appendStringInfoString(&buf, "{\"table\": ");
		escape_json(&buf, table);
		add_field(&buf, "key", key);
	}
	add_field(&buf, "from", from);
	add_field(&buf, "to", to);
	if (table != NULL && (from_label != NULL || to_label != NULL))
	{
		add_field(&buf, "from_label", from_label);
		add_field(&buf, "to_label", to_label);
	}
	add_field(&buf, "actor", actor);
	appendStringInfoChar(&buf, '}');
	if (wi_citus_internal() && wi_citus())
	{
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		if (!worker_moves_callback)
		{
			RegisterXactCallback(worker_moves_reset, NULL);
			RegisterSubXactCallback(worker_moves_subxact, NULL);
			worker_moves_callback = true;
			/* the first move of this backend: the open savepoints began with none */
			for (int level = GetCurrentTransactionNestLevel(); level > 1; level--)
				worker_marks = lcons_int(0, worker_marks);
		}
		worker_moves = lappend(worker_moves, pstrdup(buf.data));
		MemoryContextSwitchTo(old);
	}
	else
		Async_Notify(WI_NOTIFY_CHANNEL, buf.data);
	pfree(buf.data);
}

/*
 * workitem.worker_moves(): the payloads kept so far in this transaction
 * (and forgotten: each is taken once); empty outside Citus's connections.
 */
PG_FUNCTION_INFO_V1(workitem_worker_moves);
Datum
workitem_worker_moves(PG_FUNCTION_ARGS)
{
	int			n = list_length(worker_moves),
				i = 0;
	Datum	   *elems = palloc(sizeof(Datum) * Max(n, 1));
	ListCell   *lc;

	foreach(lc, worker_moves)
		elems[i++] = CStringGetTextDatum((char *) lfirst(lc));
	list_free_deep(worker_moves);
	worker_moves = NIL;
	PG_RETURN_ARRAYTYPE_P(construct_array(elems, n, TEXTOID, -1, false, TYPALIGN_INT));
}

/*
 * Citus, on the coordinator: send the moves that the statements of this
 * transaction made on the worker of tenant (the engine's too: a case's
 * actions closed, a ticket woken...). The routed query goes on the
 * connection that wrote there, which Citus keeps for the transaction.
 * Nothing on plain PostgreSQL (callers test wi_citus() first).
 */
void
wi_notify_worker_moves(Datum tenant)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {tenant};
	bool		isnull;
	Datum		d;

	if (!wi_notify || tenant == (Datum) 0 || !wi_citus() || wi_citus_internal())
		return;
	SPI_connect();
	if (wi_execute("SELECT workitem.worker_moves() FROM workitem.item"
				   " WHERE tenant OPERATOR(pg_catalog.=) $1 LIMIT 1",
				   1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading the moves made on the worker failed");
	if (SPI_processed == 1 &&
		!(d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), isnull))
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		deconstruct_array(DatumGetArrayTypeP(d), TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
		for (int i = 0; i < n; i++)
			if (!nulls[i])
				Async_Notify(WI_NOTIFY_CHANNEL, TextDatumGetCString(elems[i]));
	}
	SPI_finish();
}
