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

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "moves.h"
#include "workitem.h"

/* Citus: the tenant a statement is routed by ($n, {{...}} in the SQL) */
#define TENANT_ARG(t) ((t) ? CStringGetTextDatum(t) : (Datum) 0)

/* Column col of the first row of SPI's result, copied out of SPI's memory; NULL for NULL. */
static char *
spi_string(int col)
{
	char	   *v = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, col);
	char	   *r;

	if (v == NULL)
		return NULL;
	r = SPI_palloc(strlen(v) + 1);
	strcpy(r, v);
	return r;
}

/*
 * Citus: the tenant of item id when it is not in tenant mine, else NULL
 * (also when there is no such item). The trigger runs on mine's shard,
 * which is all it reaches by default; this reads every shard, allowing
 * Citus's nested execution for this one read, so that an item of another
 * tenant is refused with WI023 rather than with "not found" or the
 * foreign key's error. Only on that error path: a found item costs nothing.
 * The read on another node runs in a transaction of its own: an item that
 * this (open) transaction wrote there is not seen.
 */
static char *
other_tenant_of(int64 id, const char *mine)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(mine)};
	char	   *found = NULL;
	int			level;

	if (!wi_citus() || mine == NULL)
		return NULL;
	level = NewGUCNestLevel();
	(void) set_config_option("citus.allow_nested_distributed_execution", "on", PGC_USERSET,
							 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	SPI_connect();
	if (wi_execute("SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 "
				   "AND tenant OPERATOR(pg_catalog.<>) $2",
				   2, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading item %lld failed", (long long) id);
	if (SPI_processed > 0)
		found = spi_string(1);
	SPI_finish();
	AtEOXact_GUC(true, level);
	return found;
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
	{
		char	   *other;

		SPI_finish();
		other = other_tenant_of(case_id, tenant);
		if (other)
			wi_refuse_cross_tenant(action_id, tenant, case_id, other, "an action of case");
		/* Citus: other_tenant_of() reads other nodes in a transaction of its own */
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("case %lld of the new action does not exist", (long long) case_id),
				 wi_citus() && tenant ?
				 errdetail("No item %lld in tenant \"%s\", nor committed in another tenant: on Citus, one written in another tenant by this transaction on another node is not visible here.",
						   (long long) case_id, tenant) : 0));
	}
	kind = wi_enum_index(WI_ENUM_KIND,
						 SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	status = wi_enum_index(WI_ENUM_STATUS,
						   SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	case_tenant = tenant && SPI_tuptable->tupdesc->natts >= 3 ? spi_string(3) : NULL;
	SPI_finish();

	if (tenant && case_tenant && strcmp(case_tenant, tenant) != 0)
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
	{
		/* Citus: looked for in this tenant's shard only */
		char	   *other = other_tenant_of(target, tenant);

		if (other)
			wi_refuse_cross_tenant(id, tenant, target, other, "merged into");
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld, the target of the merge of item %lld, does not exist",
						(long long) target, (long long) id)));
	}
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
	/* Citus: not in this tenant's shard; in another one? */
	if (other_tenant == NULL)
		other_tenant = other_tenant_of(other, tenant);
	/* a missing item is the foreign key's error */
	if (other_tenant != NULL && strcmp(other_tenant, tenant) != 0)
		wi_refuse_cross_tenant(id, tenant, other, other_tenant,
							   strcmp(column, "follows_id") == 0 ? "a follow-up of" :
							   strcmp(column, "parent_id") == 0 ? "a child of" : "linked to case");
}

/*
 * Citus: the follow-up ticket of a message on closed item closed_id
 * (src/messages.c, in the message's trigger on the item's shard). Its
 * INSERT ... SELECT would be pulled through a coordinator, out of a shard's
 * reach: the closed item's columns are read first, then one INSERT ...
 * VALUES in its tenant, local to this shard; actor carried in the row.
 */
int64
wi_follow_up_routed(int64 closed_id, const char *tenant, Datum subject, bool subject_null,
					Datum body, bool body_null, const char *actor)
{
	Oid			types[9] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[9] = {Int64GetDatum(closed_id), subject, body, CStringGetTextDatum(tenant),
		CStringGetTextDatum(actor ? actor : wi_actor())};
	char		nulls[9] = {' ', subject_null ? 'n' : ' ', body_null ? 'n' : ' ', ' ', ' '};
	bool		isnull;
	int64		id;

	SPI_connect();
	if (wi_execute("SELECT category, primary_contact, requester, priority FROM workitem.item "
				   "WHERE id OPERATOR(pg_catalog.=) $1 AND tenant OPERATOR(pg_catalog.=) $2",
				   2, (Oid[]) {INT8OID, TEXTOID}, (Datum[]) {values[0], values[3]}, NULL, true, 1) != SPI_OK_SELECT ||
		SPI_processed != 1)
		elog(ERROR, "workitem: reading item %lld failed", (long long) closed_id);
	for (int i = 0; i < 4; i++)
	{
		values[5 + i] = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull);
		nulls[5 + i] = isnull ? 'n' : ' ';
	}
	/* submitted at once when it has what a submission needs (as follow_up_ticket()) */
	wi_engine_exec("INSERT INTO workitem.item (kind, status, follows_id, title, description, "
				   " category, primary_contact, requester, priority, highlighted, tenant, change_actor) "
				   "VALUES ('ticket', CASE WHEN pg_catalog.btrim(COALESCE($2, '')) OPERATOR(pg_catalog.<>) '' "
				   "  AND pg_catalog.btrim(COALESCE($3, '')) OPERATOR(pg_catalog.<>) '' "
				   "  AND pg_catalog.btrim(COALESCE($6, '')) OPERATOR(pg_catalog.<>) '' "
				   "  AND pg_catalog.btrim(COALESCE($7, '')) OPERATOR(pg_catalog.<>) '' "
				   "  AND pg_catalog.btrim(COALESCE($8, '')) OPERATOR(pg_catalog.<>) '' "
				   "  THEN 'to_do'::workitem.status ELSE 'draft'::workitem.status END, "
				   " $1, $2, $3, $6, $7, $8, $9, true, $4, $5) RETURNING id",
				   9, types, values, nulls);
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return id;
}

