/*
 * timers.c: the moves that happen because time passes (run_timers): waits
 * over, feedback windows over, split tickets done; and the SLA alarms,
 * fired by sla_alarm.c. Each exactly once.
 *
 * Due work is found through partial indexes (waits by wait_until, resolved
 * items by feedback_until, split parents, running clocks by alarm_at), so
 * a run with nothing due is a few index probes and writes nothing. Rows
 * are taken with FOR UPDATE SKIP LOCKED: any number of sessions may run
 * the timers at once and no item is moved twice. A batch moves in one
 * statement; if that fails, its items move one by one in subtransactions,
 * so one item that cannot move (a user's trigger or constraint refuses
 * it) is reported and skipped instead of blocking the queue. The moves
 * go through the item trigger like any other, with the actor "system" and
 * a reason, so they are logged and keep the SLA clocks.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "moves.h"
#include "workitem.h"

/* Plans kept for the life of the backend; the plan cache revalidates them. */
static SPIPlanPtr plan_waits, plan_feedback, plan_splits;

static SPIPlanPtr
prepare(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	if (*slot == NULL)
	{
		SPIPlanPtr	p = SPI_prepare(sql, nargs, types);

		if (p == NULL)
			elog(ERROR, "workitem.run_timers: preparing \"%s\" failed: %s",
				 sql, SPI_result_code_string(SPI_result));
		SPI_keepplan(p);
		*slot = p;
	}
	return *slot;
}

static Datum
spi_value(int row, int col, bool *isnull)
{
	return SPI_getbinval(SPI_tuptable->vals[row], SPI_tuptable->tupdesc, col, isnull);
}

/*
 * Run a "what is due" SELECT (ids in its first column; its rows locked)
 * and make room for the reasons, which the caller fills in.
 */
static int
read_due(SPIPlanPtr plan, Datum *args, const char *what, int64 **ids, char ***reasons)
{
	int			n;

	if (SPI_execute_plan(plan, args, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem.run_timers: reading %s failed", what);
	n = (int) SPI_processed;
	*ids = palloc(sizeof(int64) * Max(n, 1));
	*reasons = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		(*ids)[i] = DatumGetInt64(spi_value(i, 1, &isnull));
	}
	return n;
}

/* ----------------------------------------------------------------------
 * Moves: one UPDATE for a whole batch; when that fails, item by item, so
 * that one item that cannot move does not hold back the others.
 * ---------------------------------------------------------------------- */

typedef struct TimedMove
{
	const char *name;
	const char *set;			/* SET list; r.reason is the item's reason */
	const char *still_due;		/* re-checked on i under our lock; $3 = at */
	SPIPlanPtr	one;
	SPIPlanPtr	batch;
} TimedMove;

#define WAIT_OVER "i.status OPERATOR(pg_catalog.=) 'waiting'::workitem.status " \
	"AND i.wait_until OPERATOR(pg_catalog.<=) $3"

static TimedMove wake = {
	"wake",
	WI_WAKE_SET ", change_reason = r.reason",
	WAIT_OVER
};
static TimedMove close_no_reply = {
	"close, no reply",
	"status = 'closed'::workitem.status, "
	"resolution = 'no_customer_response'::workitem.resolution, change_reason = r.reason",
	WAIT_OVER
};
static TimedMove close_feedback = {
	"close, feedback window over",
	"status = 'closed'::workitem.status, change_reason = r.reason",
	"i.status OPERATOR(pg_catalog.=) 'resolved'::workitem.status "
	"AND i.feedback_until OPERATOR(pg_catalog.<=) $3"
};

#define NO_OPEN_CHILD(p) "NOT EXISTS (SELECT 1 FROM workitem.item c " \
	"WHERE c.parent_id OPERATOR(pg_catalog.=) " p ".id " \
	"AND " WI_STILL_OPEN("c.status") ")"

static TimedMove split_done = {
	"resolve split",
	WI_SPLIT_DONE_SET ", change_reason = r.reason",
	"i.status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
	"AND i.wait_type OPERATOR(pg_catalog.=) 'split'::workitem.wait_type "
	"AND " NO_OPEN_CHILD("i")
};

/*
 * Run a prepared move in a subtransaction, as an engine move. Returns the
 * rows it changed, or -1 when it failed (reported as a WARNING when
 * `report`, naming the item).
 */
static int64
try_move(SPIPlanPtr plan, Datum *values, bool report, int64 item_id, const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;
	ResourceOwner owner = CurrentResourceOwner;
	int			depth = wi_engine_depth;
	int64		rows = -1;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			ret;

		wi_engine_depth++;
		ret = SPI_execute_plan(plan, values, NULL, false, 0);
		wi_engine_depth = depth;
		if (ret < 0)
			elog(ERROR, "SPI_execute_plan failed: %s", SPI_result_code_string(ret));
		rows = (int64) SPI_processed;
		ReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
	}
	PG_CATCH();
	{
		ErrorData  *ed;

		wi_engine_depth = depth;
		MemoryContextSwitchTo(cxt);
		ed = CopyErrorData();
		FlushErrorState();
		RollbackAndReleaseCurrentSubTransaction();
		MemoryContextSwitchTo(cxt);
		CurrentResourceOwner = owner;
		if (report)
			ereport(WARNING,
					(errcode(ed->sqlerrcode),
					 errmsg("workitem.run_timers: item %lld not moved (%s): %s",
							(long long) item_id, what, ed->message),
					 ed->detail ? errdetail_internal("%s", ed->detail) : 0,
					 errhint("The item stays due and is tried again at the next run.")));
		FreeErrorData(ed);
		rows = -1;
	}
	PG_END_TRY();
	return rows;
}

