/*
 * ics_parse.c: the iCalendar (RFC 5545) parser of import_holidays (see
 * ics.h). The feed is parsed whole before anything is inserted, so a
 * malformed feed is refused whole and names the line at fault. Each
 * VEVENT becomes rows of workitem.calendar_holiday: whole days for DATE
 * events (DTEND is exclusive), and for DATE-TIME events the closed part
 * of each day, in the calendar's time zone.
 *
 * No SPI, no catalog access: test/fuzz/ compiles this file outside the
 * server.
 */
#include "postgres.h"

#include <ctype.h>

#include "common/int.h"
#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/timestamp.h"

#include "ics.h"

/* A DTSTART, DTEND or DURATION as read. */
typedef struct IcsTime
{
	bool		set;
	bool		is_date;		/* VALUE=DATE */
	int			year, mon, mday, hour, min, sec;
	bool		utc;			/* ...Z */
	pg_tz	   *tz;				/* TZID, or NULL: the calendar's zone */
	IcsLine    *line;			/* where it was read */
} IcsTime;

/* A DURATION as read: nominal days, then exact microseconds (RFC 5545). */
typedef struct IcsDuration
{
	bool		set;
	int64		days;
	int64		usecs;
	IcsLine    *line;			/* where it was read */
} IcsDuration;

/* Refuse the feed: the calendar, the line number and the line itself. */
static void ics_error(IcsParser *p, int sqlstate, int lineno, const char *line,
					  const char *what) pg_attribute_noreturn();

static void
ics_error(IcsParser *p, int sqlstate, int lineno, const char *line,
		  const char *what)
{
	ereport(ERROR,
			(errcode(sqlstate),
			 errmsg("calendar \"%s\": invalid iCalendar feed at line %d: %s",
					p->calendar, lineno, what),
			 line ? errdetail("Line %d: %s", lineno, line) : 0,
			 errhint("Nothing was imported.")));
}

/*
 * Split the feed into logical lines: CRLF or LF ends a line, and a line
 * that starts with a space or a tab continues the one before (folding,
 * RFC 5545 section 3.1), without that first character.
 */
void
ics_unfold(IcsParser *p, const char *s)
{
	int			cap = 64;
	int			lineno = 1;
	StringInfoData cur;
	bool		have = false;
	int			curno = 0;

	p->lines = palloc(sizeof(IcsLine) * cap);
	p->nlines = 0;
	initStringInfo(&cur);
	/* A byte order mark, as some programs write, is not content. */
	if (strncmp(s, "\xEF\xBB\xBF", 3) == 0)
		s += 3;
	while (*s)
	{
		const char *eol = s;
		int			len;

		while (*eol && *eol != '\n' && *eol != '\r')
			eol++;
		len = eol - s;
		if (len > 0 && (s[0] == ' ' || s[0] == '\t') && have)
			appendBinaryStringInfo(&cur, s + 1, len - 1);
		else
		{
			if (have)
			{
				if (p->nlines == cap)
				{
					cap *= 2;
					p->lines = repalloc(p->lines, sizeof(IcsLine) * cap);
				}
				p->lines[p->nlines].lineno = curno;
				p->lines[p->nlines].text = pstrdup(cur.data);
				p->nlines++;
			}
			resetStringInfo(&cur);
			appendBinaryStringInfo(&cur, s, len);
			have = true;
			curno = lineno;
		}
		/* CRLF, a bare LF or a bare CR ends the physical line. */
		if (*eol == '\r' && eol[1] == '\n')
			eol += 2;
		else if (*eol)
			eol++;
		s = eol;
		lineno++;
	}
	if (have)
	{
		if (p->nlines == cap)
			p->lines = repalloc(p->lines, sizeof(IcsLine) * (cap + 1));
		p->lines[p->nlines].lineno = curno;
		p->lines[p->nlines].text = pstrdup(cur.data);
		p->nlines++;
	}
}

