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
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"

#include "moves.h"
#include "workitem.h"

/*
 * On Citus, run_timers() on the coordinator finds the tenants with due
 * work and calls run_timers_tenant() for each, which Citus runs on the
 * node holding the tenant's shards (a distributed function, colocated
 * with workitem.item, delegated by its tenant argument): there every
 * statement below is routed by that tenant ($n between {{ and }}), and
 * FOR UPDATE SKIP LOCKED locks in one shard. NULL on plain PostgreSQL,
 * which runs one pass over everything.
 */
const char *wi_timers_tenant = NULL;
#define TIMERS_TENANT (wi_timers_tenant ? CStringGetTextDatum(wi_timers_tenant) : (Datum) 0)
#define TIMERS_NULL (wi_timers_tenant ? ' ' : 'n')

/* Plans kept for the life of the backend; the plan cache revalidates them. */
static SPIPlanPtr plan_waits, plan_feedback, plan_splits;

static SPIPlanPtr
prepare(SPIPlanPtr *slot, const char *sql, int nargs, Oid *types)
{
	/* wi_plan: kept, and with what is between {{ and }} on Citus only */
	if (*slot == NULL)
		*slot = wi_plan(sql, nargs, types);
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
read_due(SPIPlanPtr plan, Datum *args, const char *nulls, const char *what, int64 **ids, char ***reasons)
{
	int			n;

	if (SPI_execute_plan(plan, args, nulls, false, 0) != SPI_OK_SELECT)
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
	"WHERE c.parent_id OPERATOR(pg_catalog.=) " p ".id {{AND c.tenant OPERATOR(pg_catalog.=) " p ".tenant }}" \
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
try_move(SPIPlanPtr plan, Datum *values, const char *nulls, bool report, int64 item_id, const char *what)
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
		ret = SPI_execute_plan(plan, values, nulls, false, 0);
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
	Datum		v[4];
	char		nulls[4] = {' ', ' ', ' ', TIMERS_NULL};
	int64		rows;
	int			moved = 0;

	if (n == 0)
		return 0;
	if (m->one == NULL)
	{
		Oid			one_types[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
		Oid			batch_types[4] = {INT8ARRAYOID, TEXTARRAYOID, TIMESTAMPTZOID, TEXTOID};
		const char *one = psprintf("UPDATE workitem.item i SET %s FROM (SELECT $1 AS id, $2 AS reason) r "
								   "WHERE i.id OPERATOR(pg_catalog.=) r.id AND %s"
								   "{{ AND i.tenant OPERATOR(pg_catalog.=) $4}}", m->set, m->still_due);
		const char *batch = psprintf("UPDATE workitem.item i SET %s "
									 "FROM ROWS FROM (pg_catalog.unnest($1), pg_catalog.unnest($2)) AS r(id, reason) "
									 "WHERE i.id OPERATOR(pg_catalog.=) r.id AND %s"
									 "{{ AND i.tenant OPERATOR(pg_catalog.=) $4}}", m->set, m->still_due);

		prepare(&m->batch, batch, 4, batch_types);
		prepare(&m->one, one, 4, one_types);
	}
	v[3] = TIMERS_TENANT;

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
		rows = try_move(m->batch, v, nulls, false, 0, m->name);
		if (rows >= 0)
			return (int) rows;
	}
	for (int i = 0; i < n; i++)
	{
		v[0] = Int64GetDatum(ids[i]);
		v[1] = CStringGetTextDatum(reasons[i]);
		v[2] = TimestampTzGetDatum(at);
		if (try_move(m->one, v, nulls, true, ids[i], m->name) > 0)
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
	Oid			sel_types[3] = {TIMESTAMPTZOID, INT4OID, TEXTOID};
	Datum		sel[3] = {TimestampTzGetDatum(at), Int32GetDatum(budget), TIMERS_TENANT};
	char		sel_nulls[3] = {' ', ' ', TIMERS_NULL};
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
			"AND wait_until OPERATOR(pg_catalog.<=) $1 {{AND tenant OPERATOR(pg_catalog.=) $3 }}"
			"ORDER BY wait_until LIMIT $2 FOR UPDATE SKIP LOCKED", 3, sel_types);
	if (SPI_execute_plan(plan_waits, sel, sel_nulls, false, 0) != SPI_OK_SELECT)
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
	Oid			sel_types[3] = {TIMESTAMPTZOID, INT4OID, TEXTOID};
	Datum		sel[3] = {TimestampTzGetDatum(at), Int32GetDatum(budget), TIMERS_TENANT};
	char		sel_nulls[3] = {' ', ' ', TIMERS_NULL};
	int64	   *ids;
	char	  **reasons;
	int			n;

	prepare(&plan_feedback,
			"SELECT id, feedback_until FROM workitem.item "
			"WHERE status OPERATOR(pg_catalog.=) 'resolved'::workitem.status "
			"AND feedback_until OPERATOR(pg_catalog.<=) $1 {{AND tenant OPERATOR(pg_catalog.=) $3 }}"
			"ORDER BY feedback_until LIMIT $2 FOR UPDATE SKIP LOCKED", 3, sel_types);
	n = read_due(plan_feedback, sel, sel_nulls, "resolved items", &ids, &reasons);
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
	Oid			sel_types[2] = {INT4OID, TEXTOID};
	Datum		sel[2] = {Int32GetDatum(budget), TIMERS_TENANT};
	char		sel_nulls[2] = {' ', TIMERS_NULL};
	int64	   *ids;
	char	  **reasons;
	int			n;

	prepare(&plan_splits,
			"SELECT p.id FROM workitem.item p "
			"WHERE p.status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
			"AND p.wait_type OPERATOR(pg_catalog.=) 'split'::workitem.wait_type "
			"AND " NO_OPEN_CHILD("p") " {{AND p.tenant OPERATOR(pg_catalog.=) $2 }}"
			"LIMIT $1 FOR UPDATE OF p SKIP LOCKED", 2, sel_types);
	n = read_due(plan_splits, sel, sel_nulls, "split tickets", &ids, &reasons);
	for (int i = 0; i < n; i++)
		reasons[i] = WI_SPLIT_DONE_REASON;
	return do_moves(&split_done, n, ids, reasons, at);
}

/* ----------------------------------------------------------------------
 * workitem.run_timers(at, max_items)
 * ---------------------------------------------------------------------- */

/* One pass over the due work (of wi_timers_tenant on Citus); SPI connected. */
static int
run_pass(TimestampTz at, int max_items)
{
	int			done = 0;

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
	return done;
}

/*
 * Citus: the tenants with due work (an unlocked read of every shard,
 * through the same partial indexes), then run_timers_tenant() for each,
 * which Citus delegates to the node of the tenant's shards. Its arguments
 * are constants in the statement's text: Citus delegates a call only then.
 *
 * All nodes in one call: the moves made on the workers send no NOTIFY
 * there (src/notify.c), so the transaction, which writes on every node
 * with due work, can commit in two phases.
 */
static int
run_tenants(TimestampTz at, int max_items)
{
	Oid			types[2] = {TIMESTAMPTZOID, TIMESTAMPTZOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	int			n,
				done = 0;
	char	  **tenants;
	char	   *at_text = DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(at)));

	values[0] = TimestampTzGetDatum(at);
	values[1] = TimestampTzGetDatum(at - (int64) wi_timer_max_running * USECS_PER_SEC);
	nulls[1] = wi_timer_max_running > 0 ? ' ' : 'n';
	if (wi_execute("WITH d AS MATERIALIZED (SELECT tenant FROM workitem.item WHERE status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
				   " AND wait_until OPERATOR(pg_catalog.<=) $1 "
				   "UNION SELECT tenant FROM workitem.item WHERE status OPERATOR(pg_catalog.=) 'resolved'::workitem.status "
				   " AND feedback_until OPERATOR(pg_catalog.<=) $1 "
				   "UNION SELECT tenant FROM workitem.item WHERE status OPERATOR(pg_catalog.=) 'waiting'::workitem.status "
				   " AND wait_type OPERATOR(pg_catalog.=) 'split'::workitem.wait_type "
				   "UNION SELECT tenant FROM workitem.sla_clock WHERE alarm_at OPERATOR(pg_catalog.<=) $1 "
				   " AND state OPERATOR(pg_catalog.=) 'running' "
				   "UNION SELECT tenant FROM workitem.timer WHERE started_at OPERATOR(pg_catalog.<=) $2) "
				   "SELECT d.tenant, (SELECT pg_catalog.min(p.groupid) FROM pg_catalog.pg_dist_placement p"
				   "  WHERE p.shardid OPERATOR(pg_catalog.=) pg_catalog.get_shard_id_for_distribution_column("
				   "   'workitem.item'::pg_catalog.regclass, d.tenant)) AS node "
				   "FROM d ORDER BY 2, 1",
				   2, types, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem.run_timers: finding the tenants with due work failed");
	n = (int) SPI_processed;
	tenants = palloc(sizeof(char *) * Max(n, 1));
	for (int i = 0; i < n; i++)
		tenants[i] = SPI_getvalue(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1);
	for (int i = 0; i < n && done < max_items; i++)
	{
		bool		isnull;
		Datum		d;

		if (SPI_execute(psprintf("SELECT * FROM workitem.run_timers_tenant(%s, %s::pg_catalog.timestamptz, %d)",
								 quote_literal_cstr(tenants[i]), quote_literal_cstr(at_text), max_items - done),
						false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "workitem.run_timers: running the timers of tenant \"%s\" failed", tenants[i]);
		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
		if (!isnull)
			done += DatumGetInt32(d);
		/* its moves, kept on the worker (src/notify.c) */
		wi_notify_worker_moves(CStringGetTextDatum(tenants[i]));
	}
	return done;
}

static void
check_args(FunctionCallInfo fcinfo, int at_arg, TimestampTz *at, int32 *max_items)
{
	if (PG_ARGISNULL(at_arg) || PG_ARGISNULL(at_arg + 1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("workitem.run_timers: %s must not be NULL",
						PG_ARGISNULL(at_arg) ? "at" : "max_items")));
	*at = PG_GETARG_TIMESTAMPTZ(at_arg);
	*max_items = PG_GETARG_INT32(at_arg + 1);
	if (TIMESTAMP_NOT_FINITE(*at))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("workitem.run_timers: at must be a finite time, not %s",
						timestamptz_to_str(*at))));
	if (*max_items < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workitem.run_timers: max_items must be at least 1, not %d", *max_items)));
}

PG_FUNCTION_INFO_V1(workitem_run_timers);
Datum
workitem_run_timers(PG_FUNCTION_ARGS)
{
	TimestampTz at;
	int32		max_items;
	int			done;

	check_args(fcinfo, 0, &at, &max_items);
	SPI_connect();
	if (wi_citus())
	{
		/*
		 * Under search_path = pg_catalog, pg_temp, in a GUC nest level of its
		 * own (as a function's SET clause does; an error restores it with
		 * the transaction): Citus plans the read of the tenants through
		 * intermediate results and parses the text it made of them again
		 * (built-in types unqualified, ::text) under the session's path, on
		 * which the caller's schema may come first.
		 */
		int			level = NewGUCNestLevel();

		(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
								 GUC_ACTION_SAVE, true, 0, false);
		done = run_tenants(at, max_items);
		AtEOXact_GUC(true, level);
	}
	else
		done = run_pass(at, max_items);
	SPI_finish();
	PG_RETURN_INT32(done);
}

/*
 * workitem.run_timers_tenant(tenant, at, max_items): run_timers() for one
 * tenant, on the node of its shards (Citus; distribute() makes it a
 * distributed function). Elsewhere there is nothing to route: refused.
 */
PG_FUNCTION_INFO_V1(workitem_run_timers_tenant);
Datum
workitem_run_timers_tenant(PG_FUNCTION_ARGS)
{
	TimestampTz at;
	int32		max_items;
	int			done;
	const char *saved = wi_timers_tenant;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("workitem.run_timers_tenant: tenant must not be NULL")));
	check_args(fcinfo, 1, &at, &max_items);
	if (!wi_citus())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("workitem.run_timers_tenant() is for a database distributed by Citus"),
				 errhint("Call workitem.run_timers().")));
	SPI_connect();
	wi_timers_tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
	PG_TRY();
	{
		done = run_pass(at, max_items);
	}
	PG_FINALLY();
	{
		wi_timers_tenant = saved;
	}
	PG_END_TRY();
	SPI_finish();
	PG_RETURN_INT32(done);
}
