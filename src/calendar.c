/*
 * calendar.c: business calendars and working time, exact to the
 * microsecond and correct across daylight saving changes.
 *
 * Working time is a function W(t): the working microseconds from a fixed
 * local day (2000-01-01) to the instant t. business_time(a, b) is
 * W(b) - W(a); business_add(a, x) is the instant where W reaches W(a) + x.
 * W(t) is the working time of all days before t's local day plus the part
 * of that day before t, and the first term is computed without walking the
 * days:
 *
 *   Wdays(D) = weekly totals up to day D (closed form)
 *            - holiday reductions before D     (prefix sums, binary search)
 *            + DST corrections before D        (prefix sums, binary search)
 *
 * so a span of five years costs what a span of one day costs. DST
 * corrections exist because a working range that contains a clock change
 * lasts longer or shorter than its wall-clock length; days with a clock
 * change take an exact path that converts each boundary to an instant.
 *
 * A calendar is loaded once per backend and kept until any calendar table
 * changes (a statement trigger sends a relcache invalidation to every
 * backend; see workitem_calendar_changed).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "pgtime.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "workitem.h"

#define DAY_US USECS_PER_DAY

typedef struct Range
{
	int64		start;			/* microseconds after local midnight */
	int64		end;			/* exclusive; at most DAY_US */
} Range;

typedef struct DayPlan
{
	int			n;
	Range	   *r;
	int64		total;			/* nominal: sum of range lengths */
} DayPlan;

typedef struct Holiday
{
	int32		day;			/* local day number, 0 = 2000-01-01 */
	DayPlan		plan;			/* working ranges left on that day */
	int64		reduction;		/* weekday total - plan.total */
} Holiday;

typedef struct DstDay
{
	int32		day;
	int64		correction;		/* exact working time - nominal */
} DstDay;

/*
 * A calendar's name has 1 to 63 characters (the CHECK on workitem.calendar
 * counts characters): up to 4 bytes each in UTF-8, so the cache's key is
 * sized in bytes for the longest name in characters, not NAMEDATALEN.
 */
#define CALENDAR_NAME_MAX	63
#define CALENDAR_KEY_LEN	(CALENDAR_NAME_MAX * MAX_MULTIBYTE_CHAR_LEN + 1)

typedef struct Calendar
{
	char		name[CALENDAR_KEY_LEN];
	MemoryContext cxt;			/* holds the calendar and all it points to */
	pg_tz	   *tz;
	DayPlan		week[7];		/* ISO weekday - 1: Monday = 0 */
	int64		week_prefix[8]; /* working time of days 0..k-1 from a Saturday */
	int64		week_total;
	int			nholidays;
	Holiday    *holidays;
	int64	   *holiday_prefix; /* reductions of holidays[0..i-1] */
	int			ndst;
	DstDay	   *dst;
	int64	   *dst_prefix;
	int			ntrans;			/* UTC offset changes, sorted */
	TimestampTz *trans_at;
	int64	   *trans_offset;	/* offset (local - UTC) from trans_at[i] on */
	int64		first_offset;	/* before trans_at[0] */
} Calendar;

/* Instants handled: 1900 to 2200, where the time zone data is exact. */
#define FIRST_DAY	(-36524)	/* 1900-01-01 */
#define LAST_DAY	(73048)		/* 2199-12-31 */

/*
 * The cache of loaded calendars, by name, as PostgreSQL's own caches do
 * it: the invalidation callback only marks entries invalid, never frees,
 * since it runs wherever invalidations are accepted, in the middle of a
 * load's SPI queries too. A load builds a calendar in a context of its own,
 * checks that no invalidation came meanwhile (else loads again) and only
 * then enters it (a failed load leaves nothing); the contexts of invalid
 * entries are deleted only when a load starts, when no calendar is being
 * read. Everything lives under one context.
 */
typedef struct CalendarEntry
{
	char		name[CALENDAR_KEY_LEN];	/* hash key */
	bool		valid;
	Calendar   *cal;			/* in cal->cxt */
} CalendarEntry;

static HTAB *calendars = NULL;
static MemoryContext calendars_cxt = NULL;
static Oid	calendar_relid = InvalidOid;
static bool load_invalidated;	/* set by an invalidation during a load */

