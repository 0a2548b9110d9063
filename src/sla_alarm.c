/*
 * sla_alarm.c: when an SLA clock next needs attention, and that attention.
 *
 * The trigger clock_alarm keeps sla_clock.alarm_at (the first unfired
 * warning threshold, else the due time until breached), so that
 * run_timers() finds due alarms through an index, whoever wrote the clock;
 * wi_sla_run_alarms() fires them, each warning and breach once.
 */
#include "postgres.h"

#include <math.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "workitem.h"

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
threshold_reached_at(text *calendar, TimestampTz since, int64 used, int64 thr)
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

/* An item's clock (item_id), or a row of an attached table's (ev: source, row_key). */
static void
clock_event(int64 clock_id, const char *tenant, const WiEvent *ev, const char *target, int32 cycle,
			const char *event, int64 used, TimestampTz due_at, const char *reason)
{
	Oid			types[11] = {INT8OID, INT8OID, TEXTOID, INT4OID, TEXTOID, INTERVALOID,
	TIMESTAMPTZOID, TEXTOID, TEXTOID, REGCLASSOID, TEXTOID};
	Datum		v[11];
	char		nulls[11];
	int64		item_id = ev->item_id;

	memset(nulls, ' ', sizeof(nulls));
	nulls[1] = item_id == 0 ? 'n' : ' ';
	nulls[9] = OidIsValid(ev->source) ? ' ' : 'n';
	nulls[10] = ev->row_key != NULL ? ' ' : 'n';
	v[9] = ObjectIdGetDatum(ev->source);
	v[10] = ev->row_key != NULL ? CStringGetTextDatum(ev->row_key) : (Datum) 0;
	v[0] = Int64GetDatum(clock_id);
	v[1] = Int64GetDatum(item_id);
	v[2] = CStringGetTextDatum(target);
	v[3] = Int32GetDatum(cycle);
	v[4] = CStringGetTextDatum(event);
	v[5] = IntervalPGetDatum(wi_usecs_interval(used));
	v[6] = TimestampTzGetDatum(due_at);
	v[7] = CStringGetTextDatum(reason);
	v[8] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	if (wi_execute("INSERT INTO workitem.sla_clock_event "
				   "(clock_id, item_id, target, cycle, event, used, due_at, reason[[, tenant, source, row_key]]) "
				   "VALUES ($1, $2, $3, $4, $5, $6, $7, $8[[, $9, $10, $11]])", 11, types, v, nulls, false, 0) != SPI_OK_INSERT)
		elog(ERROR, "workitem.run_timers: writing a clock event failed");
}

/*
 * run_timers' SLA part: the running clocks whose alarm is due by `at` (at
 * most budget), each warning threshold and breach logged once. Runs as
 * the schema's owner, connected to SPI; returns the clocks that fired.
 */
