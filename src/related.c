/*
 * related.c: the rules of spec section 2 that touch a second item: a case
 * and its actions. They run inside the trigger, in the same transaction
 * as the move that causes them, so no repair job is ever needed.
 *
 * The moves made here are the engine's own (wi_engine_exec, engine.c), so
 * that the trigger lets them set the flags (needs_attention) that a
 * person's move would clear.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"

#include "moves.h"
#include "workitem.h"

/* Citus: the tenant a statement is routed by ($n, {{...}} in the SQL) */
#define TENANT_ARG(t) ((t) ? CStringGetTextDatum(t) : (Datum) 0)

/* Column col of the first row of SPI's result, copied out of SPI's memory. */
static char *
spi_string(int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
	char	   *r = SPI_palloc(strlen(v) + 1);

	strcpy(r, v);
	return r;
}

/*
 * A new action needs an open case: not waiting (spec: "while a case waits,
 * no new action can be created for it"), resolved or closed. The case row
 * is locked so that it cannot start waiting while the action is inserted.
 */
void
wi_check_case_open(int64 action_id, const char *tenant, int64 case_id)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(case_id), TENANT_ARG(tenant)};
	char		nulls[2] = {' ', tenant ? ' ' : 'n'};
	bool		isnull;
	WiKind		kind;
	WiStatus	status;
	char	   *case_tenant;

	/* Citus: looked for in the action's tenant only (a shard's trigger reaches no other) */
	SPI_connect();
	if (wi_execute("SELECT kind, status[[, tenant]] FROM workitem.item "
							  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $2}} FOR SHARE",
							  2, types, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading case %lld failed", (long long) case_id);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("case %lld of the new action does not exist", (long long) case_id)));
	kind = wi_enum_index(WI_ENUM_KIND,
						 SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	status = wi_enum_index(WI_ENUM_STATUS,
						   SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	case_tenant = tenant ? spi_string(3) : NULL;
	SPI_finish();

	if (tenant && strcmp(case_tenant, tenant) != 0)
		wi_refuse_cross_tenant(action_id, tenant, case_id, case_tenant, "an action of case");

	if (kind != WI_CASE)
		ereport(ERROR,
				(errcode(ERRCODE_WI_CASE_NOT_OPEN),
				 errmsg("item %lld is %s, not a case: an action belongs to a case",
						(long long) case_id, wi_a_kind(kind))));
	if (status == WI_WAITING || status == WI_RESOLVED || status == WI_CLOSED)
		ereport(ERROR,
				(errcode(ERRCODE_WI_CASE_NOT_OPEN),
				 errmsg("case %lld is %s: no new action can be created for it",
						(long long) case_id, wi_enum_label(WI_ENUM_STATUS, status)),
				 errhint(status == WI_WAITING ? "Resume the case first." :
						 "Reopen the case first, or start a new one.")));
}

/*
 * An action that could not be completed puts its open case back to to_do
 * with needs_attention and the reason.
 */
void
wi_case_needs_attention(int64 case_id, const char *tenant, const char *reason)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', reason ? ' ' : 'n', tenant ? ' ' : 'n'};

	values[0] = Int64GetDatum(case_id);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	values[2] = TENANT_ARG(tenant);
	SPI_connect();
	/*
	 * A draft case keeps its status: moving it to to_do would submit it,
	 * which is its author's decision, and would fail (and so refuse the
	 * action's resolution) when the draft lacks a title.
	 */
	wi_engine_exec("UPDATE workitem.item SET status = CASE WHEN status OPERATOR(pg_catalog.=) "
				  "'draft'::workitem.status THEN status ELSE 'to_do'::workitem.status END, "
				  "needs_attention = true, attention_reason = $2, change_reason = $2 "
				  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}} "
				  "AND " WI_STILL_OPEN("status"),
				  3, types, values, nulls);
	SPI_finish();
}

/* Cancelling a case closes its open actions as cancelled. */
void
wi_cancel_actions(int64 case_id, const char *tenant, const char *reason)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', reason ? ' ' : 'n', tenant ? ' ' : 'n'};

	values[0] = Int64GetDatum(case_id);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	values[2] = TENANT_ARG(tenant);
	SPI_connect();
	wi_engine_exec("UPDATE workitem.item SET status = 'closed'::workitem.status, "
				  "resolution = 'cancelled'::workitem.resolution, change_reason = $2 "
				  "WHERE case_id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}} "
				  "AND status OPERATOR(pg_catalog.<>) 'closed'::workitem.status",
				  3, types, values, nulls);
	SPI_finish();
}