static void
invalidate_calendars(Datum arg, Oid relid)
{
	if (calendars != NULL && (relid == InvalidOid || relid == calendar_relid))
	{
		HASH_SEQ_STATUS seq;
		CalendarEntry *e;

		hash_seq_init(&seq, calendars);
		while ((e = hash_seq_search(&seq)) != NULL)
			e->valid = false;
		load_invalidated = true;
	}
}

/* ISO weekday index (Monday = 0) of local day d; day 0 is a Saturday. */
static inline int
weekday(int32 d)
{
	return (int) (((d % 7) + 7 + 5) % 7);
}

static inline int32
floor_div(int64 a, int64 b)
{
	return (int32) ((a >= 0) ? a / b : -((-a + b - 1) / b));
}

/* ----------------------------------------------------------------------
 * Local time
 * ---------------------------------------------------------------------- */

static int64
offset_at(Calendar *cal, TimestampTz t)
{
	int			lo = 0,
				hi = cal->ntrans;

	/* the last transition at or before t */
	while (lo < hi)
	{
		int			mid = (lo + hi) / 2;

		if (cal->trans_at[mid] <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo == 0 ? cal->first_offset : cal->trans_offset[lo - 1];
}

/* The instant of local day d at s microseconds after its midnight. */
static TimestampTz
instant(Calendar *cal, int32 d, int64 s)
{
	Timestamp	local;
	TimestampTz result;
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (pg_mul_s64_overflow((int64) d, DAY_US, &local) ||
		pg_add_s64_overflow(local, s, &local) ||
		timestamp2tm(local, NULL, &tm, &fsec, NULL, NULL) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": timestamp out of range: day %d after 2000-01-01, " INT64_FORMAT " microseconds after its midnight",
						cal->name, d, s)));
	tz = DetermineTimeZoneOffset(&tm, cal->tz);
	if (pg_add_s64_overflow(local, (int64) tz * USECS_PER_SEC, &result) ||
		!IS_VALID_TIMESTAMP(result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": timestamp out of range: %04d-%02d-%02d %02d:%02d:%02d in its time zone",
						cal->name, tm.tm_year, tm.tm_mon, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec)));
	return result;
}

static void
check_range(Calendar *cal, TimestampTz t)
{
	if (TIMESTAMP_NOT_FINITE(t) ||
		t < (int64) (FIRST_DAY + 1) * DAY_US || t >= (int64) (LAST_DAY - 1) * DAY_US)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": %s is outside the years 1900 to 2199 that working time covers",
						cal->name, timestamptz_to_str(t))));
}

/* ----------------------------------------------------------------------
 * Working time
 * ---------------------------------------------------------------------- */

/* Number of entries whose day is before d, in a sorted array. */
#define COUNT_BEFORE(arr, n, d, result) \
	do { int lo_ = 0, hi_ = (n); \
		while (lo_ < hi_) { int mid_ = (lo_ + hi_) / 2; \
			if ((arr)[mid_].day < (d)) lo_ = mid_ + 1; else hi_ = mid_; } \
		(result) = lo_; } while (0)

static int64
wdays(Calendar *cal, int32 d)
{
	int32		weeks = floor_div(d, 7);
	int			rem = d - weeks * 7;
	int			h,
				k;

	COUNT_BEFORE(cal->holidays, cal->nholidays, d, h);
	COUNT_BEFORE(cal->dst, cal->ndst, d, k);
	return (int64) weeks * cal->week_total + cal->week_prefix[rem]
		- cal->holiday_prefix[h] + cal->dst_prefix[k];
}

static DayPlan *
plan_of(Calendar *cal, int32 d)
{
	int			h;

	COUNT_BEFORE(cal->holidays, cal->nholidays, d, h);
	if (h < cal->nholidays && cal->holidays[h].day == d)
		return &cal->holidays[h].plan;
	return &cal->week[weekday(d)];
}

static bool
is_dst_day(Calendar *cal, int32 d)
{
	int			k;

	COUNT_BEFORE(cal->dst, cal->ndst, d, k);
	return k < cal->ndst && cal->dst[k].day == d;
}

/* W(t): working time from local day 0 to the instant t. */
static int64
work_at(Calendar *cal, TimestampTz t)
{
	int64		local = t + offset_at(cal, t);
	int32		d = floor_div(local, DAY_US);
	int64		s = local - (int64) d * DAY_US;
	DayPlan    *p = plan_of(cal, d);
	int64		w = wdays(cal, d);

	if (!is_dst_day(cal, d))
	{
		for (int i = 0; i < p->n && p->r[i].start < s; i++)
			w += Min(s, p->r[i].end) - p->r[i].start;
	}
	else
	{
		for (int i = 0; i < p->n; i++)
		{
			TimestampTz a = instant(cal, d, p->r[i].start);
			TimestampTz b = instant(cal, d, p->r[i].end);

			if (t > a)
				w += Min(t, b) - a;
		}
	}
	return w;
}

