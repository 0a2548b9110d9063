/*
 * shim.c: just enough of the server for src/ics_parse.c to run outside it,
 * under libFuzzer (test/fuzz/ics_fuzz.c). Harness only: never linked into
 * the extension.
 *
 * - palloc and friends allocate from an arena that shim_reset() frees
 *   after each input (the server frees a statement's memory context);
 * - ereport(ERROR) formats its message (so a bad format argument is seen
 *   by the sanitizers) and longjmps back to the harness, as the server
 *   longjmps to its error handler; the harness checks that the SQLSTATE is
 *   one import_holidays documents;
 * - the date functions are the server's algorithms; time zones are fixed
 *   offsets ("UTC", "Europe/Paris" +01, "Pacific/Kiritimati" +14,
 *   "Etc/GMT+12" -12): the parser's arithmetic is what is fuzzed, not the
 *   IANA database.
 */
#include "postgres.h"

#include <limits.h>
#include <setjmp.h>

#include "lib/stringinfo.h"
#include "pgtime.h"
#include "utils/datetime.h"
#include "utils/memutils.h"
#include "utils/timestamp.h"

#include "shim.h"

/* port.h maps these to pg_*: the harness uses the C library's. */
#undef vsnprintf
#undef snprintf
#undef fprintf

sigjmp_buf *shim_error_jump = NULL;
int			shim_error_code = 0;
char		shim_error_message[1024];

/* ---------------------------------------------------------------- memory */

typedef struct Chunk
{
	size_t		idx;			/* slot in chunks[] */
	size_t		size;
	max_align_t align[];		/* the caller's memory follows */
} Chunk;

static Chunk **chunks = NULL;
static size_t nchunks = 0,
			maxchunks = 0;

static void *
chunk_alloc(size_t size, bool zero)
{
	Chunk	   *c;

	if (!AllocSizeIsValid(size))
	{
		fprintf(stderr, "shim: invalid memory alloc request size %zu\n", size);
		abort();
	}
	c = zero ? calloc(1, sizeof(Chunk) + size) : malloc(sizeof(Chunk) + size);
	if (c == NULL)
		abort();
	if (nchunks == maxchunks)
	{
		maxchunks = maxchunks ? maxchunks * 2 : 1024;
		chunks = realloc(chunks, sizeof(Chunk *) * maxchunks);
		if (chunks == NULL)
			abort();
	}
	c->idx = nchunks;
	c->size = size;
	chunks[nchunks++] = c;
	return c->align;
}

void *
palloc(Size size)
{
	return chunk_alloc(size, false);
}

void *
palloc0(Size size)
{
	return chunk_alloc(size, true);
}

void *
repalloc(void *pointer, Size size)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - offsetof(Chunk, align));
	Chunk	   *n;

	if (!AllocSizeIsValid(size))
	{
		fprintf(stderr, "shim: invalid memory alloc request size %zu\n", size);
		abort();
	}
	n = realloc(c, sizeof(Chunk) + size);
	if (n == NULL)
		abort();
	n->size = size;
	chunks[n->idx] = n;
	return n->align;
}

void
pfree(void *pointer)
{
	Chunk	   *c = (Chunk *) ((char *) pointer - offsetof(Chunk, align));

	chunks[c->idx] = NULL;
	free(c);
}

char *
pstrdup(const char *in)
{
	size_t		len = strlen(in);
	char	   *out = palloc(len + 1);

	memcpy(out, in, len + 1);
	return out;
}

static char *
shim_vsprintf(const char *fmt, va_list ap)
{
	va_list		ap2;
	int			len;
	char	   *out;

	va_copy(ap2, ap);
	len = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (len < 0)
		abort();
	out = palloc(len + 1);
	vsnprintf(out, len + 1, fmt, ap);
	return out;
}

char *
psprintf(const char *fmt,...)
{
	va_list		ap;
	char	   *out;

	va_start(ap, fmt);
	out = shim_vsprintf(fmt, ap);
	va_end(ap);
	return out;
}

void
shim_reset(void)
{
	for (size_t i = 0; i < nchunks; i++)
		free(chunks[i]);
	nchunks = 0;
}

/* ------------------------------------------------------------ StringInfo */

void
initStringInfo(StringInfo str)
{
	str->maxlen = 1024;
	str->data = palloc(str->maxlen);
	resetStringInfo(str);
}