/* ----------------------------------------------------------------------
 * Operations on two items
 * ---------------------------------------------------------------------- */

/* Citus: the tenant of item id (NULL when none, and on plain PostgreSQL). */
static const char *
tenant_of(int64 id)
{
	Datum		t = wi_item_tenant(id);

	return t ? TextDatumGetCString(t) : NULL;
}

static int64
require_id(FunctionCallInfo fcinfo, int n, const char *name)
{
	if (PG_ARGISNULL(n))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", name)));
	return PG_GETARG_INT64(n);
}

/* Columns a child ticket or a launched case copies from its ticket. */
#define COPIED "description, category, primary_contact, requester, priority"

/*
 * Lock a ticket that is about to wait on other work. Citus: route is its
 * tenant, looked up first (WI404 when there is none).
 */
static void
lock_ticket(int64 id, const char *route, const char *what, WiKind *kind_out, WiStatus *status_out)
{
	WiKind		kind;
	WiStatus	status;
	int			wait_type;

	if ((wi_citus() && route == NULL) || !lock_status(id, route, &kind, &status, &wait_type, NULL))
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
	*kind_out = kind;
	*status_out = status;
}

/*
 * Citus makes the children before the wait (wait_on): a ticket that may not
 * wait is refused first, as the trigger refuses the wait on one node (a
 * closed one with WI009, the wait's reason in the detail).
 */
static void
may_wait(int64 id, WiKind kind, WiStatus status, const char *reason)
{
	if (status == WI_CLOSED)
		wi_refuse_closed(id, kind, reason);
	if (status != WI_WAITING && !wi_transition_allowed(kind, status, WI_WAITING))
		wi_refuse_move(id, kind, status, WI_WAITING, NULL);
}

/*
 * Make the engine's wait of a ticket on its children. On Citus (route set)
 * the UPDATE runs in the worker's process, which does not see this one's
 * engine flag: the trigger lets the wait in because the ticket has open
 * children by then (wi_has_open_child), and the actor goes in the row.
 */
static void
wait_on(int64 id, const char *route, const char *wait_type, const char *reason)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5] = {Int64GetDatum(id), CStringGetTextDatum(reason), TENANT_ARG(route),
		route ? CStringGetTextDatum(wi_actor()) : (Datum) 0,
		TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())};
	char		nulls[5] = {' ', ' ', route ? ' ' : 'n', route ? ' ' : 'n', route ? ' ' : 'n'};

	wi_engine_exec(psprintf("UPDATE workitem.item SET status = 'waiting'::workitem.status, "
							  "wait_type = '%s'::workitem.wait_type, wait_until = NULL, "
							  "close_if_no_reply = false, wait_reason = $2, change_reason = $2"
							  "{{, change_actor = $4, change_at = $5}} "
							  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}}",
							  wait_type),
					 5, types, values, nulls);
}

/*
 * Citus: whether ticket id has an open child (a ticket for a split, a
 * case for a launched case) in its tenant. split() and launch_case() make
 * the children first there, so that the worker's trigger can tell their
 * wait from a person's (an UPDATE that sets it by hand where the children
 * exist gets no more than split() would give).
 */