static bool
blank_line(const char *s)
{
	for (; *s; s++)
		if (*s != ' ' && *s != '\t')
			return false;
	return true;
}

/*
 * Split a content line "NAME;PARAM=v;PARAM="v":value" into its upper-cased
 * name, its parameters (a NULL-terminated array of "PARAM=value") and its
 * value. False when the line is not a content line.
 */
static bool
ics_split(const char *line, char **name, char ***params, char **value)
{
	const char *s = line;
	StringInfoData buf;
	int			nparams = 0,
				maxparams = 4;

	initStringInfo(&buf);
	while (*s && (isalnum((unsigned char) *s) || *s == '-'))
		appendStringInfoChar(&buf, pg_ascii_toupper((unsigned char) *s++));
	if (buf.len == 0)
		return false;
	*name = buf.data;
	*params = palloc(sizeof(char *) * (maxparams + 1));
	(*params)[0] = NULL;
	while (*s == ';')
	{
		StringInfoData param;

		s++;
		initStringInfo(&param);
		while (*s && (isalnum((unsigned char) *s) || *s == '-'))
			appendStringInfoChar(&param, pg_ascii_toupper((unsigned char) *s++));
		if (param.len == 0 || *s != '=')
			return false;
		appendStringInfoChar(&param, *s++);
		for (;;)
		{
			if (*s == '"')
			{
				const char *q = strchr(s + 1, '"');

				if (q == NULL)
					return false;
				appendBinaryStringInfo(&param, s + 1, q - s - 1);
				s = q + 1;
			}
			else
				while (*s && *s != ';' && *s != ':' && *s != ',' && *s != '"')
					appendStringInfoChar(&param, *s++);
			if (*s != ',')
				break;
			appendStringInfoChar(&param, *s++);
		}
		if (nparams == maxparams)
		{
			maxparams *= 2;
			*params = repalloc(*params, sizeof(char *) * (maxparams + 1));
		}
		(*params)[nparams++] = param.data;
		(*params)[nparams] = NULL;
	}
	if (*s != ':')
		return false;
	*value = pstrdup(s + 1);
	return true;
}

/* The value of parameter "name" (upper case), or NULL. */
static const char *
ics_param(char **params, const char *name)
{
	size_t		len = strlen(name);

	for (; *params; params++)
	{
		const char *p = *params;

		if (strncmp(p, name, len) == 0 && p[len] == '=')
			return p + len + 1;
	}
	return NULL;
}

/* Unescape a TEXT value (RFC 5545 section 3.3.11). */
static char *
ics_unescape(const char *s)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (; *s; s++)
	{
		if (*s == '\\' && s[1])
		{
			s++;
			if (*s == 'n' || *s == 'N')
				appendStringInfoChar(&buf, '\n');
			else if (*s == ',' || *s == ';' || *s == '\\')
				appendStringInfoChar(&buf, *s);
			else
			{
				/* Not an escape RFC 5545 knows: keep it as written. */
				appendStringInfoChar(&buf, '\\');
				appendStringInfoChar(&buf, *s);
			}
		}
		else
			appendStringInfoChar(&buf, *s);
	}
	return buf.data;
}