void
resetStringInfo(StringInfo str)
{
	str->data[0] = '\0';
	str->len = 0;
	str->cursor = 0;
}

void
enlargeStringInfo(StringInfo str, int needed)
{
	int			newlen;

	if (needed < 0 || ((Size) needed) >= (MaxAllocSize - (Size) str->len))
	{
		fprintf(stderr, "shim: out of memory: StringInfo of %d bytes, %d more\n", str->len, needed);
		abort();
	}
	needed += str->len + 1;
	if (needed <= str->maxlen)
		return;
	newlen = 2 * str->maxlen;
	while (needed > newlen)
		newlen = 2 * newlen;
	if (newlen > (int) MaxAllocSize)
		newlen = (int) MaxAllocSize;
	str->data = repalloc(str->data, newlen);
	str->maxlen = newlen;
}

void
appendBinaryStringInfo(StringInfo str, const char *data, int datalen)
{
	enlargeStringInfo(str, datalen);
	memcpy(str->data + str->len, data, datalen);
	str->len += datalen;
	str->data[str->len] = '\0';
}

void
appendStringInfoChar(StringInfo str, char ch)
{
	if (str->len + 1 >= str->maxlen)
		enlargeStringInfo(str, 1);
	str->data[str->len] = ch;
	str->len++;
	str->data[str->len] = '\0';
}

/* ------------------------------------------------------------- strings */

unsigned char
pg_ascii_toupper(unsigned char ch)
{
	return (ch >= 'a' && ch <= 'z') ? ch - 'a' + 'A' : ch;
}

int
pg_strcasecmp(const char *s1, const char *s2)
{
	for (;;)
	{
		unsigned char ch1 = pg_ascii_toupper((unsigned char) *s1++);
		unsigned char ch2 = pg_ascii_toupper((unsigned char) *s2++);

		if (ch1 != ch2)
			return (int) ch1 - (int) ch2;
		if (ch1 == 0)
			return 0;
	}
}

/* --------------------------------------------------------------- ereport */

static int	cur_elevel;

bool
errstart(int elevel, const char *domain)
{
	cur_elevel = elevel;
	shim_error_code = 0;
	shim_error_message[0] = '\0';
	return elevel >= ERROR;		/* warnings and notices: nothing to do */
}

bool
errstart_cold(int elevel, const char *domain)
{
	return errstart(elevel, domain);
}

int
errcode(int sqlerrcode)
{
	shim_error_code = sqlerrcode;
	return 0;
}

#define SHIM_FORMAT(keep) \
	do { va_list ap; char *s; va_start(ap, fmt); s = shim_vsprintf(fmt, ap); va_end(ap); \
		 if (keep) snprintf(shim_error_message, sizeof(shim_error_message), "%s", s); } while (0)

int
errmsg(const char *fmt,...)
{
	SHIM_FORMAT(true);
	return 0;
}

int
errmsg_internal(const char *fmt,...)
{
	SHIM_FORMAT(true);
	return 0;
}

int
errdetail(const char *fmt,...)
{
	SHIM_FORMAT(false);
	return 0;
}

int
errhint(const char *fmt,...)
{
	SHIM_FORMAT(false);
	return 0;
}

void
errfinish(const char *filename, int lineno, const char *funcname)
{
	if (cur_elevel < ERROR)
		return;
	if (shim_error_jump == NULL)
	{
		fprintf(stderr, "shim: ERROR outside the harness: %s\n", shim_error_message);
		abort();
	}
	siglongjmp(*shim_error_jump, 1);
}

/* ------------------------------------------------- dates (the server's) */

const int	day_tab[2][13] =
{
	{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0},
	{31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31, 0}
};

int
date2j(int y, int m, int d)
{
	int			julian;
	int			century;

	if (m > 2)
	{
		m += 1;
		y += 4800;
	}
	else
	{
		m += 13;
		y += 4799;
	}
	century = y / 100;
	julian = y * 365 - 32167;
	julian += y / 4 - century + century / 4;
	julian += 7834 * m / 256 + d;
	return julian;
}

