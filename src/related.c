/*
 * related.c: the rules of spec section 2 that touch a second item: a case
 * and its actions. They run inside the trigger, in the same transaction
 * as the move that causes them, so no repair job is ever needed.
 *
 * The moves made here are the engine's own: they run with
 * wi_internal_depth raised, so that the trigger lets them set the flags
 * (needs_attention) that a person's move would clear.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "workitem.h"

/* Run one statement as an engine move; the caller is connected to SPI. */
uint64
wi_internal_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret;

	wi_internal_depth++;
	PG_TRY();
	{
		ret = SPI_execute_with_args(sql, nargs, types, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		wi_internal_depth--;
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "workitem: internal statement failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
}

/*
 * A new action needs an open case: not waiting (spec: "while a case waits,
 * no new action can be created for it"), resolved or closed. The case row
 * is locked so that it cannot start waiting while the action is inserted.
 */
void
wi_check_case_open(int64 action_id, int64 case_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(case_id)};
	bool		isnull;
	WiKind		kind;
	WiStatus	status;

	SPI_connect();
	if (SPI_execute_with_args("SELECT kind, status FROM workitem.item "
							  "WHERE id OPERATOR(pg_catalog.=) $1 FOR SHARE",
							  1, types, values, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading case %lld failed", (long long) case_id);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("case %lld of the new action does not exist", (long long) case_id)));
	kind = wi_enum_index(WI_ENUM_KIND,
						 SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	status = wi_enum_index(WI_ENUM_STATUS,
						   SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
	SPI_finish();

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
wi_case_needs_attention(int64 case_id, const char *reason)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', reason ? ' ' : 'n'};

	values[0] = Int64GetDatum(case_id);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	SPI_connect();
	wi_internal_exec("UPDATE workitem.item SET status = 'to_do'::workitem.status, "
				  "needs_attention = true, attention_reason = $2, change_reason = $2 "
				  "WHERE id OPERATOR(pg_catalog.=) $1 "
				  "AND status::text OPERATOR(pg_catalog.<>) ALL ('{resolved,closed}'::text[])",
				  2, types, values, nulls);
	SPI_finish();
}

/* Cancelling a case closes its open actions as cancelled. */
void
wi_cancel_actions(int64 case_id, const char *reason)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', reason ? ' ' : 'n'};

	values[0] = Int64GetDatum(case_id);
	values[1] = reason ? CStringGetTextDatum(reason) : (Datum) 0;
	SPI_connect();
	wi_internal_exec("UPDATE workitem.item SET status = 'closed'::workitem.status, "
				  "resolution = 'cancelled'::workitem.resolution, change_reason = $2 "
				  "WHERE case_id OPERATOR(pg_catalog.=) $1 "
				  "AND status OPERATOR(pg_catalog.<>) 'closed'::workitem.status",
				  2, types, values, nulls);
	SPI_finish();
}