/* n decimal digits at s, or -1. */
static int
digits(const char *s, int n)
{
	int			v = 0;

	for (int i = 0; i < n; i++)
	{
		if (!isdigit((unsigned char) s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

/*
 * Read a DATE ("20261225") or DATE-TIME ("20261224T130000", "...Z", with
 * TZID) property into t. Refuses anything else, naming the line.
 */
static void
ics_read_time(IcsParser *p, IcsLine *l, char **params, const char *value, IcsTime *t)
{
	const char *vtype = ics_param(params, "VALUE");
	const char *tzid = ics_param(params, "TZID");
	size_t		len = strlen(value);

	memset(t, 0, sizeof(*t));
	t->set = true;
	t->line = l;
	t->is_date = (vtype != NULL && pg_strcasecmp(vtype, "DATE") == 0) ||
		(vtype == NULL && len == 8);
	if (vtype != NULL && pg_strcasecmp(vtype, "DATE") != 0 &&
		pg_strcasecmp(vtype, "DATE-TIME") != 0)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
				  psprintf("VALUE=%s is not a date or a date-time", vtype));

	t->year = digits(value, 4);
	t->mon = len >= 8 ? digits(value + 4, 2) : -1;
	t->mday = len >= 8 ? digits(value + 6, 2) : -1;
	if (t->is_date ? len != 8 :
		(len != 15 && !(len == 16 && value[15] == 'Z')) || value[8] != 'T')
		t->year = -1;
	else if (!t->is_date)
	{
		t->hour = digits(value + 9, 2);
		t->min = digits(value + 11, 2);
		t->sec = digits(value + 13, 2);
		t->utc = len == 16;
	}
	if (t->year < 1 || t->mon < 1 || t->mon > 12 || t->mday < 1 ||
		t->mday > day_tab[isleap(t->year)][t->mon - 1] ||
		t->hour < 0 || t->hour > 23 || t->min < 0 || t->min > 59 ||
		t->sec < 0 || t->sec > 60)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
				  t->is_date ? psprintf("\"%s\" is not a valid date (YYYYMMDD)", value)
				  : psprintf("\"%s\" is not a valid date-time (YYYYMMDDTHHMMSS, with Z for UTC)", value));
	if (t->sec == 60)
		t->sec = 59;			/* a leap second: ours have none */

	if (tzid != NULL && !t->is_date && !t->utc)
	{
		/* "/Europe/Paris": a globally unique id; the name follows the slash. */
		if (tzid[0] == '/')
			tzid++;
		t->tz = pg_tzset(tzid);
		if (t->tz == NULL)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("calendar \"%s\": invalid iCalendar feed at line %d: unknown time zone \"%s\"",
							p->calendar, l->lineno, tzid),
					 errdetail("Line %d: %s", l->lineno, l->text),
					 errhint("TZID must name an IANA time zone, such as Europe/Paris; VTIMEZONE definitions are not read.")));
	}
}

/*
 * Read a DURATION ("P1D", "PT4H30M", "P1W") into days and microseconds.
 * Each part is summed with overflow checks: the whole duration must fit
 * in microseconds (about 292,000 years), else it is refused (22008)
 * rather than wrapped round.
 */
static void
ics_read_duration(IcsParser *p, IcsLine *l, const char *value, IcsDuration *dur)
{
	const char *s = value;
	bool		in_time = false;
	bool		any = false;
	int64		total;

	memset(dur, 0, sizeof(*dur));
	dur->set = true;
	dur->line = l;
	if (*s == '+')
		s++;
	if (*s != 'P')
		goto bad;
	for (s++; *s; s++)
	{
		int64		n = 0;
		int64	   *sum = in_time ? &dur->usecs : &dur->days;
		int64		unit;

		if (*s == 'T' && !in_time)
		{
			in_time = true;
			continue;
		}
		if (!isdigit((unsigned char) *s))
			goto bad;
		while (isdigit((unsigned char) *s) && n < 100000)
			n = n * 10 + (*s++ - '0');
		if (!in_time && *s == 'W')
			unit = 7;
		else if (!in_time && *s == 'D')
			unit = 1;
		else if (in_time && *s == 'H')
			unit = USECS_PER_HOUR;
		else if (in_time && *s == 'M')
			unit = USECS_PER_MINUTE;
		else if (in_time && *s == 'S')
			unit = USECS_PER_SEC;
		else
			goto bad;
		if (pg_mul_s64_overflow(n, unit, &n) || pg_add_s64_overflow(*sum, n, sum))
			goto overflow;
		any = true;
	}
	if (!any)
		goto bad;
	if (pg_mul_s64_overflow(dur->days, USECS_PER_DAY, &total) ||
		pg_add_s64_overflow(total, dur->usecs, &total))
		goto overflow;
	return;
overflow:
	ics_error(p, ERRCODE_DATETIME_FIELD_OVERFLOW, l->lineno, l->text,
			  psprintf("duration \"%s\" is out of range", value));
bad:
	ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
			  psprintf("\"%s\" is not a valid duration (such as P1D or PT4H)", value));
}