/*
 * The instant where W reaches x: the first such instant when moving
 * forward (a target met at the end of a working range is met there, not
 * at the start of the next one), the last when moving backward.
 */
static TimestampTz
work_inverse(Calendar *cal, TimestampTz from, int64 x, bool forward)
{
	int64		local = from + offset_at(cal, from);
	int32		d0 = floor_div(local, DAY_US);
	int32		lo,
				hi,
				step;
	DayPlan    *p;
	int64		r;
	bool		dst;

	/* The day of the answer is the first d with Wdays(d + 1) >= x (> x backward). */
#define REACHED(d) (forward ? wdays(cal, (d) + 1) >= x : wdays(cal, (d) + 1) > x)
	if (forward)
	{
		lo = d0;
		for (step = 1; !REACHED(d0 + step); step *= 2)
			if (d0 + step > LAST_DAY)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("calendar \"%s\": the result lies after the year 2199", cal->name)));
		hi = d0 + step;
	}
	else
	{
		hi = d0;
		for (step = 1; REACHED(d0 - step); step *= 2)
			if (d0 - step < FIRST_DAY)
				ereport(ERROR,
						(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
						 errmsg("calendar \"%s\": the result lies before the year 1900", cal->name)));
		lo = d0 - step;
	}
	while (lo < hi)
	{
		int32		mid = lo + (hi - lo) / 2;

		if (REACHED(mid))
			hi = mid;
		else
			lo = mid + 1;
	}
#undef REACHED

	p = plan_of(cal, lo);
	r = x - wdays(cal, lo);
	dst = is_dst_day(cal, lo);
	for (int i = 0; i < p->n; i++)
	{
		TimestampTz a = dst ? instant(cal, lo, p->r[i].start) : 0;
		int64		len = dst ? instant(cal, lo, p->r[i].end) - a : p->r[i].end - p->r[i].start;

		if (forward ? r <= len : r < len)
			return dst ? a + r : instant(cal, lo, p->r[i].start + r);
		r -= len;
	}
	elog(ERROR, "calendar \"%s\": working time not found on its day", cal->name);
	return 0;					/* keep compiler quiet */
}

/* ----------------------------------------------------------------------
 * Loading a calendar
 * ---------------------------------------------------------------------- */

static int
wrange_cmp(const void *a, const void *b)
{
	const Range *x = a,
			   *y = b;

	return (x->start > y->start) - (x->start < y->start);
}

/* Sort and merge overlapping or touching ranges in place; returns the count. */
static int
merge_ranges(Range *r, int n)
{
	int			out = 0;

	if (n == 0)
		return 0;
	qsort(r, n, sizeof(Range), wrange_cmp);
	for (int i = 1; i < n; i++)
	{
		if (r[i].start <= r[out].end)
			r[out].end = Max(r[out].end, r[i].end);
		else
			r[++out] = r[i];
	}
	return out + 1;
}

static void
plan_set(DayPlan *p, Range *r, int n)
{
	p->n = merge_ranges(r, n);
	p->r = r;
	p->total = 0;
	for (int i = 0; i < p->n; i++)
		p->total += p->r[i].end - p->r[i].start;
}

/* The working ranges of plan minus the closed ranges. */
static void
plan_subtract(DayPlan *out, const DayPlan *plan, Range *closed, int nclosed)
{
	Range	   *r = palloc(sizeof(Range) * (plan->n + 1) * (nclosed + 1));
	int			n = 0;

	nclosed = merge_ranges(closed, nclosed);
	for (int i = 0; i < plan->n; i++)
	{
		int64		cur = plan->r[i].start;

		for (int j = 0; j < nclosed && cur < plan->r[i].end; j++)
		{
			if (closed[j].end <= cur || closed[j].start >= plan->r[i].end)
				continue;
			if (closed[j].start > cur)
				r[n++] = (Range) {cur, closed[j].start};
			cur = Max(cur, closed[j].end);
		}
		if (cur < plan->r[i].end)
			r[n++] = (Range) {cur, plan->r[i].end};
	}
	plan_set(out, r, n);
}

