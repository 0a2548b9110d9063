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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/memutils.h"

#include "moves.h"
#include "workitem.h"

#define MAX_ARGS 12

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
 * Finding item id, the one place the operations do it: on Citus a
 * statement is routed to one shard by the tenant, which the caller does
 * not know (and FOR UPDATE is refused without it).
 *
 * read: a statement on workitem.item by "id OPERATOR(pg_catalog.=) $1{{ AND
 * tenant OPERATOR(pg_catalog.=) $2}}" (locking or not), its row left in
 * SPI_tuptable; NULL to find the tenant alone. anywhere, for a read that
 * locks nothing: the same read by id alone, with the tenant as its last
 * column, so that one query of every shard both finds and reads the item.
 *
 * Plain PostgreSQL: read, once, by id (no query when read is NULL, which
 * then finds nothing). Citus: in tenant first when the caller gives one
 * (already found in this transaction), else in the session's when it named
 * one (one statement, one shard); an item not there, or none named:
 * anywhere in every shard, or for a locking read the tenant from every
 * shard (unlocked), then read in it. A session whose setting is wrong
 * still reaches the item (the same result, more statements).
 *
 * *tenant: the item's tenant on Citus, (Datum) 0 on plain PostgreSQL or
 * when not found. SPI must be connected; what is read lives in its memory.
 */