static DateADT
ics_date(IcsTime *t)
{
	return date2j(t->year, t->mon, t->mday) - POSTGRES_EPOCH_JDATE;
}

/* The moment a DATE-TIME names: UTC, in its TZID, or floating (calendar). */
static TimestampTz
ics_instant(IcsParser *p, IcsTime *t)
{
	struct pg_tm tm = {0};
	Timestamp	result;
	int			tz = 0;

	tm.tm_year = t->year;
	tm.tm_mon = t->mon;
	tm.tm_mday = t->mday;
	tm.tm_hour = t->hour;
	tm.tm_min = t->min;
	tm.tm_sec = t->sec;
	if (!t->utc)
		tz = DetermineTimeZoneOffset(&tm, t->tz ? t->tz : p->caltz);
	if (tm2timestamp(&tm, 0, &tz, &result) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": invalid iCalendar feed at line %d: time out of range",
						p->calendar, t->line->lineno),
				 errdetail("Line %d: %s", t->line->lineno, t->line->text)));
	return result;
}

/* The local day and time of a moment in the calendar's zone. */
static void
ics_local(IcsParser *p, TimestampTz ts, DateADT *day, TimeADT *time)
{
	struct pg_tm tm;
	fsec_t		fsec;
	int			tz;

	if (timestamp2tm(ts, &tz, &tm, &fsec, NULL, p->caltz) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("calendar \"%s\": a time of the feed is out of range", p->calendar)));
	*day = date2j(tm.tm_year, tm.tm_mon, tm.tm_mday) - POSTGRES_EPOCH_JDATE;
	*time = ((((int64) tm.tm_hour * MINS_PER_HOUR + tm.tm_min) * SECS_PER_MINUTE) +
			 tm.tm_sec) * USECS_PER_SEC + fsec;
}

static void
add_row(IcsParser *p, DateADT day, bool has_starts, TimeADT starts,
		bool has_ends, TimeADT ends, char *name)
{
	IcsHoliday *r;

	if (p->nrows == p->maxrows)
	{
		p->maxrows = p->maxrows ? p->maxrows * 2 : 32;
		p->rows = p->rows ? repalloc(p->rows, sizeof(IcsHoliday) * p->maxrows)
			: palloc(sizeof(IcsHoliday) * p->maxrows);
	}
	r = &p->rows[p->nrows++];
	r->day = day;
	r->has_starts = has_starts;
	r->starts = starts;
	r->has_ends = has_ends;
	r->ends = ends;
	r->name = name;
}