static int64
exact_total(Calendar *cal, int32 d, DayPlan *p)
{
	int64		total = 0;

	for (int i = 0; i < p->n; i++)
		total += instant(cal, d, p->r[i].end) - instant(cal, d, p->r[i].start);
	return total;
}

static void
load_transitions(Calendar *cal)
{
	pg_time_t	t = (pg_time_t) (FIRST_DAY - 2) * SECS_PER_DAY + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	pg_time_t	end = (pg_time_t) (LAST_DAY + 2) * SECS_PER_DAY + (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
	long int	before_off,
				after_off;
	int			before_dst,
				after_dst;
	pg_time_t	boundary;
	int			cap = 64;
	int			res;

	cal->ntrans = 0;
	cal->trans_at = palloc(sizeof(TimestampTz) * cap);
	cal->trans_offset = palloc(sizeof(int64) * cap);
	res = pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary,
							   &after_off, &after_dst, cal->tz);
	if (res < 0)
		elog(ERROR, "calendar \"%s\": cannot read its time zone", cal->name);
	cal->first_offset = (int64) before_off * USECS_PER_SEC;
	while (res == 1 && boundary < end)
	{
		if (cal->ntrans == cap)
		{
			cap *= 2;
			cal->trans_at = repalloc(cal->trans_at, sizeof(TimestampTz) * cap);
			cal->trans_offset = repalloc(cal->trans_offset, sizeof(int64) * cap);
		}
		cal->trans_at[cal->ntrans] = ((int64) boundary -
									  (POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY) * USECS_PER_SEC;
		cal->trans_offset[cal->ntrans] = (int64) after_off * USECS_PER_SEC;
		cal->ntrans++;
		t = boundary;
		res = pg_next_dst_boundary(&t, &before_off, &before_dst, &boundary,
								   &after_off, &after_dst, cal->tz);
	}
}

static int
dst_cmp(const void *a, const void *b)
{
	const DstDay *x = a,
			   *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

/* Days with a clock change, and how much exact time differs from nominal. */
static void
load_dst_days(Calendar *cal)
{
	int			n = 0;

	cal->dst = palloc(sizeof(DstDay) * (cal->ntrans * 2 + 1));
	for (int i = 0; i < cal->ntrans; i++)
	{
		int64		before = i == 0 ? cal->first_offset : cal->trans_offset[i - 1];
		int32		d1 = floor_div(cal->trans_at[i] + before, DAY_US);
		int32		d2 = floor_div(cal->trans_at[i] + cal->trans_offset[i], DAY_US);

		cal->dst[n++].day = d1;
		if (d2 != d1)
			cal->dst[n++].day = d2;
	}
	qsort(cal->dst, n, sizeof(DstDay), dst_cmp);
	cal->ndst = 0;
	for (int i = 0; i < n; i++)
		if (cal->ndst == 0 || cal->dst[cal->ndst - 1].day != cal->dst[i].day)
			cal->dst[cal->ndst++].day = cal->dst[i].day;

	cal->dst_prefix = palloc(sizeof(int64) * (cal->ndst + 1));
	cal->dst_prefix[0] = 0;
	for (int i = 0; i < cal->ndst; i++)
	{
		DayPlan    *p = plan_of(cal, cal->dst[i].day);

		cal->dst[i].correction = exact_total(cal, cal->dst[i].day, p) - p->total;
		cal->dst_prefix[i + 1] = cal->dst_prefix[i] + cal->dst[i].correction;
	}
}

static int32
date_to_day(Datum d)
{
	/* DateADT counts days from 2000-01-01 too */
	return (int32) DatumGetDateADT(d);
}

/*
 * A calendar is loaded where it is used, also inside a query Citus pushed
 * to a shard (a view calling clock_used()), where reading the reference
 * tables by their names is refused as a nested distributed query: on
 * Citus, their placement on this node is read instead (src/citus.c).
 */
static const char *
local_sql(const char *sql)
{
	return wi_citus() ? wi_local_sql(sql, NULL) : sql;
}

/*
 * The time zone of a calendar, by name (WI017 when there is no such
 * calendar). With `lock`, the calendar row is locked so that it stays
 * while the caller writes its holidays. The caller is connected to SPI.
 */
pg_tz *
wi_calendar_zone(const char *name, bool lock)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(name)};
	char	   *zone;
	pg_tz	   *tz;

	if (SPI_execute_with_args(lock ? "SELECT time_zone FROM workitem.calendar "
							  "WHERE name OPERATOR(pg_catalog.=) $1 FOR NO KEY UPDATE"
							  : local_sql("SELECT time_zone FROM workitem.calendar "
										  "WHERE name OPERATOR(pg_catalog.=) $1"),
							  1, argtypes, args, NULL, !lock, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading calendar failed");
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_CALENDAR),
				 errmsg("calendar \"%s\" does not exist", name),
				 errhint("Calendars are rows of workitem.calendar; the built-in one is \"24x7\".")));
	zone = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
	tz = pg_tzset(zone);
	if (tz == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calendar \"%s\": unknown time zone \"%s\"", name, zone)));
	return tz;
}