bool
wi_has_open_child(int64 id, const char *tenant, WiKind kind)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(id), CStringGetTextDatum(tenant),
		CStringGetTextDatum(wi_enum_label(WI_ENUM_KIND, kind))};
	bool		found;

	SPI_connect();
	if (wi_execute("SELECT 1 FROM workitem.item WHERE parent_id OPERATOR(pg_catalog.=) $1 "
				   "AND tenant OPERATOR(pg_catalog.=) $2 "
				   "AND kind OPERATOR(pg_catalog.=) $3::workitem.kind AND " WI_STILL_OPEN("status"),
				   3, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading the children of item %lld failed", (long long) id);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * Citus: one child of ticket id (locked, in tenant route), by a routed
 * INSERT ... VALUES (an INSERT ... SELECT would reach the shard as COPY).
 * The parent's columns to copy are in parent (a row of COPIED); returns
 * the new id.
 */
static int64
insert_child(int64 id, const char *route, const char *kind, Datum title, bool title_null,
			 bool submit, HeapTuple parent, TupleDesc pd)
{
	Oid			types[10] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID, TEXTOID,
		TEXTOID, TEXTOID};
	Datum		values[10];
	char		nulls[10];
	bool		isnull;

	values[0] = Int64GetDatum(id);
	nulls[0] = ' ';
	values[1] = title;
	nulls[1] = title_null ? 'n' : ' ';
	for (int i = 0; i < 5; i++)
	{
		values[2 + i] = SPI_getbinval(parent, pd, i + 1, &isnull);
		nulls[2 + i] = isnull ? 'n' : ' ';
	}
	values[7] = CStringGetTextDatum(route);
	values[8] = CStringGetTextDatum(wi_actor());
	values[9] = CStringGetTextDatum(submit ? "to_do" : "draft");
	nulls[7] = nulls[8] = nulls[9] = ' ';
	if (wi_execute(psprintf("INSERT INTO workitem.item (kind, status, parent_id, title, " COPIED
							", tenant, change_actor) VALUES ('%s'::workitem.kind, $10::workitem.status, "
							"$1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id", kind),
				   10, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: creating a child of item %lld failed", (long long) id);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/* Citus: the columns a child copies from ticket id (locked); SPI's memory. */
static HeapTuple
parent_columns(int64 id, const char *route, TupleDesc *pd, bool *complete)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(id), CStringGetTextDatum(route)};
	bool		isnull;

	if (wi_execute("SELECT " COPIED ", description IS NOT NULL AND category IS NOT NULL "
				   "AND primary_contact IS NOT NULL AND requester IS NOT NULL "
				   "FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 AND tenant OPERATOR(pg_catalog.=) $2",
				   2, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "workitem: reading item %lld failed", (long long) id);
	*pd = SPI_tuptable->tupdesc;
	*complete = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], *pd, 6, &isnull));
	return SPI_tuptable->vals[0];
}


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
	const char *route;
	WiKind		kind;
	WiStatus	status;

	if (PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("titles must not be NULL")));
	values[0] = Int64GetDatum(id);
	values[1] = PG_GETARG_DATUM(1);

	SPI_connect();
	route = tenant_of(id);
	lock_ticket(id, route, "be split", &kind, &status);
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

	if (route)
	{
		/* Citus: the children first, one routed INSERT each, then the wait */
		TupleDesc	pd;
		bool		complete;
		HeapTuple	parent;
		Datum	   *titles;
		int			ntitles;
		Datum	   *ids;

		may_wait(id, kind, status, "split into child tickets");
		parent = parent_columns(id, route, &pd, &complete);

		deconstruct_array(DatumGetArrayTypeP(values[1]), TEXTOID, -1, false, TYPALIGN_INT,
						  &titles, NULL, &ntitles);
		ids = palloc(sizeof(Datum) * ntitles);
		for (int i = 0; i < ntitles; i++)
			ids[i] = Int64GetDatum(insert_child(id, route, "ticket", titles[i], false, complete, parent, pd));
		wait_on(id, route, "split", "split into child tickets");
		wi_notify_worker_moves(CStringGetTextDatum(route));
		SPI_finish();
		PG_RETURN_ARRAYTYPE_P(construct_array(ids, ntitles, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
	}

	wait_on(id, NULL, "split", "split into child tickets");
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
	const char *route;
	WiKind		kind;
	WiStatus	status;

	values[0] = Int64GetDatum(id);
	values[1] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
	SPI_connect();
	route = tenant_of(id);
	lock_ticket(id, route, "launch a case", &kind, &status);
	if (route)
	{
		/* Citus: the case first, then the wait (see wait_on) */
		TupleDesc	pd;
		bool		complete;
		HeapTuple	parent;

		may_wait(id, kind, status, "case launched");
		parent = parent_columns(id, route, &pd, &complete);

		case_id = insert_child(id, route, "case", values[1], PG_ARGISNULL(1), true, parent, pd);
		wait_on(id, route, "case_launched", "case launched");
		wi_notify_worker_moves(CStringGetTextDatum(route));
		SPI_finish();
		PG_RETURN_INT64(case_id);
	}
	wait_on(id, NULL, "case_launched", "case launched");
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
	Oid			types[5] = {INT8OID, INT8OID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5] = {Int64GetDatum(id), Int64GetDatum(into), (Datum) 0, (Datum) 0, (Datum) 0};
	char		nulls[5] = {' ', ' ', 'n', 'n', 'n'};
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
		/* the actor and now() in the row, for the worker's trigger (operations.c) */
		values[3] = CStringGetTextDatum(wi_actor());
		values[4] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
		nulls[3] = nulls[4] = ' ';
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
							  "change_reason = 'merged into ' OPERATOR(pg_catalog.||) $2::pg_catalog.text"
							  "{{, change_actor = $4, change_at = $5}} "
							  "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $3}} RETURNING *",
							  5, types, values, nulls, false, 1) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "workitem: merging item %lld failed", (long long) id);
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	if (route)
		wi_notify_worker_moves(CStringGetTextDatum(route));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