/* The status and wait type of an item, locked; false when it does not exist. */
static bool
lock_status(int64 id, const char *route, WiKind *kind, WiStatus *status, int *wait_type, char **tenant)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), TENANT_ARG(route)};
	char		nulls[2] = {' ', route ? ' ' : 'n'};
	bool		isnull;
	Datum		w;

	if (wi_execute("SELECT kind, status, wait_type[[, tenant]] FROM workitem.item "
							  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $2}} FOR UPDATE",
							  2, types, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking item %lld failed", (long long) id);
	if (SPI_processed == 0)
		return false;
	*kind = wi_enum_index(WI_ENUM_KIND, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	*status = wi_enum_index(WI_ENUM_STATUS, SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	w = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull);
	*wait_type = isnull ? -1 : wi_enum_index(WI_ENUM_WAIT_TYPE, w);
	if (tenant)
		*tenant = SPI_tuptable->tupdesc->natts >= 4
			? SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 4) : NULL;
	return true;
}

/*
 * A child is done (resolved or closed). A split ticket resolves itself when
 * its last child is done; a ticket that launched a case resolves with
 * "completed" when the case resolves, and comes back highlighted when the
 * case is cancelled. The parent is locked before the siblings are counted,
 * so two children finishing at once cannot both miss the last one.
 */
void
wi_child_done(int64 parent_id, const char *tenant, int64 child_id, WiKind child_kind, WiResolution r)
{
	WiKind		kind;
	WiStatus	status;
	int			wait_type;
	Oid			types[3] = {INT8OID, INT8OID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(parent_id), Int64GetDatum(child_id), TENANT_ARG(tenant)};
	char		nulls[3] = {' ', ' ', tenant ? ' ' : 'n'};
	bool		isnull;

	SPI_connect();
	if (!lock_status(parent_id, tenant, &kind, &status, &wait_type, NULL) || status != WI_WAITING)
	{
		SPI_finish();
		return;
	}
	if (wait_type == WI_SPLIT && child_kind == WI_TICKET)
	{
		if (wi_execute("SELECT pg_catalog.count(*) FROM workitem.item "
								  "WHERE parent_id OPERATOR(pg_catalog.=) $1 "
								  "AND id OPERATOR(pg_catalog.<>) $2{{ AND tenant OPERATOR(pg_catalog.=) $3}} "
								  "AND " WI_STILL_OPEN("status"),
								  3, types, values, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: counting split tickets failed");
		if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) == 0)
			wi_engine_exec("UPDATE workitem.item SET " WI_SPLIT_DONE_SET ", "
							 "change_reason = '" WI_SPLIT_DONE_REASON "' "
							 "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}}",
							 3, types, values, nulls);
	}
	else if (wait_type == WI_CASE_LAUNCHED && child_kind == WI_CASE)
	{
		if (r == WI_CANCELLED)
			wi_engine_exec("UPDATE workitem.item SET " WI_WAKE_SET ", "
							 "change_reason = 'the launched case was cancelled' "
							 "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}}",
							 3, types, values, nulls);
		else
			wi_engine_exec("UPDATE workitem.item SET status = 'resolved'::workitem.status, "
							 "resolution = 'completed'::workitem.resolution, "
							 "change_reason = 'the launched case is resolved' "
							 "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}}",
							 3, types, values, nulls);
	}
	SPI_finish();
}

/*
 * merged_into must name another open ticket or case, and following the
 * target's own merged_into links must not lead back (no cycle).
 */
void
wi_check_merge_target(int64 id, const char *tenant, int64 target)
{
	WiKind		kind;
	WiStatus	status;
	int			wait_type;
	Oid			types[3] = {INT8OID, INT8OID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(target), Int64GetDatum(id), TENANT_ARG(tenant)};
	char		nulls[3] = {' ', ' ', tenant ? ' ' : 'n'};
	bool		isnull;
	bool		cycle;
	char	   *target_tenant;

	if (target == id)
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_MERGE),
				 errmsg("item %lld cannot be merged into itself", (long long) id)));
	SPI_connect();
	if (!lock_status(target, tenant, &kind, &status, &wait_type, &target_tenant))
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld, the target of the merge of item %lld, does not exist",
						(long long) target, (long long) id)));
	if (tenant && target_tenant && strcmp(target_tenant, tenant) != 0)
		wi_refuse_cross_tenant(id, tenant, target, target_tenant, "merged into");
	if (kind == WI_ACTION)
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_MERGE),
				 errmsg("item %lld cannot be merged into item %lld: it is an action",
						(long long) id, (long long) target),
				 errhint("Merge into a ticket or a case.")));
	if (status == WI_CLOSED)
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_MERGE),
				 errmsg("item %lld cannot be merged into item %lld: it is closed",
						(long long) id, (long long) target)));
	if (wi_execute("WITH RECURSIVE chain(id) AS ("
							  " SELECT merged_into FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1"
							  "{{ AND tenant OPERATOR(pg_catalog.=) $3}}"
							  " UNION SELECT i.merged_into FROM workitem.item i JOIN chain c"
							  "  ON i.id OPERATOR(pg_catalog.=) c.id{{ AND i.tenant OPERATOR(pg_catalog.=) $3}})"
							  "SELECT EXISTS (SELECT 1 FROM chain WHERE id OPERATOR(pg_catalog.=) $2)",
							  3, types, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: following merges failed");
	cycle = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	if (cycle)
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_MERGE),
				 errmsg("item %lld cannot be merged into item %lld: that would make a cycle",
						(long long) id, (long long) target)));
}