static void
load_calendar(Calendar *cal)
{
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1] = {CStringGetTextDatum(cal->name)};
	MemoryContext old;
	Range	   *week[7];
	int			nweek[7] = {0};
	bool		isnull;
	int			guc_level = -1;

	/*
	 * Citus: a function pushed down to a shard (business_time() in a view)
	 * may read only local tables unless nested execution is allowed; the
	 * calendar tables are reference tables, whose copy on this node is what
	 * is read, so this load allows it (only while loading).
	 */
	if (GetConfigOption("citus.allow_nested_distributed_execution", true, false) != NULL)
	{
		guc_level = NewGUCNestLevel();
		(void) set_config_option("citus.allow_nested_distributed_execution", "on", PGC_USERSET,
								 PGC_S_SESSION, GUC_ACTION_SAVE, true, 0, false);
	}
	SPI_connect();
	cal->tz = wi_calendar_zone(cal->name, false);

	/* Working hours per weekday */
	if (SPI_execute_with_args(local_sql("SELECT weekday, starts, ends FROM workitem.calendar_hours "
										"WHERE calendar OPERATOR(pg_catalog.=) $1"),
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading calendar hours failed");
	old = MemoryContextSwitchTo(cal->cxt);
	for (int w = 0; w < 7; w++)
		week[w] = palloc(sizeof(Range) * (SPI_processed + 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		int			w = DatumGetInt16(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull)) - 1;
		Range		r;

		r.start = DatumGetTimeADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		r.end = DatumGetTimeADT(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
		week[w][nweek[w]++] = r;
	}
	cal->week_total = 0;
	for (int w = 0; w < 7; w++)
	{
		plan_set(&cal->week[w], week[w], nweek[w]);
		cal->week_total += cal->week[w].total;
	}
	/* working time of the first k days of a week that starts on a Saturday */
	cal->week_prefix[0] = 0;
	for (int k = 0; k < 7; k++)
		cal->week_prefix[k + 1] = cal->week_prefix[k] + cal->week[weekday(k)].total;
	MemoryContextSwitchTo(old);

	/* Holidays: whole days, or closed from starts to ends */
	if (SPI_execute_with_args(local_sql("SELECT day, COALESCE(starts, '00:00'), COALESCE(ends, '24:00') "
										"FROM workitem.calendar_holiday "
										"WHERE calendar OPERATOR(pg_catalog.=) $1 ORDER BY day"),
							  1, argtypes, args, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading holidays failed");
	old = MemoryContextSwitchTo(cal->cxt);
	cal->holidays = palloc(sizeof(Holiday) * (SPI_processed + 1));
	cal->nholidays = 0;
	for (uint64 i = 0; i < SPI_processed;)
	{
		int32		day = date_to_day(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull));
		Range	   *closed = palloc(sizeof(Range) * (SPI_processed - i));
		int			nclosed = 0;
		Holiday    *h = &cal->holidays[cal->nholidays++];

		for (; i < SPI_processed &&
			 date_to_day(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull)) == day; i++)
		{
			closed[nclosed].start = DatumGetTimeADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull));
			closed[nclosed].end = DatumGetTimeADT(SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 3, &isnull));
			nclosed++;
		}
		h->day = day;
		plan_subtract(&h->plan, &cal->week[weekday(day)], closed, nclosed);
		h->reduction = cal->week[weekday(day)].total - h->plan.total;
	}
	cal->holiday_prefix = palloc(sizeof(int64) * (cal->nholidays + 1));
	cal->holiday_prefix[0] = 0;
	for (int i = 0; i < cal->nholidays; i++)
		cal->holiday_prefix[i + 1] = cal->holiday_prefix[i] + cal->holidays[i].reduction;

	load_transitions(cal);
	load_dst_days(cal);
	MemoryContextSwitchTo(old);
	SPI_finish();
	if (guc_level >= 0)
		AtEOXact_GUC(true, guc_level);
}