/* Turn one VEVENT (opened at line "begin") into holiday rows. */
static void
ics_event(IcsParser *p, IcsLine *begin, IcsTime *start, IcsTime *dtend,
		  IcsDuration *dur, char *name)
{
	DateADT		d1,
				d2;
	TimeADT		t1,
				t2;

	if (!start->set)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, begin->lineno, begin->text,
				  "VEVENT without DTSTART");
	if (dtend->set && start->is_date != dtend->is_date)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, dtend->line->lineno,
				  dtend->line->text,
				  "DTSTART and DTEND must both be dates or both date-times");

	/*
	 * A duration is at most some 106 million days (ics_read_duration): one
	 * longer than an event may be is refused before any date is computed
	 * from it.
	 */
	if (dur->set && dur->days + dur->usecs / USECS_PER_DAY > ICS_MAX_EVENT_DAYS)
		ics_error(p, ERRCODE_INVALID_PARAMETER_VALUE, dur->line->lineno, dur->line->text,
				  psprintf("an event of " INT64_FORMAT " days (at most %d)",
						   dur->days + dur->usecs / USECS_PER_DAY, ICS_MAX_EVENT_DAYS));

	if (start->is_date)
	{
		/* Whole days, from midnight to midnight; DTEND is exclusive, one day when absent. */
		d1 = ics_date(start);
		d2 = d1 + 1;
		if (dtend->set)
		{
			d2 = ics_date(dtend);
			if (d2 < d1)
				ics_error(p, ERRCODE_INVALID_PARAMETER_VALUE, dtend->line->lineno,
						  dtend->line->text, "DTEND is before DTSTART");
		}
		else if (dur->set)
			d2 = d1 + (DateADT) dur->days + (dur->usecs > 0 ? 1 : 0);
		if (d2 == d1)
			d2 = d1 + 1;		/* a zero-length all-day event still names its day */
		t1 = t2 = 0;
	}
	else
	{
		/* Moments: the closed part of each local day they cover. */
		TimestampTz from = ics_instant(p, start);
		TimestampTz to;

		if (dtend->set)
		{
			to = ics_instant(p, dtend);
			if (to < from)
				ics_error(p, ERRCODE_INVALID_PARAMETER_VALUE, dtend->line->lineno,
						  dtend->line->text, "DTEND is before DTSTART");
		}
		else if (dur->set)
		{
			/* Days are nominal (same wall-clock time), hours exact (RFC 5545). */
			IcsTime		e = *start;

			j2date(date2j(e.year, e.mon, e.mday) + (int) dur->days, &e.year, &e.mon, &e.mday);
			if (pg_add_s64_overflow(ics_instant(p, &e), dur->usecs, &to) ||
				!IS_VALID_TIMESTAMP(to))
				ics_error(p, ERRCODE_DATETIME_FIELD_OVERFLOW, dur->line->lineno, dur->line->text,
						  "the event ends after the last moment a timestamp can hold");
		}
		else
			to = from;
		if (to == from)
			return;				/* an instant closes nothing */
		ics_local(p, from, &d1, &t1);
		ics_local(p, to, &d2, &t2);
	}
	if (d2 - d1 > ICS_MAX_EVENT_DAYS)
		ics_error(p, ERRCODE_INVALID_PARAMETER_VALUE, begin->lineno, begin->text,
				  psprintf("an event of %d days (at most %d)", (int) (d2 - d1),
						   ICS_MAX_EVENT_DAYS));
	if (d1 == d2)
	{
		/* When the clocks go back, the end can read earlier than the start. */
		TimeADT		lo = Min(t1, t2),
					hi = Max(t1, t2);

		if (lo < hi)
			add_row(p, d1, lo != 0, lo, true, hi, name);
		return;
	}
	/* First day from t1 to its end, whole days between, last day to t2. */
	add_row(p, d1, t1 != 0, t1, false, 0, name);
	for (DateADT d = d1 + 1; d < d2; d++)
		add_row(p, d, false, 0, false, 0, name);
	if (t2 != 0)
		add_row(p, d2, false, 0, true, t2, name);
}

