/*
 * operations.c: the SQL-callable operations (submit, start, wait, resolve,
 * ...). Each is thin: it locks the item, checks what only the caller's
 * intent can tell (resolving an already resolved item is not a no-op but
 * a refusal), and issues one UPDATE; the trigger holds every other rule,
 * so a plain UPDATE from any client is checked exactly the same way.
 *
 * All SQL here is schema-qualified, operators included, so that no object
 * on the caller's search_path can change what it does.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "moves.h"
#include "workitem.h"

#define MAX_ARGS 10

/* An operation in progress: its item as locked, and its UPDATE's arguments. */
typedef struct OpCall
{
	int64		id;
	Datum		tenant;			/* Citus only: the item's, to route by; else 0 */
	WiKind		kind;
	WiStatus	status;
	bool		assigned;
	int			nargs;
	Oid			types[MAX_ARGS];
	Datum		values[MAX_ARGS];
	char		nulls[MAX_ARGS];
} OpCall;

static void
require_arg(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
}

/*
 * On Citus: the tenant of item id, read without a lock (a query of every
 * shard), so that the statements that lock and change it can be routed to
 * its shard (Citus refuses FOR UPDATE without the distribution column).
 * (Datum) 0 when the item does not exist. SPI must be connected; the text
 * lives in its memory.
 */
