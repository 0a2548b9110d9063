/*
 * checks.c: the CHECK constraints of workitem.item as one C function.
 *
 * The table had 17 CHECK constraints. PostgreSQL reads a table's CHECK
 * expressions back from their stored text and compiles them once per
 * executor state, that is, for every INSERT or UPDATE statement: about
 * 100 us for these (two of them list every wait type and resolution by
 * kind), more than the UPDATE itself (issue 13). One CHECK calling
 * workitem.item_check() costs one small expression to read and keeps every
 * guarantee: it holds on every write, whatever the path (COPY, replica
 * mode, a disabled trigger). Each test below is one former constraint,
 * with its SQL truth value (NULL passes); a failure is reported under that
 * constraint's name.
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/timestamp.h"

#include "workitem.h"

enum
{
	A_KIND, A_STATUS, A_WAIT_TYPE, A_WAIT_UNTIL, A_CLOSE_IF_NO_REPLY, A_RESOLUTION,
	A_ID, A_CASE_ID, A_PARENT_ID, A_MERGED_INTO, A_FOLLOWS_ID, A_ASSIGNEE,
	A_CLOSED_AT, A_RESOLVED_AT, A_FIRST_RESOLVED_AT, A_CHANGE_REASON,
	A_DAYS_TO_WAIT, A_FEEDBACK_WINDOW, A_NARGS
};

static void
violated(const char *constraint)
{
	ereport(ERROR,
			(errcode(ERRCODE_CHECK_VIOLATION),
			 errmsg("new row for relation \"item\" violates check constraint \"%s\"", constraint),
			 err_generic_string(PG_DIAG_SCHEMA_NAME, "workitem"),
			 err_generic_string(PG_DIAG_TABLE_NAME, "item"),
			 err_generic_string(PG_DIAG_CONSTRAINT_NAME, constraint)));
}

#define NUL(a) PG_ARGISNULL(a)

PG_FUNCTION_INFO_V1(workitem_item_check);
Datum
workitem_item_check(PG_FUNCTION_ARGS)
{
	int			kind,
				status,
				wait = -1,
				res = -1;
	int64		id;

	if (PG_NARGS() != A_NARGS)
		elog(ERROR, "workitem.item_check() takes %d arguments", A_NARGS);
	/* kind, status, id, close_if_no_reply are NOT NULL: that constraint reports them */
	if (NUL(A_KIND) || NUL(A_STATUS) || NUL(A_ID) || NUL(A_CLOSE_IF_NO_REPLY))
		PG_RETURN_NULL();
	kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(A_KIND));
	status = wi_enum_index(WI_ENUM_STATUS, PG_GETARG_DATUM(A_STATUS));
	id = PG_GETARG_INT64(A_ID);
	if (!NUL(A_WAIT_TYPE))
		wait = wi_enum_index(WI_ENUM_WAIT_TYPE, PG_GETARG_DATUM(A_WAIT_TYPE));
	if (!NUL(A_RESOLUTION))
		res = wi_enum_index(WI_ENUM_RESOLUTION, PG_GETARG_DATUM(A_RESOLUTION));

	/* (kind = 'action') = (case_id IS NOT NULL) */
	if ((kind == WI_ACTION) != !NUL(A_CASE_ID))
		violated("item_action_has_case");
	/* kind <> 'action' OR status <> 'draft' */
	if (kind == WI_ACTION && status == WI_DRAFT)
		violated("item_action_never_draft");
	/* change_reason IS NULL */
	if (!NUL(A_CHANGE_REASON))
		violated("item_change_reason_transient");
	/* NOT close_if_no_reply OR (wait_type = 'more_info' AND wait_until IS NOT NULL): false only when */
	if (PG_GETARG_BOOL(A_CLOSE_IF_NO_REPLY) &&
		((wait >= 0 && wait != WI_MORE_INFO) || NUL(A_WAIT_UNTIL)))
		violated("item_close_if_no_reply_needs_days");
	/* (status = 'closed') = (closed_at IS NOT NULL) */
	if ((status == WI_CLOSED) != !NUL(A_CLOSED_AT))
		violated("item_closed_has_closed_at");
	/* days_to_wait IS NULL OR days_to_wait > 0 */
	if (!NUL(A_DAYS_TO_WAIT) && PG_GETARG_INT32(A_DAYS_TO_WAIT) <= 0)
		violated("item_days_to_wait_positive");
	if (!NUL(A_FEEDBACK_WINDOW))
	{
		Interval   *fw = PG_GETARG_INTERVAL_P(A_FEEDBACK_WINDOW);
		Interval	zero = {0};

		/* feedback_window IS NULL OR isfinite(feedback_window) */
		if (!DatumGetBool(DirectFunctionCall1(interval_finite, IntervalPGetDatum(fw))))
			violated("item_feedback_window_finite");
		/* feedback_window IS NULL OR feedback_window >= '0' */
		if (!DatumGetBool(DirectFunctionCall2(interval_ge, IntervalPGetDatum(fw),
											  IntervalPGetDatum(&zero))))
			violated("item_feedback_window_not_negative");
	}
	/* resolved_at IS NULL OR first_resolved_at IS NOT NULL */
	if (!NUL(A_RESOLVED_AT) && NUL(A_FIRST_RESOLVED_AT))
		violated("item_first_resolution_kept");
	/* wait_type IS DISTINCT FROM 'follow_up' OR wait_until IS NOT NULL */
	if (wait == WI_FOLLOW_UP && NUL(A_WAIT_UNTIL))
		violated("item_follow_up_has_time");
	/* status <> 'in_progress' OR assignee IS NOT NULL */
	if (status == WI_IN_PROGRESS && NUL(A_ASSIGNEE))
		violated("item_in_progress_assigned");
	/* parent_id <> id AND merged_into <> id AND case_id <> id AND follows_id <> id: false when one is equal */
	if ((!NUL(A_PARENT_ID) && PG_GETARG_INT64(A_PARENT_ID) == id) ||
		(!NUL(A_MERGED_INTO) && PG_GETARG_INT64(A_MERGED_INTO) == id) ||
		(!NUL(A_CASE_ID) && PG_GETARG_INT64(A_CASE_ID) == id) ||
		(!NUL(A_FOLLOWS_ID) && PG_GETARG_INT64(A_FOLLOWS_ID) == id))
		violated("item_not_own_parent");
	/* resolution IS NULL OR it is one of the kind's (src/rules.c, the same sets) */
	if (res >= 0 && !wi_resolution_allowed(kind, res))
		violated("item_resolution_by_kind");
	/* (status IN ('resolved', 'closed')) = (resolution IS NOT NULL) */
	if ((status == WI_RESOLVED || status == WI_CLOSED) != (res >= 0))
		violated("item_resolution_iff_done");
	/* status NOT IN ('resolved', 'closed') OR resolved_at IS NOT NULL */
	if ((status == WI_RESOLVED || status == WI_CLOSED) && NUL(A_RESOLVED_AT))
		violated("item_resolved_has_resolved_at");
	/* wait_type IS NULL OR it is one of the kind's */
	if (wait >= 0 && !wi_wait_type_allowed(kind, wait))
		violated("item_wait_type_by_kind");
	/* (status = 'waiting') = (wait_type IS NOT NULL) */
	if ((status == WI_WAITING) != (wait >= 0))
		violated("item_wait_type_iff_waiting");
	PG_RETURN_BOOL(true);
}