/*
 * Items relate only within a tenant (issue 14): on Citus each tenant's
 * items are in one shard, and every rule between two items stays there.
 */
void
wi_refuse_cross_tenant(int64 id, const char *tenant, int64 other, const char *other_tenant,
					   const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_CROSS_TENANT),
			 errmsg("item %lld of tenant \"%s\" cannot be %s item %lld of tenant \"%s\"",
					(long long) id, tenant, what, (long long) other, other_tenant),
			 errdetail("Items relate only within one tenant."),
			 errhint("Create the item in tenant \"%s\" (SET workitem.tenant).", other_tenant)));
}

/* case_id, parent_id, follows_id: the other item must be of the same tenant. */
void
wi_check_same_tenant(int64 id, const char *tenant, int64 other, const char *column)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(other), CStringGetTextDatum(tenant)};
	char	   *other_tenant = NULL;

	/* Citus: in this tenant only; another tenant's item is the foreign key's error */
	SPI_connect();
	if (wi_execute("SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1"
				   "{{ AND tenant OPERATOR(pg_catalog.=) $2}}",
				   2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading item %lld failed", (long long) other);
	if (SPI_processed > 0)
		other_tenant = spi_string(1);
	SPI_finish();
	/* a missing item is the foreign key's error */
	if (other_tenant != NULL && strcmp(other_tenant, tenant) != 0)
		wi_refuse_cross_tenant(id, tenant, other, other_tenant,
							   strcmp(column, "follows_id") == 0 ? "a follow-up of" :
							   strcmp(column, "parent_id") == 0 ? "a child of" : "linked to case");
}

/* ----------------------------------------------------------------------
 * Operations on two items
 * ---------------------------------------------------------------------- */

static int64
require_id(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_INT64(n);
}

/* Lock a ticket that is about to wait on other work. */
static void
lock_ticket(int64 id, const char *what)
{
	WiKind		kind;
	WiStatus	status;
	int			wait_type;

	if (!lock_status(id, NULL, &kind, &status, &wait_type, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld does not exist", (long long) id)));
	if (kind != WI_TICKET)
		ereport(ERROR,
				(errcode(ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED),
				 errmsg("item %lld is %s: only a ticket can %s", (long long) id,
						wi_a_kind(kind), what)));

	/*
	 * A ticket that already waits on its split tickets or its launched case
	 * cannot start waiting on other work: the engine's own move would end
	 * the first wait, and the ticket would then wait for ever (the children
	 * of the first wait no longer resolve it).
	 */
	if (status == WI_WAITING && (wait_type == WI_SPLIT || wait_type == WI_CASE_LAUNCHED))
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_TRANSITION),
				 errmsg("item %lld cannot %s: it already waits (%s)", (long long) id, what,
						wi_enum_label(WI_ENUM_WAIT_TYPE, wait_type)),
				 errhint(wait_type == WI_SPLIT
						 ? "A split ticket waits until all its children are done."
						 : "A ticket that launched a case waits until the case is done.")));
}

/* Make the engine's wait of a ticket on its children. */
static void
wait_on(int64 id, const char *wait_type, const char *reason)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(reason)};

	wi_engine_exec(psprintf("UPDATE workitem.item SET status = 'waiting'::workitem.status, "
							  "wait_type = '%s'::workitem.wait_type, wait_until = NULL, "
							  "close_if_no_reply = false, wait_reason = $2, change_reason = $2 "
							  "WHERE id OPERATOR(pg_catalog.=) $1", wait_type),
					 2, types, values, NULL);
}

/* Columns a child ticket or a launched case copies from its ticket. */
#define COPIED "description, category, primary_contact, requester, priority"