static Datum
tenant_from_every_shard(int64 id)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1] = {Int64GetDatum(id)};
	bool		isnull;

	if (wi_execute("SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1",
				   1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading the tenant of item %lld failed", (long long) id);
	if (SPI_processed == 0)
		return (Datum) 0;
	return SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
}

/*
 * On Citus: the tenant of item id, (Datum) 0 when the item does not exist;
 * (Datum) 0 on plain PostgreSQL, with no query. The session's tenant, when
 * it named one, is tried first by a query routed to its one shard; only an
 * item not there is looked for in every shard, so a session whose setting
 * is wrong still reaches it (the same result, more statements). SPI must
 * be connected; the text lives in its memory.
 */
Datum
wi_item_tenant(int64 id)
{
	const char *mine;

	if (!wi_citus())
		return (Datum) 0;
	mine = wi_routed_tenant();
	if (mine != NULL)
	{
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		args[2] = {Int64GetDatum(id), CStringGetTextDatum(mine)};

		if (wi_execute("SELECT 1 FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
					   "AND tenant OPERATOR(pg_catalog.=) $2",
					   2, types, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: reading item %lld failed", (long long) id);
		if (SPI_processed > 0)
			return args[1];
	}
	return tenant_from_every_shard(id);
}

/* Lock item op->id (Citus: in tenant op->tenant); whether it is there. */
static bool
lock_item(OpCall *op)
{
	Oid			argtypes[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(op->id), op->tenant};
	char		nulls[2] = {' ', op->tenant ? ' ' : 'n'};
	int			ret;

	ret = wi_execute("SELECT kind, status, assignee IS NOT NULL "
					 "FROM workitem.item "
					 "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $2}} FOR UPDATE",
					 2, argtypes, args, nulls, false, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking item failed: %s", SPI_result_code_string(ret));
	return SPI_processed > 0;
}

/* Connect to SPI and lock the item; $1 of the UPDATE is its id. */
static void
op_begin(OpCall *op, FunctionCallInfo fcinfo)
{
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	bool		found = false;
	const char *mine;

	require_arg(fcinfo, 0, "item id");
	op->id = PG_GETARG_INT64(0);
	op->tenant = (Datum) 0;

	SPI_connect();
	if (!wi_citus())
		found = lock_item(op);
	else
	{
		/*
		 * Citus: locked at once in the tenant the session named (one shard,
		 * one statement); an item not there, or no tenant named, is looked
		 * up in every shard first, then locked in its own.
		 */
		if ((mine = wi_routed_tenant()) != NULL)
		{
			op->tenant = CStringGetTextDatum(mine);
			found = lock_item(op);
		}
		if (!found && (op->tenant = tenant_from_every_shard(op->id)) != (Datum) 0)
			found = lock_item(op);
	}
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld does not exist", (long long) op->id)));
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	op->kind = wi_enum_index(WI_ENUM_KIND, SPI_getbinval(t, d, 1, &isnull));
	op->status = wi_enum_index(WI_ENUM_STATUS, SPI_getbinval(t, d, 2, &isnull));
	op->assigned = DatumGetBool(SPI_getbinval(t, d, 3, &isnull));

	op->nargs = 1;
	op->types[0] = INT8OID;
	op->values[0] = Int64GetDatum(op->id);
	op->nulls[0] = ' ';
}

/*
 * Resolving an action may move its case (unable_to_complete puts the case
 * back to to_do), while cancelling a case closes its actions: the case row
 * is locked before the action's, in the order cancel() takes them, or the
 * two would deadlock. An action's case_id never changes, so reading it
 * without a lock first is safe. Leaves SPI as it found it.
 */
static void
lock_case_of_action(FunctionCallInfo fcinfo)
{
	Oid			argtypes[1] = {INT8OID};
	Datum		args[1];

	if (PG_ARGISNULL(0))
		return;
	args[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	if (wi_citus())
	{
		/*
		 * routed: the action's case and tenant first (in the session's
		 * tenant when it named one, else or when not there in every
		 * shard), then the case's lock
		 */
		Oid			types[2] = {INT8OID, TEXTOID};
		Datum		v[2];
		bool		isnull;
		const char *mine = wi_routed_tenant();

		SPI_processed = 0;
		if (mine != NULL)
		{
			v[0] = args[0];
			v[1] = CStringGetTextDatum(mine);
			if (wi_execute("SELECT case_id, tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
						   "AND tenant OPERATOR(pg_catalog.=) $2",
						   2, types, v, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "workitem: reading item %lld failed", (long long) DatumGetInt64(args[0]));
		}
		if (SPI_processed == 0 &&
			wi_execute("SELECT case_id, tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1",
					   1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: reading item %lld failed", (long long) DatumGetInt64(args[0]));
		if (SPI_processed == 0 ||
			(v[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull), isnull))
		{
			SPI_finish();
			return;
		}
		v[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull);
		if (wi_execute("SELECT 1 FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
					   "AND tenant OPERATOR(pg_catalog.=) $2 FOR NO KEY UPDATE",
					   2, types, v, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: locking the case of item %lld failed",
				 (long long) DatumGetInt64(args[0]));
		SPI_finish();
		return;
	}
	if (wi_execute("SELECT 1 FROM workitem.item c "
							  "WHERE c.id OPERATOR(pg_catalog.=) (SELECT a.case_id FROM workitem.item a "
							  " WHERE a.id OPERATOR(pg_catalog.=) $1) "
							  "FOR NO KEY UPDATE OF c",
							  1, argtypes, args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking the case of item %lld failed",
			 (long long) DatumGetInt64(args[0]));
	SPI_finish();
}

/* Add $n to the UPDATE from argument argno of the call (NULL allowed). */
static void
op_arg(OpCall *op, FunctionCallInfo fcinfo, int argno, Oid type)
{
	Assert(op->nargs < MAX_ARGS);
	op->types[op->nargs] = type;
	op->values[op->nargs] = PG_ARGISNULL(argno) ? (Datum) 0 : PG_GETARG_DATUM(argno);
	op->nulls[op->nargs] = PG_ARGISNULL(argno) ? 'n' : ' ';
	op->nargs++;
}

static void
op_value(OpCall *op, Oid type, Datum value, bool isnull)
{
	Assert(op->nargs < MAX_ARGS);
	op->types[op->nargs] = type;
	op->values[op->nargs] = value;
	op->nulls[op->nargs] = isnull ? 'n' : ' ';
	op->nargs++;
}

/*
 * Citus: the move the trigger made on the worker, notified here, at the
 * coordinator's commit (src/notify.c). The same payload as the trigger's:
 * where both send it (a session on the node of the shard), PostgreSQL
 * sends one.
 */
static void
notify_from_coordinator(int64 id, const char *from, HeapTuple row, TupleDesc desc)
{
	char	   *to = SPI_getvalue(row, desc, SPI_fnumber(desc, "status"));

	wi_notify_move(id, NULL, NULL, from, to, NULL, NULL, wi_actor());
}

/* UPDATE the item with the given SET list and return the new row. */
static Datum
op_update(OpCall *op, const char *set)
{
	char	   *sql;
	int			ret;
	Datum		result;

	/*
	 * Citus: routed by the tenant, and the actor carried in the row (the
	 * worker's trigger cannot see this session's workitem.actor); the two
	 * last arguments, unused on plain PostgreSQL.
	 */
	op_value(op, TEXTOID, op->tenant, op->tenant == (Datum) 0);
	op_value(op, TEXTOID, op->tenant ? CStringGetTextDatum(wi_actor()) : (Datum) 0, op->tenant == (Datum) 0);
	sql = psprintf("UPDATE workitem.item SET %s{{, change_actor = $%d}} "
				   "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $%d}} RETURNING *",
				   set, op->nargs, op->nargs - 1);

	ret = wi_execute(sql, op->nargs, op->types, op->values, op->nulls, false, 1);
	if (ret != SPI_OK_UPDATE_RETURNING || SPI_processed != 1)
		elog(ERROR, "workitem: updating item %lld failed: %s",
			 (long long) op->id, SPI_result_code_string(ret));
	if (op->tenant)
		notify_from_coordinator(op->id, wi_enum_label(WI_ENUM_STATUS, op->status),
								SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	if (op->tenant)
		wi_notify_worker_moves(op->tenant);	/* the engine's moves on the worker */
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(workitem_submit);
Datum
workitem_submit(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	if (op.status != WI_DRAFT)
		wi_refuse_move(op.id, op.kind, op.status, WI_TO_DO, "Only a draft is submitted.");
	PG_RETURN_DATUM(op_update(&op, "status = 'to_do'::workitem.status"));
}

PG_FUNCTION_INFO_V1(workitem_start);
Datum
workitem_start(PG_FUNCTION_ARGS)
{
	OpCall			op;
	char	   *resource;

	op_begin(&op, fcinfo);
	if (op.status != WI_DRAFT && op.status != WI_TO_DO)
		wi_refuse_move(op.id, op.kind, op.status, WI_IN_PROGRESS,
					   op.status == WI_WAITING ? "Use workitem.resume() to end a wait." :
					   op.status == WI_RESOLVED ? "Use workitem.reopen() on a resolved item." :
					   "Only a draft or a to_do item is started.");
	resource = PG_ARGISNULL(1) ? wi_actor() : TextDatumGetCString(PG_GETARG_DATUM(1));
	op_value(&op, TEXTOID, CStringGetTextDatum(resource), false);
	PG_RETURN_DATUM(op_update(&op, "status = 'in_progress'::workitem.status, assignee = $2"));
}

PG_FUNCTION_INFO_V1(workitem_assign);
Datum
workitem_assign(PG_FUNCTION_ARGS)
{
	OpCall			op;

	require_arg(fcinfo, 1, "resource");
	op_begin(&op, fcinfo);
	op_arg(&op, fcinfo, 1, TEXTOID);
	/* 1.1.0 added the reason (kept in the log when work in progress goes back) */
	if (PG_NARGS() > 2)
	{
		op_arg(&op, fcinfo, 2, TEXTOID);
		PG_RETURN_DATUM(op_update(&op, "assignee = $2, change_reason = $3"));
	}
	PG_RETURN_DATUM(op_update(&op, "assignee = $2"));
}

PG_FUNCTION_INFO_V1(workitem_unassign);
Datum
workitem_unassign(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	if (!op.assigned)
		ereport(ERROR,
				(errcode(ERRCODE_WI_NO_ASSIGNEE),
				 errmsg("item %lld has no assignee to remove", (long long) op.id)));
	op_arg(&op, fcinfo, 1, TEXTOID);
	PG_RETURN_DATUM(op_update(&op, "assignee = NULL, change_reason = $2"));
}

PG_FUNCTION_INFO_V1(workitem_wait_more_info);
Datum
workitem_wait_more_info(PG_FUNCTION_ARGS)
{
	OpCall			op;

	if (!PG_ARGISNULL(1) && PG_GETARG_INT32(1) < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("days to wait must be at least 1, not %d", PG_GETARG_INT32(1))));
	op_begin(&op, fcinfo);
	op_arg(&op, fcinfo, 1, INT4OID);
	op_value(&op, BOOLOID, PG_ARGISNULL(2) ? BoolGetDatum(false) : PG_GETARG_DATUM(2), false);
	op_arg(&op, fcinfo, 3, TEXTOID);
	PG_RETURN_DATUM(op_update(&op,
							  "status = 'waiting'::workitem.status, "
							  "wait_type = 'more_info'::workitem.wait_type, "
							  "wait_until = pg_catalog.now() OPERATOR(pg_catalog.+) "
							  "pg_catalog.make_interval(days => $2), "
							  "close_if_no_reply = $3, wait_reason = $4, change_reason = $4"));
}

PG_FUNCTION_INFO_V1(workitem_wait_until);
Datum
workitem_wait_until(PG_FUNCTION_ARGS)
{
	OpCall			op;

	require_arg(fcinfo, 1, "follow-up time");
	op_begin(&op, fcinfo);
	op_arg(&op, fcinfo, 1, TIMESTAMPTZOID);
	op_arg(&op, fcinfo, 2, TEXTOID);
	PG_RETURN_DATUM(op_update(&op,
							  "status = 'waiting'::workitem.status, "
							  "wait_type = 'follow_up'::workitem.wait_type, "
							  "wait_until = $2, close_if_no_reply = false, "
							  "wait_reason = $3, change_reason = $3"));
}

PG_FUNCTION_INFO_V1(workitem_pause);
Datum
workitem_pause(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	op_arg(&op, fcinfo, 1, TEXTOID);
	PG_RETURN_DATUM(op_update(&op,
							  "status = 'waiting'::workitem.status, "
							  "wait_type = 'paused'::workitem.wait_type, "
							  "wait_until = NULL, close_if_no_reply = false, "
							  "wait_reason = $2, change_reason = $2"));
}

PG_FUNCTION_INFO_V1(workitem_resume);
Datum
workitem_resume(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	if (op.status != WI_WAITING)
		wi_refuse_move(op.id, op.kind, op.status,
					   op.assigned ? WI_IN_PROGRESS : WI_TO_DO,
					   "Only a waiting item is resumed.");
	PG_RETURN_DATUM(op_update(&op, WI_BACK_FROM_WAIT));
}

PG_FUNCTION_INFO_V1(workitem_resolve);
Datum
workitem_resolve(PG_FUNCTION_ARGS)
{
	OpCall			op;

	require_arg(fcinfo, 1, "resolution");
	lock_case_of_action(fcinfo);
	op_begin(&op, fcinfo);
	if (op.status == WI_RESOLVED || op.status == WI_CLOSED)
		wi_refuse_move(op.id, op.kind, op.status, WI_RESOLVED,
					   "The item is already resolved.");
	op_arg(&op, fcinfo, 1, wi_enum_typoid(WI_ENUM_RESOLUTION));
	op_arg(&op, fcinfo, 2, TEXTOID);
	PG_RETURN_DATUM(op_update(&op,
							  "status = 'resolved'::workitem.status, "
							  "resolution = $2, resolution_note = $3"));
}

PG_FUNCTION_INFO_V1(workitem_reopen);
Datum
workitem_reopen(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	if (op.status != WI_RESOLVED)
		ereport(ERROR,
				(errcode(ERRCODE_WI_NOT_REOPENABLE),
				 errmsg("item %lld: %s in %s cannot be reopened",
						(long long) op.id, wi_a_kind(op.kind),
						wi_enum_label(WI_ENUM_STATUS, op.status)),
				 errhint(op.status == WI_CLOSED
						 ? "Closed is final: a new message for it starts a follow-up item."
						 : "Only a resolved item is reopened.")));
	op_arg(&op, fcinfo, 1, TEXTOID);
	PG_RETURN_DATUM(op_update(&op, WI_BACK_FROM_WAIT ", change_reason = $2"));
}

PG_FUNCTION_INFO_V1(workitem_close);
Datum
workitem_close(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	if (op.status != WI_RESOLVED)
		wi_refuse_move(op.id, op.kind, op.status, WI_CLOSED,
					   "close() ends the feedback window of a resolved item; "
					   "resolve as spam or unknown_sender, or cancel a case, to close other work.");
	PG_RETURN_DATUM(op_update(&op, "status = 'closed'::workitem.status"));
}

PG_FUNCTION_INFO_V1(workitem_cancel);
Datum
workitem_cancel(PG_FUNCTION_ARGS)
{
	OpCall			op;

	op_begin(&op, fcinfo);
	/*
	 * Cancelling an item that is already closed (say, an action its case's
	 * cancelling closed) is refused, with or without a reason: with no
	 * reason the UPDATE would change no column of a cancelled item, and the
	 * trigger would let it pass.
	 */
	if (op.status == WI_CLOSED)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_CLOSED),
				 errmsg("item %lld: a closed %s cannot be cancelled",
						(long long) op.id, wi_enum_label(WI_ENUM_KIND, op.kind)),
				 errhint("Closed is final.")));
	op_arg(&op, fcinfo, 1, TEXTOID);
	PG_RETURN_DATUM(op_update(&op,
							  "status = 'closed'::workitem.status, "
							  "resolution = 'cancelled'::workitem.resolution, "
							  "change_reason = $2"));
}

/* INSERT one item and return it. */
static Datum
create_item(FunctionCallInfo fcinfo, const char *kind, const char *columns,
			int ncols, bool submit)
{
	Oid			types[MAX_ARGS];
	Datum		values[MAX_ARGS];
	char		nulls[MAX_ARGS];
	char	   *sql;
	int			ret;
	Datum		result;

	for (int i = 0; i < ncols; i++)
	{
		types[i] = TEXTOID;
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	/* Citus: the actor in the row, for the worker's trigger (see op_update) */
	types[ncols] = TEXTOID;
	values[ncols] = (Datum) 0;
	nulls[ncols] = 'n';
	sql = psprintf("INSERT INTO workitem.item (kind, status, %s{{, change_actor}}) "
				   "VALUES ('%s'::workitem.kind, '%s'::workitem.status, %s{{, $%d}}) RETURNING *",
				   columns, kind, submit ? "to_do" : "draft",
				   ncols == 6 ? "$1, $2, $3, $4, $5, $6" : "$1, $2, $3, $4", ncols + 1);
	SPI_connect();
	if (wi_citus())
	{
		values[ncols] = CStringGetTextDatum(wi_actor());
		nulls[ncols] = ' ';
	}
	ret = wi_execute(sql, ncols + 1, types, values, nulls, false, 1);
	if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
		elog(ERROR, "workitem: creating a %s failed: %s", kind, SPI_result_code_string(ret));
	if (wi_citus())
	{
		bool		isnull;
		Datum		id = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
									   SPI_fnumber(SPI_tuptable->tupdesc, "id"), &isnull);

		notify_from_coordinator(DatumGetInt64(id), NULL, SPI_tuptable->vals[0], SPI_tuptable->tupdesc);
	}
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	return result;
}

PG_FUNCTION_INFO_V1(workitem_create_ticket);
Datum
workitem_create_ticket(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(create_item(fcinfo, "ticket",
								"title, description, category, primary_contact, requester, priority",
								6, !PG_ARGISNULL(6) && PG_GETARG_BOOL(6)));
}

PG_FUNCTION_INFO_V1(workitem_create_case);
Datum
workitem_create_case(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(create_item(fcinfo, "case", "title, description, category, priority",
								4, !PG_ARGISNULL(4) && PG_GETARG_BOOL(4)));
}

/*
 * workitem.create_action(case_id, title, description, assignee, priority):
 * a convenience over a plain INSERT. The rules (created in to_do, refused
 * while the case waits, is resolved or closed, unknown case) live in the
 * trigger, so both are held to the same checks; only the NULL case is
 * caught here, to say which argument. The action takes its case's tenant.
 */
PG_FUNCTION_INFO_V1(workitem_create_action);
Datum
workitem_create_action(PG_FUNCTION_ARGS)
{
	Oid			types[7] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7];
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("case_id must not be NULL"),
				 errhint("An action belongs to a case: pass the id of an open case.")));
	for (int i = 0; i < 5; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	SPI_connect();
	if (wi_citus())
	{
		/*
		 * The case's tenant read first (Citus refuses a subquery in VALUES;
		 * the session's tenant tried first, see wi_item_tenant), and the
		 * actor carried in the row. An unknown case: the trigger's WI404.
		 */
		Datum		t = wi_item_tenant(DatumGetInt64(values[0]));

		values[5] = t ? t : CStringGetTextDatum(wi_current_tenant());
		values[6] = CStringGetTextDatum(wi_actor());
		nulls[5] = nulls[6] = ' ';
		if (wi_execute("INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority, "
					   "tenant, change_actor) VALUES ('action'::workitem.kind, $1, $2, $3, $4, $5, $6, $7) "
					   "RETURNING *",
					   7, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "workitem: creating an action of case %lld failed",
				 (long long) DatumGetInt64(values[0]));
		result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
		wi_notify_worker_moves(values[5]);	/* the action's move, and its case's */
		SPI_finish();
		PG_RETURN_DATUM(result);
	}
	else if (wi_execute("INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority"
						"[[, tenant]]) VALUES ('action'::workitem.kind, $1, $2, $3, $4, $5"
						"[[, COALESCE((SELECT c.tenant FROM workitem.item c WHERE c.id OPERATOR(pg_catalog.=) $1), "
						"workitem.current_tenant())]]) RETURNING *",
						5, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: creating an action of case %lld failed",
			 (long long) DatumGetInt64(values[0]));
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
