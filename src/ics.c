/*
 * ics.c: workitem.import_holidays(calendar, ics), holidays of a business
 * calendar loaded from an iCalendar feed (RFC 5545), as published by
 * public holiday services and exported by calendar programs.
 *
 * The feed is parsed whole first (src/ics_parse.c, which runs outside the
 * server too, under the fuzzer of test/fuzz/); the rows are then inserted
 * through SPI, so the statement trigger on the table drops the cached
 * calendars as for any other change.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "ics.h"
#include "workitem.h"

/* The rows' values of one column as an array, NULL where a row has none. */
static Datum
ics_array(Datum *values, bool *nulls, int n, Oid type, int16 len, bool byval, char align)
{
	int			dims[1] = {n};
	int			lbs[1] = {1};

	return PointerGetDatum(construct_md_array(values, nulls, 1, dims, lbs, type, len, byval, align));
}

/*
 * Insert the rows, in one statement: the calendar's statement trigger then
 * fires once per import. A row already present (same day, same closed
 * hours), or repeated in the feed, is kept once and not counted, so
 * importing a feed twice adds nothing; any other row, overlapping or not,
 * is added (the calendar counts overlapping closings once).
 */
static int
ics_insert(IcsParser *p)
{
	Oid			types[5] = {TEXTOID, DATEARRAYOID, TIMEARRAYOID, TIMEARRAYOID, TEXTARRAYOID};
	Datum		values[5];
	Datum	   *day = palloc(sizeof(Datum) * p->nrows),
			   *starts = palloc(sizeof(Datum) * p->nrows),
			   *ends = palloc(sizeof(Datum) * p->nrows),
			   *name = palloc(sizeof(Datum) * p->nrows);
	bool	   *day_null = palloc0(sizeof(bool) * p->nrows),
			   *starts_null = palloc(sizeof(bool) * p->nrows),
			   *ends_null = palloc(sizeof(bool) * p->nrows),
			   *name_null = palloc(sizeof(bool) * p->nrows);
	int			ret;

	if (p->nrows == 0)
		return 0;
	for (int i = 0; i < p->nrows; i++)
	{
		IcsHoliday *r = &p->rows[i];

		day[i] = DateADTGetDatum(r->day);
		starts[i] = TimeADTGetDatum(r->starts);
		starts_null[i] = !r->has_starts;
		ends[i] = TimeADTGetDatum(r->ends);
		ends_null[i] = !r->has_ends;
		name[i] = r->name ? CStringGetTextDatum(r->name) : (Datum) 0;
		name_null[i] = r->name == NULL;
	}
	values[0] = CStringGetTextDatum(p->calendar);
	values[1] = ics_array(day, day_null, p->nrows, DATEOID, sizeof(DateADT), true, TYPALIGN_INT);
	values[2] = ics_array(starts, starts_null, p->nrows, TIMEOID, sizeof(TimeADT), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[3] = ics_array(ends, ends_null, p->nrows, TIMEOID, sizeof(TimeADT), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE);
	values[4] = ics_array(name, name_null, p->nrows, TEXTOID, -1, false, TYPALIGN_INT);
	/* the first of repeated rows is kept, as the feed lists them */
	ret = SPI_execute_with_args("INSERT INTO workitem.calendar_holiday (calendar, day, starts, ends, name) "
								"SELECT DISTINCT ON (u.day, u.starts, u.ends) $1, u.day, u.starts, u.ends, u.name "
								"FROM ROWS FROM (pg_catalog.unnest($2), pg_catalog.unnest($3), pg_catalog.unnest($4), "
								" pg_catalog.unnest($5)) WITH ORDINALITY AS u (day, starts, ends, name, n) "
								"WHERE NOT EXISTS ("
								" SELECT FROM workitem.calendar_holiday h"
								" WHERE h.calendar OPERATOR(pg_catalog.=) $1"
								" AND h.day OPERATOR(pg_catalog.=) u.day"
								" AND (h.starts OPERATOR(pg_catalog.=) u.starts OR (h.starts IS NULL AND u.starts IS NULL))"
								" AND (h.ends OPERATOR(pg_catalog.=) u.ends OR (h.ends IS NULL AND u.ends IS NULL))) "
								"ORDER BY u.day, u.starts, u.ends, u.n",
								5, types, values, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "workitem: inserting holidays failed: %s", SPI_result_code_string(ret));
	return (int) SPI_processed;
}

PG_FUNCTION_INFO_V1(workitem_import_holidays);
Datum
workitem_import_holidays(PG_FUNCTION_ARGS)
{
	IcsParser	p = {0};
	int			inserted;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("import_holidays needs a calendar and a feed, not NULL")));
	p.calendar = text_to_cstring(PG_GETARG_TEXT_PP(0));

	SPI_connect();
	/*
	 * Lock the calendar: it cannot go away while its holidays go in, and two
	 * imports into it take turns, so that the check for rows already there
	 * sees the other's rows.
	 */
	p.caltz = wi_calendar_zone(p.calendar, true);

	ics_unfold(&p, text_to_cstring(PG_GETARG_TEXT_PP(1)));
	ics_parse(&p);
	inserted = ics_insert(&p);
	SPI_finish();
	PG_RETURN_INT32(inserted);
}
