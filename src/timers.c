/*
 * timers.c: the moves that happen because time passes (run_timers) and the
 * SLA alarms (warning thresholds and breaches), each exactly once.
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

#include "workitem.h"

/* Plans kept for the life of the backend; the plan cache revalidates them. */
static SPIPlanPtr plan_waits, plan_feedback, plan_splits, plan_alarms;
static SPIPlanPtr plan_clock_fired, plan_clock_event, plan_warn_at;

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
get(int row, int col, bool *isnull)
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

		(*ids)[i] = DatumGetInt64(get(i, 1, &isnull));
	}
	return n;
}

/* ----------------------------------------------------------------------
 * Moves: one UPDATE for a whole batch; when that fails, item by item, so
 * that one item that cannot move does not hold back the others.
 * ---------------------------------------------------------------------- */

typedef struct Move
{
	const char *name;
	const char *set;			/* SET list; r.reason is the item's reason */
	const char *still_due;		/* re-checked on i under our lock; $3 = at */
	SPIPlanPtr	one;
	SPIPlanPtr	batch;
} Move;

#define WAIT_OVER "i.status OPERATOR(pg_catalog.=) 'waiting'::workitem.status " \
	"AND i.wait_until OPERATOR(pg_catalog.<=) $3"

static Move wake = {
	"wake",
	WI_WAKE_SET ", change_reason = r.reason",
	WAIT_OVER
};
static Move close_no_reply = {
	"close, no reply",
	"status = 'closed'::workitem.status, "
	"resolution = 'no_customer_response'::workitem.resolution, change_reason = r.reason",
	WAIT_OVER
};
static Move close_feedback = {
	"close, feedback window over",
	"status = 'closed'::workitem.status, change_reason = r.reason",
	"i.status OPERATOR(pg_catalog.=) 'resolved'::workitem.status "
	"AND i.feedback_until OPERATOR(pg_catalog.<=) $3"
};

#define NO_OPEN_CHILD(p) "NOT EXISTS (SELECT 1 FROM workitem.item c " \
	"WHERE c.parent_id OPERATOR(pg_catalog.=) " p ".id " \
	"AND " WI_STILL_OPEN("c.status") ")"