static int
do_moves(TimedMove *m, int n, int64 *ids, char **reasons, TimestampTz at)
{
	Datum		v[3];
	int64		rows;
	int			moved = 0;

	if (n == 0)
		return 0;
	if (m->one == NULL)
	{
		Oid			one_types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
		Oid			batch_types[3] = {INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID};
		const char *one = psprintf("UPDATE workitem.item i SET %s FROM (SELECT $1 AS id, $2 AS reason) r "
								   "WHERE i.id OPERATOR(pg_catalog.=) r.id AND %s", m->set, m->still_due);
		const char *batch = psprintf("UPDATE workitem.item i SET %s "
									 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS r(id, reason) "
									 "WHERE i.id OPERATOR(pg_catalog.=) r.id AND %s", m->set, m->still_due);

		prepare(&m->batch, batch, 3, batch_types);
		prepare(&m->one, one, 3, one_types);
	}

	if (n > 1)
	{
		Datum	   *id_d = palloc(sizeof(Datum) * n);
		Datum	   *reason_d = palloc(sizeof(Datum) * n);

		for (int i = 0; i < n; i++)
		{
			id_d[i] = Int64GetDatum(ids[i]);
			reason_d[i] = CStringGetTextDatum(reasons[i]);
		}
		v[0] = PointerGetDatum(construct_array(id_d, n, INT8OID, 8, FLOAT8PASSBYVAL, TYPALIGN_DOUBLE));
		v[1] = PointerGetDatum(construct_array(reason_d, n, TEXTOID, -1, false, TYPALIGN_INT));
		v[2] = TimestampTzGetDatum(at);
		rows = try_move(m->batch, v, false, 0, m->name);
		if (rows >= 0)
			return (int) rows;
	}
	for (int i = 0; i < n; i++)
	{
		v[0] = Int64GetDatum(ids[i]);
		v[1] = CStringGetTextDatum(reasons[i]);
		v[2] = TimestampTzGetDatum(at);
		if (try_move(m->one, v, true, ids[i], m->name) > 0)
			moved++;
	}
	return moved;
}

/* ----------------------------------------------------------------------
 * Waits that run out: follow-up reached, days to wait over
 * ---------------------------------------------------------------------- */

