/*
 * sla_read.c: reading an SLA clock. Pure functions of a clock's columns
 * (and its calendar), so that a view over a million clocks runs no query
 * per row: used working time, state, the label people read.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "workitem.h"

/* Working time used by the moment at (NULL since: stopped, used is final). */
int64
wi_clock_used_at(text *calendar, int64 used, bool since_null, TimestampTz since, TimestampTz at)
{
	if (!since_null && at > since &&
		pg_add_s64_overflow(used, wi_business_usecs(calendar, since, at), &used))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("SLA clock: working time used out of range"),
				 errdetail("Used before: %s; running since %s, read at %s.",
						   DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(wi_usecs_interval(used)))),
						   timestamptz_to_str(since), timestamptz_to_str(at))));
	return used;
}

/* The non-NULL elements of a numeric[] (warn_at, warned) as doubles. */
double *
wi_numeric_array(Datum a, int *n)
{
	Datum	   *elems;
	bool	   *nulls;
	double	   *out;
	int			k = 0;

	deconstruct_array(DatumGetArrayTypeP(a), NUMERICOID, -1, false, TYPALIGN_INT,
					  &elems, &nulls, n);
	out = palloc(sizeof(double) * Max(*n, 1));
	for (int i = 0; i < *n; i++)
		if (!nulls[i])
			out[k++] = DatumGetFloat8(DirectFunctionCall1(numeric_float8, elems[i]));
	*n = k;
	return out;
}

/* "2 h 5 m": the form of the labels, and of the SLA alarms' reasons. */
char *
wi_hours_minutes(int64 us)
{
	/* unsigned: the magnitude of INT64_MIN has no int64 */
	uint64		minutes = (us < 0 ? -(uint64) us : (uint64) us) / USECS_PER_MINUTE;

	return psprintf(UINT64_FORMAT " h " UINT64_FORMAT " m", minutes / 60, minutes % 60);
}

PG_FUNCTION_INFO_V1(workitem_clock_used);
Datum
workitem_clock_used(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3))
		PG_RETURN_NULL();
	PG_RETURN_INTERVAL_P(wi_usecs_interval(
							 wi_clock_used_at(PG_GETARG_TEXT_PP(0), wi_interval_usecs(PG_GETARG_INTERVAL_P(1)),
											  PG_ARGISNULL(2), PG_ARGISNULL(2) ? 0 : PG_GETARG_TIMESTAMPTZ(2),
											  PG_GETARG_TIMESTAMPTZ(3))));
}

/* running | paused | warning | breached | met | missed (| pending) */
PG_FUNCTION_INFO_V1(workitem_clock_state);
Datum
workitem_clock_state(PG_FUNCTION_ARGS)
{
	char	   *state;
	int64		target,
				used;
	double		lowest = 2.0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(6))
		PG_RETURN_NULL();
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(state, "running") != 0)
		PG_RETURN_TEXT_P(cstring_to_text(state));
	target = wi_interval_usecs(PG_GETARG_INTERVAL_P(2));
	used = wi_clock_used_at(PG_GETARG_TEXT_PP(1), wi_interval_usecs(PG_GETARG_INTERVAL_P(3)), PG_ARGISNULL(4),
				   PG_ARGISNULL(4) ? 0 : PG_GETARG_TIMESTAMPTZ(4), PG_GETARG_TIMESTAMPTZ(6));
	if (used >= target)
		PG_RETURN_TEXT_P(cstring_to_text("breached"));
	if (!PG_ARGISNULL(5))
	{
		int			n;
		double	   *warn_at = wi_numeric_array(PG_GETARG_DATUM(5), &n);

		for (int i = 0; i < n; i++)
			lowest = Min(lowest, warn_at[i]);
	}
	if (target > 0 && (double) used / (double) target >= lowest)
		PG_RETURN_TEXT_P(cstring_to_text("warning"));
	PG_RETURN_TEXT_P(cstring_to_text("running"));
}

/*
 * A due time as people read it: to the minute (seconds dropped, so the
 * label never shows a minute after the real due time), in the session's
 * TimeZone, with the zone's abbreviation: "2026-11-30 16:30 CET".
 */
static char *
label_time(TimestampTz t)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;
	const char *tzn = NULL;

	if (TIMESTAMP_NOT_FINITE(t) || timestamp2tm(t, &tz, &tm, &fsec, &tzn, NULL) != 0)
		return pstrdup(timestamptz_to_str(t));
	if (tzn == NULL || tzn[0] == '\0')
		return psprintf("%04d-%02d-%02d %02d:%02d %c%02d:%02d", tm.tm_year, tm.tm_mon, tm.tm_mday,
						tm.tm_hour, tm.tm_min, tz <= 0 ? '+' : '-', abs(tz) / SECS_PER_HOUR,
						abs(tz) % SECS_PER_HOUR / SECS_PER_MINUTE);
	return psprintf("%04d-%02d-%02d %02d:%02d %s", tm.tm_year, tm.tm_mon, tm.tm_mday,
					tm.tm_hour, tm.tm_min, tzn);
}

/* "Due: 2026-11-30 16:30 CET" while running; "Due: paused 2 h 5 m before due date" when stopped. */
PG_FUNCTION_INFO_V1(workitem_clock_label);
Datum
workitem_clock_label(PG_FUNCTION_ARGS)
{
	char	   *state;
	int64		target,
				used,
				left;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(3) || PG_ARGISNULL(6))
		PG_RETURN_NULL();
	state = text_to_cstring(PG_GETARG_TEXT_PP(0));
	if (strcmp(state, "running") == 0 && !PG_ARGISNULL(5))
		PG_RETURN_TEXT_P(cstring_to_text(psprintf("Due: %s", label_time(PG_GETARG_TIMESTAMPTZ(5)))));
	if (strcmp(state, "pending") == 0)
		PG_RETURN_TEXT_P(cstring_to_text("Due: not started"));
	target = wi_interval_usecs(PG_GETARG_INTERVAL_P(2));
	used = wi_interval_usecs(PG_GETARG_INTERVAL_P(3));	/* stopped: used is final */
	if (pg_sub_s64_overflow(target, used, &left))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("SLA clock: working time left out of range: target %s, used %s",
						DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(2))),
						DatumGetCString(DirectFunctionCall1(interval_out, PG_GETARG_DATUM(3))))));
	PG_RETURN_TEXT_P(cstring_to_text(psprintf("%s %s %s due date",
											  strcmp(state, "paused") == 0 ? "Due: paused" :
											  strcmp(state, "met") == 0 ? "Met:" : "Missed:",
											  wi_hours_minutes(left),
											  left >= 0 ? "before" : "after")));
}