/* The calendar of that name, from the backend's cache or loaded now. */
static Calendar *
get_calendar(text *name)
{
	char		key[CALENDAR_KEY_LEN] = {0};
	CalendarEntry *e;
	HASH_SEQ_STATUS seq;
	int			len = VARSIZE_ANY_EXHDR(name);

	/* Too long for the table: it cannot exist (the message shows its start). */
	if (len >= CALENDAR_KEY_LEN ||
		pg_mbstrlen_with_len(VARDATA_ANY(name), len) > CALENDAR_NAME_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_CALENDAR),
				 errmsg("calendar \"%s...\" does not exist",
						pnstrdup(VARDATA_ANY(name), pg_mbcliplen(VARDATA_ANY(name), len, 40))),
				 errdetail("A calendar name has at most %d characters.", CALENDAR_NAME_MAX)));
	memcpy(key, VARDATA_ANY(name), len);

	if (calendars == NULL)
	{
		HASHCTL		ctl = {0};

		calendars_cxt = AllocSetContextCreate(CacheMemoryContext, "workitem calendars",
											  ALLOCSET_SMALL_SIZES);
		ctl.keysize = CALENDAR_KEY_LEN;
		ctl.entrysize = sizeof(CalendarEntry);
		ctl.hcxt = calendars_cxt;
		calendars = hash_create("workitem calendars", 16, &ctl,
#if PG_VERSION_NUM >= 140000
								HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
#else
								HASH_ELEM | HASH_CONTEXT);
#endif
		wi_on_relcache(invalidate_calendars);
	}
	e = hash_search(calendars, key, HASH_FIND, NULL);
	if (e != NULL && e->valid)
		return e->cal;

	/* looked up again: the extension may have been dropped and created anew */
	calendar_relid = get_relname_relid("calendar", wi_namespace());

	/* Nothing reads a calendar here: free what invalidations left behind. */
	hash_seq_init(&seq, calendars);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (!e->valid)
		{
			MemoryContextDelete(e->cal->cxt);
			hash_search(calendars, e->name, HASH_REMOVE, NULL);
		}

	for (;;)
	{
		/*
		 * Built under the caller's context, so that an error frees it; moved
		 * under the cache's once complete and still valid.
		 */
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "workitem calendar",
												  ALLOCSET_SMALL_SIZES);
		Calendar   *cal = MemoryContextAllocZero(cxt, sizeof(Calendar));

		memcpy(cal->name, key, CALENDAR_KEY_LEN);
		cal->cxt = cxt;
		load_invalidated = false;
		load_calendar(cal);
		if (!load_invalidated)
		{
			e = hash_search(calendars, key, HASH_ENTER, NULL);
			e->valid = true;
			e->cal = cal;
			MemoryContextSetParent(cxt, calendars_cxt);
			return cal;
		}
		MemoryContextDelete(cxt);
	}
}

/* ----------------------------------------------------------------------
 * SQL interface
 * ---------------------------------------------------------------------- */

/*
 * An interval of working time in microseconds (a day counts 24 hours).
 * Checked: 213503982 days are more microseconds than an int64 holds, and
 * wrapped round they were a negative amount.
 */
int64
wi_interval_usecs(Interval *iv)
{
	int64		us;

	if (iv->month != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("working time cannot be given in months or years"),
				 errhint("Give it in days, hours and minutes; a day counts as 24 working hours.")));
	if (pg_mul_s64_overflow((int64) iv->day, DAY_US, &us) ||
		pg_add_s64_overflow(us, iv->time, &us))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("working time out of range: \"%s\"",
						DatumGetCString(DirectFunctionCall1(interval_out, IntervalPGetDatum(iv)))),
				 errdetail("Working time is counted in microseconds, a day as 24 hours: at most about 292,000 years.")));
	return us;
}

Interval *
wi_usecs_interval(int64 us)
{
	Interval   *iv = palloc0(sizeof(Interval));

	iv->time = us;
	return iv;
}