/* workitem.split(id, titles text[]) returns bigint[]: the child tickets. */
PG_FUNCTION_INFO_V1(workitem_split);
Datum
workitem_split(PG_FUNCTION_ARGS)
{
	int64		id = require_id(fcinfo, 0, "item id");
	Oid			types[2] = {INT8OID, TEXTARRAYOID};
	Datum		values[2];
	bool		isnull;
	Datum		result;
	int			ret;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("titles must not be NULL")));
	values[0] = Int64GetDatum(id);
	values[1] = PG_GETARG_DATUM(1);

	SPI_connect();
	lock_ticket(id, "be split");
	ret = wi_execute("SELECT pg_catalog.count(*), "
								" pg_catalog.count(*) FILTER (WHERE pg_catalog.btrim(COALESCE(t, '')) OPERATOR(pg_catalog.=) '') "
								"FROM pg_catalog.unnest($2) t",
								2, types, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading titles failed");
	if (DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) == 0 ||
		DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull)) > 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: a split needs at least one title, and no empty one",
						(long long) id)));

	wait_on(id, "split", "split into child tickets");
	/* Children are submitted when the parent's fields make them complete. */
	ret = wi_execute("WITH children AS ("
								" INSERT INTO workitem.item (kind, status, parent_id, title, " COPIED "[[, tenant]]) "
								" SELECT 'ticket', CASE WHEN p.description IS NOT NULL AND p.category IS NOT NULL"
								"  AND p.primary_contact IS NOT NULL AND p.requester IS NOT NULL"
								"  THEN 'to_do'::workitem.status ELSE 'draft'::workitem.status END,"
								"  p.id, t.title, p.description, p.category, p.primary_contact, p.requester, p.priority[[, p.tenant]]"
								" FROM workitem.item p, pg_catalog.unnest($2) WITH ORDINALITY AS t(title, n)"
								" WHERE p.id OPERATOR(pg_catalog.=) $1 ORDER BY t.n RETURNING id)"
								"SELECT pg_catalog.array_agg(id ORDER BY id) FROM children",
								2, types, values, NULL, false, 0);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "workitem: creating split tickets failed");
	result = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	result = SPI_datumTransfer(result, false, -1);
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* workitem.launch_case(id, title) returns bigint: the new case. */
PG_FUNCTION_INFO_V1(workitem_launch_case);
Datum
workitem_launch_case(PG_FUNCTION_ARGS)
{
	int64		id = require_id(fcinfo, 0, "item id");
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', PG_ARGISNULL(1) ? 'n' : ' '};
	bool		isnull;
	int64		case_id;

	values[0] = Int64GetDatum(id);
	values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	SPI_connect();
	lock_ticket(id, "launch a case");
	wait_on(id, "case_launched", "case launched");
	if (wi_execute("INSERT INTO workitem.item (kind, status, parent_id, title, " COPIED "[[, tenant]]) "
							  "SELECT 'case', 'to_do', id, $2, " COPIED "[[, tenant]] FROM workitem.item "
							  "WHERE id OPERATOR(pg_catalog.=) $1 RETURNING id",
							  2, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: launching a case failed");
	case_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	PG_RETURN_INT64(case_id);
}

/* workitem.merge(id, into_id) returns the merged (closed) item. */
PG_FUNCTION_INFO_V1(workitem_merge);
Datum
workitem_merge(PG_FUNCTION_ARGS)
{
	int64		id = require_id(fcinfo, 0, "item id");
	int64		into = require_id(fcinfo, 1, "target item id");
	Oid			types[3] = {INT8OID, INT8OID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(id), Int64GetDatum(into), (Datum) 0};
	char		nulls[3] = {' ', ' ', 'n'};
	WiKind		kind;
	WiStatus	status;
	int			wait_type;
	Datum		result;
	const char *route = NULL;	/* Citus: the tenant of both */

	SPI_connect();

	/*
	 * Citus: the two tenants first, unlocked, so that a merge across
	 * tenants is our refusal, not Citus's (the trigger checks it again).
	 */
	if (wi_citus())
	{
		char	   *t1 = NULL;
		char	   *t2 = NULL;

		Datum		d = wi_item_tenant(id);

		if (d)
			t1 = TextDatumGetCString(d);
		d = wi_item_tenant(into);
		if (d)
			t2 = TextDatumGetCString(d);
		if (t1 && t2 && strcmp(t1, t2) != 0)
			wi_refuse_cross_tenant(id, t1, into, t2, "merged into");
		route = t1;
		values[2] = TENANT_ARG(route);
		nulls[2] = route ? ' ' : 'n';
	}

	/*
	 * Lock both items in id order: merge(a, b) and merge(b, a) at the same
	 * time would otherwise each hold one row and wait for the other. The
	 * trigger locks the target when it checks it, after this item: in
	 * order already when the target's id is the higher.
	 */
	if (into < id)
		(void) lock_status(into, route, &kind, &status, &wait_type, NULL);
	if (!lock_status(id, route, &kind, &status, &wait_type, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld does not exist", (long long) id)));
	if (wi_execute("UPDATE workitem.item SET status = 'closed'::workitem.status, "
							  "resolution = 'merged'::workitem.resolution, merged_into = $2, "
							  "change_reason = 'merged into ' OPERATOR(pg_catalog.||) $2::pg_catalog.text "
							  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}} RETURNING *",
							  3, types, values, nulls, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "workitem: merging item %lld failed", (long long) id);
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