/* Parse the whole feed into p->rows, or refuse it. */
void
ics_parse(IcsParser *p)
{
	/* Open components, innermost last; a feed nests a few levels at most. */
	char	   *stack[16];
	IcsLine    *opened[16];
	int			depth = 0;
	bool		seen_calendar = false;
	IcsLine    *event = NULL;
	IcsTime		start = {0},
				dtend = {0};
	IcsDuration dur = {0};
	char	   *summary = NULL;
	bool		cancelled = false;
	int			first = -1;

	for (int i = 0; i < p->nlines; i++)
		if (!blank_line(p->lines[i].text))
		{
			first = i;
			break;
		}
	if (first < 0)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, 1, NULL,
				  "the feed is empty: it must start with BEGIN:VCALENDAR");

	for (int i = first; i < p->nlines; i++)
	{
		IcsLine    *l = &p->lines[i];
		char	   *name;
		char	  **params;
		char	   *value;

		if (blank_line(l->text))
			continue;
		if (!ics_split(l->text, &name, &params, &value))
			ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
					  "not a content line (NAME[;PARAM=value]:value)");
		if (!seen_calendar &&
			!(strcmp(name, "BEGIN") == 0 && pg_strcasecmp(value, "VCALENDAR") == 0))
			ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
					  "the feed must start with BEGIN:VCALENDAR");

		if (strcmp(name, "BEGIN") == 0)
		{
			char	   *comp = pstrdup(value);

			for (char *c = comp; *c; c++)
				*c = pg_ascii_toupper((unsigned char) *c);
			if ((depth == 0) != (strcmp(comp, "VCALENDAR") == 0))
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  depth == 0 ? "a component outside BEGIN:VCALENDAR"
						  : "BEGIN:VCALENDAR inside another component");
			if (depth == lengthof(stack))
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  "components nested too deeply");
			if (strcmp(comp, "VEVENT") == 0)
			{
				if (event != NULL)
					ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
							  psprintf("BEGIN:VEVENT inside the VEVENT of line %d", event->lineno));
				event = l;
				memset(&start, 0, sizeof(start));
				memset(&dtend, 0, sizeof(dtend));
				memset(&dur, 0, sizeof(dur));
				summary = NULL;
				cancelled = false;
			}
			seen_calendar = true;
			stack[depth] = comp;
			opened[depth] = l;
			depth++;
			continue;
		}
		if (depth == 0)
			ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
					  "content after END:VCALENDAR");
		if (strcmp(name, "END") == 0)
		{
			if (pg_strcasecmp(value, stack[depth - 1]) != 0)
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  psprintf("END:%s while %s of line %d is open", value,
								   stack[depth - 1], opened[depth - 1]->lineno));
			depth--;
			if (strcmp(stack[depth], "VEVENT") == 0)
			{
				if (!cancelled)
					ics_event(p, event, &start, &dtend, &dur, summary);
				event = NULL;
			}
			continue;
		}
		/* Properties of the event itself, not of a VALARM inside it. */
		if (event == NULL || strcmp(stack[depth - 1], "VEVENT") != 0)
			continue;
		if (strcmp(name, "DTSTART") == 0 || strcmp(name, "DTEND") == 0)
		{
			IcsTime    *t = name[2] == 'S' ? &start : &dtend;

			if (t->set)
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  psprintf("%s given twice in one VEVENT", name));
			if (name[2] == 'E' && dur.set)
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  "a VEVENT has DTEND or DURATION, not both");
			ics_read_time(p, l, params, value, t);
		}
		else if (strcmp(name, "DURATION") == 0)
		{
			if (dtend.set || dur.set)
				ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, l->lineno, l->text,
						  "a VEVENT has DTEND or DURATION, not both");
			ics_read_duration(p, l, value, &dur);
		}
		else if (strcmp(name, "SUMMARY") == 0)
			summary = ics_unescape(value);
		else if (strcmp(name, "STATUS") == 0)
			cancelled = pg_strcasecmp(value, "CANCELLED") == 0;
		else if (strcmp(name, "RRULE") == 0 || strcmp(name, "RDATE") == 0)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("calendar \"%s\": iCalendar feed at line %d: recurring events are not supported",
							p->calendar, l->lineno),
					 errdetail("Line %d: %s", l->lineno, l->text),
					 errhint("Export the feed with one event per occurrence. Nothing was imported.")));
	}
	if (depth > 0)
		ics_error(p, ERRCODE_INVALID_TEXT_REPRESENTATION, opened[depth - 1]->lineno,
				  opened[depth - 1]->text,
				  psprintf("BEGIN:%s is never ended (END:%s)", stack[depth - 1], stack[depth - 1]));
}