static bool
find_item(int64 id, const char *read, const char *anywhere, Datum tenant_first, Datum *tenant)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2] = {Int64GetDatum(id), (Datum) 0};
	char		nulls[2] = {' ', 'n'};
	bool		lock = read != NULL && anywhere == NULL;
	const char *mine;
	bool		isnull;

	*tenant = (Datum) 0;
	if (!wi_citus())
	{
		if (read == NULL)
			return false;
		if (wi_execute(read, 1, types, args, NULL, !lock, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: reading item %lld failed", (long long) id);
		return SPI_processed > 0;
	}
	if (tenant_first != (Datum) 0 || (mine = wi_routed_tenant()) != NULL)
	{
		args[1] = tenant_first ? tenant_first : CStringGetTextDatum(mine);
		nulls[1] = ' ';
		if (wi_execute(read ? read : "SELECT 1 FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
					   "AND tenant OPERATOR(pg_catalog.=) $2",
					   2, types, args, nulls, !lock, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: reading item %lld failed", (long long) id);
		if (SPI_processed > 0)
		{
			*tenant = args[1];
			return true;
		}
	}
	/* every shard, unlocked */
	if (wi_execute(anywhere ? anywhere : "SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1",
				   1, types, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading the tenant of item %lld failed", (long long) id);
	if (SPI_processed == 0)
		return false;
	args[1] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc,
							SPI_tuptable->tupdesc->natts, &isnull);
	if (!lock)
	{
		*tenant = args[1];
		return true;
	}
	nulls[1] = ' ';
	if (wi_execute(read, 2, types, args, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking item %lld failed", (long long) id);
	if (SPI_processed == 0)
		return false;			/* moved to another tenant since: not the caller's item any more */
	*tenant = args[1];
	return true;
}

/*
 * On Citus: the tenant of item id, (Datum) 0 when the item does not exist;
 * (Datum) 0 on plain PostgreSQL, with no query (see find_item). SPI must
 * be connected; the text lives in its memory.
 */
Datum
wi_item_tenant(int64 id)
{
	Datum		tenant;

	(void) find_item(id, NULL, NULL, (Datum) 0, &tenant);
	return tenant;
}

/*
 * Connect to SPI and lock the item; $1 of the UPDATE is its id. Citus:
 * tenant_first, when not 0, is where to look first (see find_item).
 */
static void
op_begin_in(OpCall *op, FunctionCallInfo fcinfo, Datum tenant_first)
{
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;

	require_arg(fcinfo, 0, "item id");
	op->id = PG_GETARG_INT64(0);

	SPI_connect();
	if (!find_item(op->id,
				   "SELECT kind, status, assignee IS NOT NULL FROM workitem.item "
				   "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $2}} FOR UPDATE",
				   NULL, tenant_first, &op->tenant))
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

static void
op_begin(OpCall *op, FunctionCallInfo fcinfo)
{
	op_begin_in(op, fcinfo, (Datum) 0);
}

/*
 * Resolving an action may move its case (unable_to_complete puts the case
 * back to to_do), while cancelling a case closes its actions: the case row
 * is locked before the action's, in the order cancel() takes them, or the
 * two would deadlock. An action's case_id never changes, so reading it
 * without a lock first is safe. Leaves SPI as it found it. Citus: returns
 * the item's tenant (in the caller's memory), for op_begin_in() to lock
 * it in at once; (Datum) 0 otherwise.
 */
static Datum
lock_case_of_action(FunctionCallInfo fcinfo)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		args[2];
	Datum		tenant = (Datum) 0;
	bool		isnull;

	if (PG_ARGISNULL(0))
		return (Datum) 0;
	args[0] = PG_GETARG_DATUM(0);
	SPI_connect();
	if (!wi_citus())
	{
		/* one statement: the case found and locked by the action's id */
		if (wi_execute("SELECT 1 FROM workitem.item c "
					   "WHERE c.id OPERATOR(pg_catalog.=) (SELECT a.case_id FROM workitem.item a "
					   " WHERE a.id OPERATOR(pg_catalog.=) $1) "
					   "FOR NO KEY UPDATE OF c",
					   1, types, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: locking the case of item %lld failed",
				 (long long) DatumGetInt64(args[0]));
	}
	else if (find_item(DatumGetInt64(args[0]),
					   "SELECT case_id, tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
					   "AND tenant OPERATOR(pg_catalog.=) $2",
					   "SELECT case_id, tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1",
					   (Datum) 0, &args[1]))
	{
		tenant = SPI_datumTransfer(args[1], false, -1);
		args[0] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		/* Citus: the case (none for a ticket) is in the action's tenant (WI023 otherwise) */
		if (!isnull && wi_execute("SELECT 1 FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
					   "AND tenant OPERATOR(pg_catalog.=) $2 FOR NO KEY UPDATE",
					   2, types, args, NULL, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: locking case %lld failed", (long long) DatumGetInt64(args[0]));
	}
	SPI_finish();
	return tenant;
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

/*
 * The UPDATE of an operation's SET list (a literal) with nargs arguments,
 * built once per backend: plans.c finds a text at the same address with
 * no rewrite and no hash; a text built per call (psprintf) missed that.
 */
typedef struct UpdateSql
{
	const char *set;
	int			nargs;
	char	   *sql;
} UpdateSql;

static UpdateSql update_sqls[64];
static int	n_update_sqls = 0;

static const char *
update_sql(const char *set, int nargs)
{
	for (int i = 0; i < n_update_sqls; i++)
		if (update_sqls[i].set == set && update_sqls[i].nargs == nargs)
			return update_sqls[i].sql;
	if (n_update_sqls == lengthof(update_sqls))
		elog(ERROR, "workitem: more UPDATE statements than op_update() keeps");
	update_sqls[n_update_sqls].sql =
		MemoryContextStrdup(TopMemoryContext,
							psprintf("UPDATE workitem.item SET %s{{, change_actor = $%d, change_at = $%d}} "
									 "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $%d}} RETURNING *",
									 set, nargs - 1, nargs, nargs - 2));
	update_sqls[n_update_sqls].set = set;
	update_sqls[n_update_sqls].nargs = nargs;
	return update_sqls[n_update_sqls++].sql;
}

/* UPDATE the item with the given SET list (a literal) and return the new row. */
static Datum
op_update(OpCall *op, const char *set)
{
	const char *sql;
	int			ret;
	Datum		result;

	/*
	 * Citus: routed by the tenant, and the actor and this transaction's
	 * now() carried in the row (the worker's trigger sees neither this
	 * session's workitem.actor nor its clock); the three last arguments,
	 * bound only there (plain PostgreSQL's statement drops the {{...}}
	 * that name them).
	 */
	if (op->tenant)
	{
		op_value(op, TEXTOID, op->tenant, false);
		op_value(op, TEXTOID, CStringGetTextDatum(wi_actor()), false);
		op_value(op, TIMESTAMPTZOID, TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	}
	sql = update_sql(set, op->nargs);

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
	op_begin_in(&op, fcinfo, lock_case_of_action(fcinfo));
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
	/*
	 * Citus: the actor and now() reach the worker's trigger in the row by
	 * the defaults of change_actor and change_at, evaluated here.
	 */
	sql = psprintf("INSERT INTO workitem.item (kind, status, %s) "
				   "VALUES ('%s'::workitem.kind, '%s'::workitem.status, %s) RETURNING *",
				   columns, kind, submit ? "to_do" : "draft",
				   ncols == 6 ? "$1, $2, $3, $4, $5, $6" : "$1, $2, $3, $4");
	SPI_connect();
	ret = wi_execute(sql, ncols, types, values, nulls, false, 1);
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
 * create_action()'s INSERT, one text: the tenant its case's ($6 on Citus,
 * read first; a subquery on plain PostgreSQL). The actor and now() reach
 * the worker's trigger by the row's defaults, evaluated on the coordinator.
 */
#define ACTION_INSERT(tenant) \
	"INSERT INTO workitem.item AS i (kind, case_id, title, description, assignee, priority" \
	"[[, tenant]]) VALUES ('action'::workitem.kind, $1, $2, $3, $4, $5" \
	"[[, " tenant "]]) RETURNING *"
#define ACTION_TENANT \
	"COALESCE((SELECT c.tenant FROM workitem.item c WHERE c.id OPERATOR(pg_catalog.=) $1), " \
	"workitem.current_tenant())"

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
	Oid			types[6] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[6];
	char		nulls[6];
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
		 * the session's tenant tried first, see find_item). An unknown
		 * case: the trigger's WI404.
		 */
		Datum		t = wi_item_tenant(DatumGetInt64(values[0]));

		values[5] = t ? t : CStringGetTextDatum(wi_current_tenant());
		nulls[5] = ' ';
	}
	if (wi_execute(wi_citus() ? ACTION_INSERT("$6") : ACTION_INSERT(ACTION_TENANT),
				   wi_citus() ? 6 : 5, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: creating an action of case %lld failed",
			 (long long) DatumGetInt64(values[0]));
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	if (wi_citus())
		wi_notify_worker_moves(values[5]);	/* the action's move, and its case's */
	SPI_finish();
	PG_RETURN_DATUM(result);
}
