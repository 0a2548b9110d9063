/*
 * ics_fuzz.c: libFuzzer harness for the iCalendar parser of
 * import_holidays (src/ics_parse.c), run outside the server with
 * AddressSanitizer and UndefinedBehaviorSanitizer (test/fuzz.sh builds
 * and runs it; README "Fuzzing").
 *
 * Each input is a feed (cut at its first NUL byte: a text value holds
 * none). The parser must either return rows or raise one of the errors
 * import_holidays documents; anything else is a finding and aborts:
 * - a crash, a sanitizer report (memory error, signed overflow, ...);
 * - an error with another SQLSTATE (an elog, an internal error);
 * - a row the table would refuse or that makes no sense: a day outside
 *   the date range, a closing time outside 00:00-24:00, starts >= ends.
 */
#include "postgres.h"

#include <stdio.h>

#include "utils/datetime.h"

#include "ics.h"
#include "shim.h"

#undef fprintf

static void
finding(const char *what, const uint8_t *data, size_t size)
{
	fprintf(stderr, "ics_fuzz: %s\n", what);
	abort();
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	sigjmp_buf	jump;
	IcsParser	p;
	char	   *feed;
	size_t		len = strnlen((const char *) data, size);

	feed = palloc(len + 1);
	memcpy(feed, data, len);
	feed[len] = '\0';

	memset(&p, 0, sizeof(p));
	p.calendar = "fuzz";
	/* the calendar's zone: chosen by the input's length, so all are used */
	p.caltz = shim_zone((int) (len % 4));
	shim_error_jump = &jump;
	if (sigsetjmp(jump, 0) == 0)
	{
		ics_unfold(&p, feed);
		ics_parse(&p);
		for (int i = 0; i < p.nrows; i++)
		{
			IcsHoliday *r = &p.rows[i];

			if (r->day < -POSTGRES_EPOCH_JDATE || r->day >= TIMESTAMP_END_JULIAN - POSTGRES_EPOCH_JDATE)
				finding("a row's day is outside the range of dates", data, size);
			if (r->has_starts && (r->starts <= 0 || r->starts >= USECS_PER_DAY))
				finding("a row's starts is outside (00:00, 24:00)", data, size);
			if (r->has_ends && (r->ends <= 0 || r->ends > USECS_PER_DAY))
				finding("a row's ends is outside (00:00, 24:00]", data, size);
			if (r->has_starts && r->has_ends && r->starts >= r->ends)
				finding("a row's starts is not before its ends", data, size);
		}
	}
	else
	{
		/* The SQLSTATEs import_holidays documents for a feed (README). */
		int			code = shim_error_code;

		if (code != ERRCODE_INVALID_TEXT_REPRESENTATION &&	/* 22P02 */
			code != ERRCODE_INVALID_PARAMETER_VALUE &&	/* 22023 */
			code != ERRCODE_DATETIME_FIELD_OVERFLOW &&	/* 22008 */
			code != ERRCODE_FEATURE_NOT_SUPPORTED)	/* 0A000 */
		{
			fprintf(stderr, "ics_fuzz: unexpected error %s: %s\n",
					unpack_sql_state(code), shim_error_message);
			finding("an error outside the documented SQLSTATEs", data, size);
		}
	}
	shim_error_jump = NULL;
	shim_reset();
	return 0;
}