void
j2date(int jd, int *year, int *month, int *day)
{
	unsigned int julian;
	unsigned int quad;
	unsigned int extra;
	int			y;

	julian = jd;
	julian += 32044;
	quad = julian / 146097;
	extra = (julian - quad * 146097) * 4 + 3;
	julian += 60 + quad * 3 + extra / 146097;
	quad = julian / 1461;
	julian -= quad * 1461;
	y = julian * 4 / 1461;
	julian = ((y != 0) ? ((julian + 305) % 365) : ((julian + 306) % 366)) + 123;
	y += quad * 4;
	*year = y - 4800;
	quad = julian * 2141 / 65536;
	*day = julian - 7834 * quad / 256;
	*month = (quad + 10) % MONTHS_PER_YEAR + 1;
}

/* ------------------------------------------------- fixed-offset zones */

struct pg_tz
{
	const char *name;
	int			east;			/* seconds east of UTC */
};

static struct pg_tz zones[] = {
	{"UTC", 0}, {"Europe/Paris", 3600}, {"Pacific/Kiritimati", 14 * 3600}, {"Etc/GMT+12", -12 * 3600}
};

pg_tz *
pg_tzset(const char *name)
{
	for (size_t i = 0; i < lengthof(zones); i++)
		if (pg_strcasecmp(name, zones[i].name) == 0)
			return &zones[i];
	return NULL;
}

pg_tz *
shim_zone(int i)
{
	return &zones[i % lengthof(zones)];
}

int
DetermineTimeZoneOffset(struct pg_tm *tm, pg_tz *tzp)
{
	tm->tm_isdst = 0;
	tm->tm_gmtoff = tzp->east;
	return -tzp->east;
}

/* The server's tm2timestamp: local fields and a zone (seconds west) to a timestamp. */
int
tm2timestamp(struct pg_tm *tm, fsec_t fsec, int *tzp, Timestamp *result)
{
	TimeOffset	date;
	TimeOffset	time;

	if (!IS_VALID_JULIAN(tm->tm_year, tm->tm_mon, tm->tm_mday))
	{
		*result = 0;
		return -1;
	}
	date = date2j(tm->tm_year, tm->tm_mon, tm->tm_mday) - POSTGRES_EPOCH_JDATE;
	time = ((((tm->tm_hour * MINS_PER_HOUR) + tm->tm_min) * SECS_PER_MINUTE) + tm->tm_sec) * USECS_PER_SEC + fsec;
	*result = date * USECS_PER_DAY + time;
	if ((*result - time) / USECS_PER_DAY != date)
	{
		*result = 0;
		return -1;
	}
	if ((*result < 0 && date > 0) || (*result > 0 && date < -1))
	{
		*result = 0;
		return -1;
	}
	if (tzp != NULL)
		*result = *result + (int64) *tzp * USECS_PER_SEC;
	if (!IS_VALID_TIMESTAMP(*result))
	{
		*result = 0;
		return -1;
	}
	return 0;
}

/* The server's timestamp2tm, for a fixed-offset zone. */
int
timestamp2tm(Timestamp dt, int *tzp, struct pg_tm *tm, fsec_t *fsec, const char **tzn, pg_tz *attimezone)
{
	Timestamp	date;
	Timestamp	time;

	if (!IS_VALID_TIMESTAMP(dt))
		return -1;
	if (tzp != NULL && attimezone != NULL)
	{
		dt += (int64) attimezone->east * USECS_PER_SEC;
		*tzp = -attimezone->east;
		if (tzn)
			*tzn = attimezone->name;
	}
	time = dt;
	date = time / USECS_PER_DAY;
	if (date != 0)
		time -= date * USECS_PER_DAY;
	if (time < 0)
	{
		time += USECS_PER_DAY;
		date -= 1;
	}
	date += POSTGRES_EPOCH_JDATE;
	if (date < 0 || date > (Timestamp) INT_MAX)
		return -1;
	j2date((int) date, &tm->tm_year, &tm->tm_mon, &tm->tm_mday);
	tm->tm_hour = time / USECS_PER_HOUR;
	time -= tm->tm_hour * USECS_PER_HOUR;
	tm->tm_min = time / USECS_PER_MINUTE;
	time -= tm->tm_min * USECS_PER_MINUTE;
	tm->tm_sec = time / USECS_PER_SEC;
	*fsec = time - (tm->tm_sec * USECS_PER_SEC);
	return 0;
}

/* The server's unpack_sql_state, for the harness's messages. */
char *
unpack_sql_state(int sql_state)
{
	static char buf[12];

	for (int i = 0; i < 5; i++)
	{
		buf[i] = PGUNSIXBIT(sql_state);
		sql_state >>= 6;
	}
	buf[5] = '\0';
	return buf;
}