int
wi_sla_run_alarms(TimestampTz at, int budget)
{
	Oid			sel_types[3] = {TIMESTAMPTZOID, INT4OID, TEXTOID};
	Oid			upd_types[4] = {INT8OID, NUMERICARRAYOID, TIMESTAMPTZOID, TEXTOID};
	/* Citus: one tenant's clocks, routed by it (timers.c) */
	Datum		sel[3] = {TimestampTzGetDatum(at), Int32GetDatum(budget),
	wi_timers_tenant ? CStringGetTextDatum(wi_timers_tenant) : (Datum) 0};
	char		sel_nulls[3] = {' ', ' ', wi_timers_tenant ? ' ' : 'n'};
	SPITupleTable *tt;
	int			n,
				flagged = 0;

	SPIPlanPtr	plan_alarms,
				plan_clock_fired;

	/*
	 * Citus: one tenant's clocks, and the policies' thresholds from the
	 * config cache (a join with the reference table is not routed by the
	 * tenant, which a delegated function must do).
	 */
	plan_alarms = wi_timers_tenant
		? wi_plan("SELECT c.id, c.item_id, c.target, c.cycle, c.calendar, c.target_time, c.used, "
				  " c.since, c.due_at, c.warned, c.breached_at, c.policy_id, c.tenant, c.source, c.row_key "
				  "FROM workitem.sla_clock c "
				  "WHERE c.alarm_at OPERATOR(pg_catalog.<=) $1 "
				  "AND c.state OPERATOR(pg_catalog.=) 'running' AND c.tenant OPERATOR(pg_catalog.=) $3 "
				  "ORDER BY c.alarm_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED", 3, sel_types)
		: wi_plan("SELECT c.id, c.item_id, c.target, c.cycle, c.calendar, c.target_time, c.used, "
				  " c.since, c.due_at, c.warned, c.breached_at, p.warn_at[[, c.tenant, c.source, c.row_key]] "
				  "FROM workitem.sla_clock c LEFT JOIN workitem.sla_policy p "
				  " ON p.id OPERATOR(pg_catalog.=) c.policy_id "
				  "WHERE c.alarm_at OPERATOR(pg_catalog.<=) $1 "
				  "AND c.state OPERATOR(pg_catalog.=) 'running' "
				  "ORDER BY c.alarm_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED", 2, sel_types);
	plan_clock_fired = wi_plan("UPDATE workitem.sla_clock SET warned = $2, breached_at = $3 "
							   "WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $4}}",
							   4, upd_types);

	if (SPI_execute_plan(plan_alarms, sel, sel_nulls, false, 0) != SPI_OK_SELECT)
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
		Datum		item_d = SPI_getbinval(t, d, 2, &isnull);
		int64		item_id = isnull ? 0 : DatumGetInt64(item_d);	/* 0: a row of an attached table */
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
		bool		no_policy = isnull ||
			(wi_timers_tenant && !wi_config_warn_at(DatumGetInt64(warn_at_d), &warn_at_d));
		char	   *tenant = d->natts >= 13 ? TextDatumGetCString(SPI_getbinval(t, d, 13, &isnull)) : NULL;
		Datum	   *warned,
				   *warn_at = NULL;
		int			nwarned,
					nwarn_at = 0;
		int64		used_now = wi_clock_used_at(calendar, used, false, since, at);
		bool		breached = !breached_null;
		bool		fired = false;
		Datum		upd[4];
		char		upd_nulls[4] = {' ', ' ', ' ', sel_nulls[2]};
		WiEvent		ev = {0};

		if (!no_policy)
			warn_at = numerics(warn_at_d, &nwarn_at);
		warned = numerics(warned_d, &nwarned);
		warned = repalloc(warned, sizeof(Datum) * (nwarned + nwarn_at + 1));

		ev.item_id = item_id;
		ev.tenant = tenant;
		if (item_id == 0 && d->natts >= 15)
		{
			ev.source = DatumGetObjectId(SPI_getbinval(t, d, 14, &isnull));
			ev.row_key = TextDatumGetCString(SPI_getbinval(t, d, 15, &isnull));
		}
		ev.actor = "system";
		for (int k = 0; k < nwarn_at; k++)
		{
			double		f = numeric_double(warn_at[k]);
			int			pct = (int) rint(f * 100.0);

			if (fired_already(warned, nwarned, warn_at[k]) ||
				threshold_reached_at(calendar, since, used, threshold(f, target_us)) > at)
				continue;
			warned[nwarned++] = warn_at[k];
			ev.what = "sla_warning";
			ev.old_value = NULL;
			ev.new_value = psprintf("%d%%", pct);
			ev.reason = psprintf("%s target: %d %% of %s used", target, pct,
								 wi_hours_minutes(target_us));
			wi_log_event(&ev);
			clock_event(clock_id, tenant, &ev, target, cycle, "warning", used_now, due_at, ev.reason);
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
			clock_event(clock_id, tenant, &ev, target, cycle, "breach", used_now, due_at, ev.reason);
			breached_d = TimestampTzGetDatum(due_at);
			breached = true;
			fired = true;
		}
		/* Also when nothing fired: the update recomputes a stale alarm_at. */
		upd[0] = Int64GetDatum(clock_id);
		upd[1] = numeric_array_datum(warned, nwarned);
		upd[2] = breached_d;
		upd_nulls[2] = breached ? ' ' : 'n';
		upd[3] = sel[2];
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
	if (wi_restoring_dump(td))
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
		/* Runs at every start and resume of a clock: the policy from the cache. */
		if (!no_policy)
		{
			Datum		w;

			if (wi_config_warn_at(DatumGetInt64(policy), &w))
			{
				int			nwarn = 0,
							nwarned = 0;
				Datum	   *warn = numerics(w, &nwarn);
				Datum	   *warned = numerics(SPI_getbinval(tup, d, c_warned, &isnull), &nwarned);

				for (int k = 0; k < nwarn; k++)
					if (!fired_already(warned, nwarned, warn[k]))
					{
						TimestampTz m = threshold_reached_at(calendar, since, used,
											   threshold(numeric_double(warn[k]), target_us));

						if (m < next)
							next = m;
					}
			}
		}
	}
	value_null = TIMESTAMP_IS_NOEND(next);
	value = TimestampTzGetDatum(next);
	return PointerGetDatum(heap_modify_tuple_by_cols(tup, d, 1, &c_alarm, &value, &value_null));
}