static Move split_done = {
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
	int			depth = wi_internal_depth;
	int64		rows = -1;

	BeginInternalSubTransaction(NULL);
	MemoryContextSwitchTo(cxt);
	PG_TRY();
	{
		int			ret;

		wi_internal_depth++;
		ret = SPI_execute_plan(plan, values, NULL, false, 0);
		wi_internal_depth = depth;
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

		wi_internal_depth = depth;
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
do_moves(Move *m, int n, int64 *ids, char **reasons, TimestampTz at)
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
		int64		id = DatumGetInt64(get(i, 1, &isnull));
		bool		ticket = DatumGetBool(get(i, 2, &isnull));
		bool		more_info = DatumGetBool(get(i, 3, &isnull));
		bool		close_if_no_reply = DatumGetBool(get(i, 4, &isnull));
		TimestampTz until = DatumGetTimestampTz(get(i, 5, &isnull));
		TimestampTz since = DatumGetTimestampTz(get(i, 6, &isnull));

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
							  timestamptz_to_str(DatumGetTimestampTz(get(i, 2, &isnull))));
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
 * SLA alarms: each warning threshold and the breach fire once per clock
 * ---------------------------------------------------------------------- */

/* The working time (us) at which fraction f of the target is used. */
static int64
threshold(double f, int64 target)
{
	return (int64) ceil(f * (double) target);
}

/*
 * When a running clock reaches `thr` of working time used: at once
 * (since) when it had used that much before its current running period.
 * The trigger and run_timers both use this, so they agree to the
 * microsecond on when an alarm is due.
 */
static TimestampTz
moment(text *calendar, TimestampTz since, int64 used, int64 thr)
{
	if (thr <= used)
		return since;
	return wi_business_add(calendar, since, thr - used);
}

/*
 * The non-NULL elements of a numeric[] (warn_at, warned), as numerics:
 * thresholds are compared exactly, never through float8, so 1/3 fired
 * is found again as 1/3.
 */
static Datum *
numerics(Datum a, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	int			k = 0;

	deconstruct_array(DatumGetArrayTypeP(a), NUMERICOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			elems[k++] = elems[i];
	*n = k;
	return elems;
}

static double
numeric_double(Datum f)
{
	return DatumGetFloat8(DirectFunctionCall1(numeric_float8, f));
}

/*
 * Has threshold f fired (is it in warned)? Earlier builds stored a fired
 * threshold through float8 (1/3 as 0.333333333333333): that form counts
 * too, so a clock warned by an older version does not warn again.
 */
static bool
fired_already(Datum *warned, int n, Datum f)
{
	Datum		old_form = (Datum) 0;

	for (int i = 0; i < n; i++)
	{
		if (DatumGetBool(DirectFunctionCall2(numeric_eq, warned[i], f)))
			return true;
		if (old_form == (Datum) 0)
			old_form = DirectFunctionCall1(float8_numeric, Float8GetDatum(numeric_double(f)));
		if (DatumGetBool(DirectFunctionCall2(numeric_eq, warned[i], old_form)))
			return true;
	}
	return false;
}

static Datum
numeric_array_datum(Datum *a, int n)
{
	return PointerGetDatum(construct_array(a, n, NUMERICOID, -1, false, TYPALIGN_INT));
}

static void
clock_event(int64 clock_id, int64 item_id, const char *target, int32 cycle,
			const char *event, int64 used, TimestampTz due_at, const char *reason)
{
	Oid			types[8] = {INT8OID, INT8OID, TEXTOID, INT4OID, TEXTOID, INTERVALOID,
	TIMESTAMPTZOID, TEXTOID};
	Datum		v[8];

	v[0] = Int64GetDatum(clock_id);
	v[1] = Int64GetDatum(item_id);
	v[2] = CStringGetTextDatum(target);
	v[3] = Int32GetDatum(cycle);
	v[4] = CStringGetTextDatum(event);
	v[5] = IntervalPGetDatum(wi_usecs_interval(used));
	v[6] = TimestampTzGetDatum(due_at);
	v[7] = CStringGetTextDatum(reason);
	prepare(&plan_clock_event,
			"INSERT INTO workitem.sla_clock_event "
			"(clock_id, item_id, target, cycle, event, used, due_at, reason) "
			"VALUES ($1, $2, $3, $4, $5, $6, $7, $8)", 8, types);
	if (SPI_execute_plan(plan_clock_event, v, NULL, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "workitem.run_timers: writing a clock event failed");
}

static int
run_alarms(TimestampTz at, int budget)
{
	Oid			sel_types[2] = {TIMESTAMPTZOID, INT4OID};
	Oid			upd_types[3] = {INT8OID, NUMERICARRAYOID, TIMESTAMPTZOID};
	Datum		sel[2] = {TimestampTzGetDatum(at), Int32GetDatum(budget)};
	SPITupleTable *tt;
	int			n,
				flagged = 0;

	prepare(&plan_alarms,
			"SELECT c.id, c.item_id, c.target, c.cycle, c.calendar, c.target_time, c.used, "
			" c.since, c.due_at, c.warned, c.breached_at, p.warn_at "
			"FROM workitem.sla_clock c LEFT JOIN workitem.sla_policy p "
			" ON p.id OPERATOR(pg_catalog.=) c.policy_id "
			"WHERE c.alarm_at OPERATOR(pg_catalog.<=) $1 "
			"AND c.state OPERATOR(pg_catalog.=) 'running' "
			"ORDER BY c.alarm_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED", 2, sel_types);
	prepare(&plan_clock_fired,
			"UPDATE workitem.sla_clock SET warned = $2, breached_at = $3 "
			"WHERE id OPERATOR(pg_catalog.=) $1", 3, upd_types);

	if (SPI_execute_plan(plan_alarms, sel, NULL, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem.run_timers: reading SLA clocks failed");
	n = (int) SPI_processed;
	tt = SPI_tuptable;
	SPI_tuptable = NULL;		/* keep it: the statements below make their own */

	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = tt->vals[i];
		TupleDesc	d = tt->tupdesc;
		bool		isnull,
					breached_null;
		int64		clock_id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		int64		item_id = DatumGetInt64(SPI_getbinval(t, d, 2, &isnull));
		char	   *target = TextDatumGetCString(SPI_getbinval(t, d, 3, &isnull));
		int32		cycle = DatumGetInt32(SPI_getbinval(t, d, 4, &isnull));
		text	   *calendar = DatumGetTextPP(SPI_getbinval(t, d, 5, &isnull));
		int64		target_us = wi_interval_usecs(DatumGetIntervalP(SPI_getbinval(t, d, 6, &isnull)));
		int64		used = wi_interval_usecs(DatumGetIntervalP(SPI_getbinval(t, d, 7, &isnull)));
		TimestampTz since = DatumGetTimestampTz(SPI_getbinval(t, d, 8, &isnull));
		TimestampTz due_at = DatumGetTimestampTz(SPI_getbinval(t, d, 9, &isnull));
		Datum		warned_d = SPI_getbinval(t, d, 10, &isnull);
		Datum		breached_d = SPI_getbinval(t, d, 11, &breached_null);
		Datum		warn_at_d = SPI_getbinval(t, d, 12, &isnull);
		bool		no_policy = isnull;
		Datum	   *warned,
				   *warn_at = NULL;
		int			nwarned,
					nwarn_at = 0;
		int64		used_now = wi_clock_used_at(calendar, used, false, since, at);
		bool		breached = !breached_null;
		bool		fired = false;
		Datum		upd[3];
		char		upd_nulls[3] = {' ', ' ', ' '};
		WiEvent		ev = {0};

		if (!no_policy)
			warn_at = numerics(warn_at_d, &nwarn_at);
		warned = numerics(warned_d, &nwarned);
		warned = repalloc(warned, sizeof(Datum) * (nwarned + nwarn_at + 1));

		ev.item_id = item_id;
		ev.actor = "system";
		for (int k = 0; k < nwarn_at; k++)
		{
			double		f = numeric_double(warn_at[k]);
			int			pct = (int) rint(f * 100.0);

			if (fired_already(warned, nwarned, warn_at[k]) ||
				moment(calendar, since, used, threshold(f, target_us)) > at)
				continue;
			warned[nwarned++] = warn_at[k];
			ev.what = "sla_warning";
			ev.old_value = NULL;
			ev.new_value = psprintf("%d%%", pct);
			ev.reason = psprintf("%s target: %d %% of %s used", target, pct,
								 wi_hours_minutes(target_us));
			wi_log_event(&ev);
			clock_event(clock_id, item_id, target, cycle, "warning", used_now, due_at, ev.reason);
			fired = true;
		}
		if (!breached && due_at <= at)
		{
			ev.what = "sla_breach";
			ev.old_value = NULL;
			ev.new_value = pstrdup(timestamptz_to_str(due_at));
			ev.reason = psprintf("%s target of %s missed its due time", target,
								 wi_hours_minutes(target_us));
			wi_log_event(&ev);
			clock_event(clock_id, item_id, target, cycle, "breach", used_now, due_at, ev.reason);
			breached_d = TimestampTzGetDatum(due_at);
			breached = true;
			fired = true;
		}
		/* Also when nothing fired: the update recomputes a stale alarm_at. */
		upd[0] = Int64GetDatum(clock_id);
		upd[1] = numeric_array_datum(warned, nwarned);
		upd[2] = breached_d;
		upd_nulls[2] = breached ? ' ' : 'n';
		if (SPI_execute_plan(plan_clock_fired, upd, upd_nulls, false, 0) != SPI_OK_UPDATE)
			elog(ERROR, "workitem.run_timers: updating SLA clock %lld failed", (long long) clock_id);
		if (fired)
			flagged++;
	}
	SPI_freetuptable(tt);
	return flagged;
}

/* ----------------------------------------------------------------------
 * Trigger on workitem.sla_clock: when is this clock's next alarm?
 * ---------------------------------------------------------------------- */

PG_FUNCTION_INFO_V1(workitem_clock_alarm);
Datum
workitem_clock_alarm(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	HeapTuple	tup;
	TupleDesc	d;
	int			c_state, c_policy, c_cal, c_target, c_used, c_since, c_due, c_warned,
				c_breached, c_alarm;
	bool		isnull;
	char	   *state;
	TimestampTz next = DT_NOEND;
	Datum		value;
	bool		value_null;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.clock_alarm() must be a BEFORE INSERT OR UPDATE row trigger")));
	tup = TRIGGER_FIRED_BY_UPDATE(td->tg_event) ? td->tg_newtuple : td->tg_trigtuple;
	/* A restore loads alarm_at as it was dumped, whatever order tables load in. */
	if (wi_loading_dump(td))
		return PointerGetDatum(tup);
	d = RelationGetDescr(td->tg_relation);
	/* 1-based, as SPI_getbinval takes them */
#define CLOCK_COL(name) (wi_attno(d, name, "workitem.clock_alarm") + 1)
	c_state = CLOCK_COL("state");
	c_policy = CLOCK_COL("policy_id");
	c_cal = CLOCK_COL("calendar");
	c_target = CLOCK_COL("target_time");
	c_used = CLOCK_COL("used");
	c_since = CLOCK_COL("since");
	c_due = CLOCK_COL("due_at");
	c_warned = CLOCK_COL("warned");
	c_breached = CLOCK_COL("breached_at");
	c_alarm = CLOCK_COL("alarm_at");
#undef CLOCK_COL

	/*
	 * NOT NULL and CHECK constraints are tested after BEFORE triggers: a row
	 * that lacks what an alarm needs gets none here, and is refused there.
	 */
	state = heap_attisnull(tup, c_state, d) ? "" :
		TextDatumGetCString(SPI_getbinval(tup, d, c_state, &isnull));
	if (strcmp(state, "running") == 0 &&
		!heap_attisnull(tup, c_cal, d) && !heap_attisnull(tup, c_target, d) &&
		!heap_attisnull(tup, c_used, d) && !heap_attisnull(tup, c_since, d) &&
		!heap_attisnull(tup, c_warned, d))
	{
		text	   *calendar = DatumGetTextPP(SPI_getbinval(tup, d, c_cal, &isnull));
		int64		target_us = wi_interval_usecs(DatumGetIntervalP(SPI_getbinval(tup, d, c_target, &isnull)));
		int64		used = wi_interval_usecs(DatumGetIntervalP(SPI_getbinval(tup, d, c_used, &isnull)));
		TimestampTz since = DatumGetTimestampTz(SPI_getbinval(tup, d, c_since, &isnull));
		Datum		policy = SPI_getbinval(tup, d, c_policy, &isnull);
		bool		no_policy = isnull;
		Datum		due = SPI_getbinval(tup, d, c_due, &isnull);

		if (!isnull && heap_attisnull(tup, c_breached, d))
			next = DatumGetTimestampTz(due);
		if (!no_policy)
		{
			Oid			types[1] = {INT8OID};
			Datum		args[1] = {policy};

			/* Runs at every start and resume of a clock: a kept plan. */
			SPI_connect();
			prepare(&plan_warn_at, "SELECT warn_at FROM workitem.sla_policy "
					"WHERE id OPERATOR(pg_catalog.=) $1", 1, types);
			if (SPI_execute_plan(plan_warn_at, args, NULL, true, 1) != SPI_OK_SELECT)
				elog(ERROR, "workitem.clock_alarm(): reading the policy failed");
			if (SPI_processed == 1)
			{
				Datum		w = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
				int			nwarn = 0,
							nwarned = 0;
				Datum	   *warn = isnull ? NULL : numerics(w, &nwarn);
				Datum	   *warned = numerics(SPI_getbinval(tup, d, c_warned, &isnull), &nwarned);

				for (int k = 0; k < nwarn; k++)
					if (!fired_already(warned, nwarned, warn[k]))
					{
						TimestampTz m = moment(calendar, since, used,
											   threshold(numeric_double(warn[k]), target_us));

						if (m < next)
							next = m;
					}
			}
			SPI_finish();
		}
	}
	value_null = TIMESTAMP_IS_NOEND(next);
	value = TimestampTzGetDatum(next);
	return PointerGetDatum(heap_modify_tuple_by_cols(tup, d, 1, &c_alarm, &value, &value_null));
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
			done += run_alarms(at, max_items - done);
			wi_restore_user(&user);
		}
	}
	PG_FINALLY();
	{
		wi_actor_override = NULL;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(done);
}