/* Shared with the SLA clock. */
int64
wi_business_usecs(text *calendar, TimestampTz from, TimestampTz to)
{
	Calendar   *cal = get_calendar(calendar);
	int64		result;

	check_range(cal, from);
	check_range(cal, to);
	/* both lie within 1900-2199: cannot overflow, checked all the same */
	if (pg_sub_s64_overflow(work_at(cal, to), work_at(cal, from), &result))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": working time from %s to %s out of range",
						cal->name, timestamptz_to_str(from), timestamptz_to_str(to))));
	return result;
}

TimestampTz
wi_business_add(text *calendar, TimestampTz from, int64 amount)
{
	Calendar   *cal = get_calendar(calendar);
	int64		goal;
	TimestampTz result;

	check_range(cal, from);
	if (amount == 0)
		return from;
	if (cal->week_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_NO_WORKING_HOURS),
				 errmsg("calendar \"%s\" has no working hours: no working time can pass in it",
						cal->name),
				 errhint("Add rows to workitem.calendar_hours.")));
	if (pg_add_s64_overflow(work_at(cal, from), amount, &goal))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": timestamp out of range: %s plus %s of working time",
						cal->name, timestamptz_to_str(from),
						DatumGetCString(DirectFunctionCall1(interval_out,
															IntervalPGetDatum(wi_usecs_interval(amount))))),
				 errhint("Working time is counted from 2000-01-01; results lie within the years 1900 to 2199.")));
	result = work_inverse(cal, from, goal, amount > 0);
	if (!IS_VALID_TIMESTAMP(result))	/* work_inverse keeps to 1900-2199 */
		elog(ERROR, "calendar \"%s\": business_add left the range of timestamps", cal->name);
	return result;
}

PG_FUNCTION_INFO_V1(workitem_business_time);
Datum
workitem_business_time(PG_FUNCTION_ARGS)
{
	PG_RETURN_INTERVAL_P(wi_usecs_interval(wi_business_usecs(PG_GETARG_TEXT_PP(0),
														  PG_GETARG_TIMESTAMPTZ(1),
														  PG_GETARG_TIMESTAMPTZ(2))));
}

PG_FUNCTION_INFO_V1(workitem_business_add);
Datum
workitem_business_add(PG_FUNCTION_ARGS)
{
	PG_RETURN_TIMESTAMPTZ(wi_business_add(PG_GETARG_TEXT_PP(0), PG_GETARG_TIMESTAMPTZ(1),
										  wi_interval_usecs(PG_GETARG_INTERVAL_P(2))));
}

/* Statement trigger on the calendar tables: every backend drops its cache. */
PG_FUNCTION_INFO_V1(workitem_calendar_changed);
Datum
workitem_calendar_changed(PG_FUNCTION_ARGS)
{
	Oid			relid = get_relname_relid("calendar", wi_namespace());

	if (OidIsValid(relid))
		CacheInvalidateRelcacheByRelid(relid);
	return PointerGetDatum(NULL);
}

/* For the CHECK on workitem.calendar: is this a time zone PostgreSQL knows? */
PG_FUNCTION_INFO_V1(workitem_valid_time_zone);
Datum
workitem_valid_time_zone(PG_FUNCTION_ARGS)
{
	char	   *name = text_to_cstring(PG_GETARG_TEXT_PP(0));

	PG_RETURN_BOOL(pg_tzset(name) != NULL);
}

/* The end of the nth working day after the local day of from (SLA targets in business days). */
PG_FUNCTION_INFO_V1(workitem_end_of_working_day);
Datum
workitem_end_of_working_day(PG_FUNCTION_ARGS)
{
	Calendar   *cal = get_calendar(PG_GETARG_TEXT_PP(0));
	TimestampTz from = PG_GETARG_TIMESTAMPTZ(1);
	int32		n = PG_GETARG_INT32(2);
	int32		d;
	DayPlan    *p = NULL;

	check_range(cal, from);
	if (n < 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a number of working days must be at least 1, not %d", n)));
	if (cal->week_total == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_NO_WORKING_HOURS),
				 errmsg("calendar \"%s\" has no working hours: no working day ends in it", cal->name)));
	d = floor_div(from + offset_at(cal, from), DAY_US);
	while (n > 0)
	{
		if (++d > LAST_DAY)
			ereport(ERROR,
					(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
					 errmsg("calendar \"%s\": the result lies after the year 2199", cal->name)));
		p = plan_of(cal, d);
		if (p->n > 0)
			n--;
	}
	PG_RETURN_TIMESTAMPTZ(instant(cal, d, p->r[p->n - 1].end));
}
