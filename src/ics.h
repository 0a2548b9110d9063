/*
 * ics.h: the iCalendar (RFC 5545) parser of import_holidays, shared by
 * src/ics.c (the SQL function) and test/fuzz/ (a libFuzzer harness that
 * runs the parser outside the server).
 *
 * The parser (src/ics_parse.c) reads no table and calls no SPI: besides
 * palloc, StringInfo and ereport it uses only the date and time zone
 * functions of the server (date2j, j2date, pg_tzset,
 * DetermineTimeZoneOffset, tm2timestamp, timestamp2tm), which the
 * harness replaces with fixed-offset versions.
 */
#ifndef WORKITEM_ICS_H
#define WORKITEM_ICS_H

#include "pgtime.h"
#include "utils/date.h"

/* An event longer than this is surely a mistake, not a holiday. */
#define ICS_MAX_EVENT_DAYS 366

/* One logical (unfolded) line of the feed. */
typedef struct IcsLine
{
	int			lineno;			/* physical line where it starts, from 1 */
	char	   *text;
} IcsLine;

/* A holiday row to insert. */
typedef struct IcsHoliday
{
	DateADT		day;
	bool		has_starts;
	TimeADT		starts;
	bool		has_ends;
	TimeADT		ends;
	char	   *name;
} IcsHoliday;

typedef struct IcsParser
{
	const char *calendar;		/* for messages */
	pg_tz	   *caltz;			/* the calendar's zone: floating times, local days */
	IcsLine    *lines;
	int			nlines;
	IcsHoliday *rows;
	int			nrows;
	int			maxrows;
} IcsParser;

/* Split the feed into logical lines (unfolding), then parse them into rows. */
extern void ics_unfold(IcsParser *p, const char *s);
extern void ics_parse(IcsParser *p);

#endif							/* WORKITEM_ICS_H */