static int
run_waits(TimestampTz at, int budget)
{
	Oid			sel_types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		sel[2] = {TimestampTzGetDatum(at), Int32GetDatum(budget)};
	int			n,
				nwake = 0,
				nclose = 0;
	int64	   *wake_ids,
			   *close_ids;
	char	  **wake_reasons,
			  **close_reasons;

	prepare(&plan_waits,
			"SELECT id, kind OPERATOR(pg_catalog.=) 'ticket'::workitem.kind, "
			" wait_type OPERATOR(pg_catalog.=) 'more_info'::workitem.wait_type, "
			" close_if_no_reply, wait_until, status_changed_at "
			"FROM workitem.item "
			"WHERE status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
			"AND wait_until OPERATOR(pg_catalog.<=) $1 "
			"ORDER BY wait_until LIMIT $2 FOR UPDATE SKIP LOCKED", 2, sel_types);
	if (SPI_execute_plan(plan_waits, sel, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem.run_timers: reading due waits failed");
	n = (int) SPI_processed;
	wake_ids = palloc(sizeof(int64) * Max(n, 1));
	close_ids = palloc(sizeof(int64) * Max(n, 1));
	wake_reasons = palloc(sizeof(char *) * Max(n, 1));
	close_reasons = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		bool		isnull;
		int64		id = DatumGetInt64(spi_value(i, 1, &isnull));
		bool		ticket = DatumGetBool(spi_value(i, 2, &isnull));
		bool		more_info = DatumGetBool(spi_value(i, 3, &isnull));
		bool		close_if_no_reply = DatumGetBool(spi_value(i, 4, &isnull));
		TimestampTz until = DatumGetTimestampTz(spi_value(i, 5, &isnull));
		TimestampTz since = DatumGetTimestampTz(spi_value(i, 6, &isnull));

		if (more_info)
		{
			long		days = (long) ((until - since + USECS_PER_DAY / 2) / USECS_PER_DAY);
			char	   *reason = psprintf("no reply in %ld day%s (waited until %s)", days,
										  days == 1 ? "" : "s", timestamptz_to_str(until));

			/* no_customer_response is a ticket's resolution; others come back. */
			if (close_if_no_reply && ticket)
			{
				close_ids[nclose] = id;
				close_reasons[nclose++] = reason;
				continue;
			}
			wake_ids[nwake] = id;
			wake_reasons[nwake++] = reason;
		}
		else
		{
			wake_ids[nwake] = id;
			wake_reasons[nwake++] = psprintf("follow-up time reached (%s)", timestamptz_to_str(until));
		}
	}
	return do_moves(&wake, nwake, wake_ids, wake_reasons, at) +
		do_moves(&close_no_reply, nclose, close_ids, close_reasons, at);
}

/* ----------------------------------------------------------------------
 * Feedback windows that are over
 * ---------------------------------------------------------------------- */

static int
run_feedback(TimestampTz at, int budget)
{
	Oid			sel_types[2] = {TIMESTAMPTZOID, INT4OID};
	Datum		sel[2] = {TimestampTzGetDatum(at), Int32GetDatum(budget)};
	int64	   *ids;
	char	  **reasons;
	int			n;

	prepare(&plan_feedback,
			"SELECT id, feedback_until FROM workitem.item "
			"WHERE status OPERATOR(pg_catalog.=) 'resolved'::workitem.status "
			"AND feedback_until OPERATOR(pg_catalog.<=) $1 "
			"ORDER BY feedback_until LIMIT $2 FOR UPDATE SKIP LOCKED", 2, sel_types);
	n = read_due(plan_feedback, sel, "resolved items", &ids, &reasons);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		reasons[i] = psprintf("feedback window over (%s)",
							  timestamptz_to_str(DatumGetTimestampTz(spi_value(i, 2, &isnull))));
	}
	return do_moves(&close_feedback, n, ids, reasons, at);
}

/* ----------------------------------------------------------------------
 * Split tickets whose children are all done (normally resolved at the
 * last child's move already; this catches what that could not, e.g. a
 * child deleted while still a draft)
 * ---------------------------------------------------------------------- */

static int
run_splits(TimestampTz at, int budget)
{
	Oid			sel_types[1] = {INT4OID};
	Datum		sel[1] = {Int32GetDatum(budget)};
	int64	   *ids;
	char	  **reasons;
	int			n;

	prepare(&plan_splits,
			"SELECT p.id FROM workitem.item p "
			"WHERE p.status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
			"AND p.wait_type OPERATOR(pg_catalog.=) 'split'::workitem.wait_type "
			"AND " NO_OPEN_CHILD("p") " LIMIT $1 FOR UPDATE OF p SKIP LOCKED", 1, sel_types);
	n = read_due(plan_splits, sel, "split tickets", &ids, &reasons);
	for (int i = 0; i < n; i++)
		reasons[i] = WI_SPLIT_DONE_REASON;
	return do_moves(&split_done, n, ids, reasons, at);
}

/* ----------------------------------------------------------------------
 * workitem.run_timers(at, max_items)
 * ---------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(workitem_run_timers);
Datum
workitem_run_timers(PG_FUNCTION_ARGS)
{
	TimestampTz at;
	int32		max_items;
	int			done = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("workitem.run_timers: %s must not be NULL",
						PG_ARGISNULL(0) ? "at" : "max_items")));
	at = PG_GETARG_TIMESTAMPTZ(0);
	max_items = PG_GETARG_INT32(1);
	if (TIMESTAMP_NOT_FINITE(at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("workitem.run_timers: at must be a finite time, not %s",
						timestamptz_to_str(at))));
	if (max_items < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workitem.run_timers: max_items must be at least 1, not %d", max_items)));

	SPI_connect();
	wi_actor_override = "system";
	PG_TRY();
	{
		done += run_waits(at, max_items - done);
		if (done < max_items)
			done += run_feedback(at, max_items - done);
		if (done < max_items)
			done += run_splits(at, max_items - done);
		if (done < max_items)
		{
			WiSavedUser user;

			wi_become_owner(&user);
			done += wi_sla_run_alarms(at, max_items - done);
			wi_restore_user(&user);
		}
		/* timers forgotten past workitem.timer_max_running (worktime.c) */
		if (done < max_items)
			done += wi_worktime_run(at, max_items - done);
	}
	PG_FINALLY();
	{
		wi_actor_override = NULL;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(done);
}
