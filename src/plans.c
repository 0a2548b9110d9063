/*
 * plans.c: the SQL the C code runs, parsed and planned once per backend.
 *
 * SPI_execute_with_args parses and plans its statement on every call,
 * which cost the trigger and the operations most of their time (issue 13).
 * wi_execute() takes the same arguments, but keeps a plan per statement
 * text and argument types for the life of the backend (SPI_keepplan): the
 * plan cache revalidates it after DDL on what it reads (a dropped and
 * recreated extension, a new index). The statements are few (one per call
 * site and variant), so the table stays small. In front of it, a cache by
 * the caller's text (wi_plan), emptied by relcache invalidations.
 */
#include "postgres.h"

#include "common/hashfn.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/memutils.h"

#include "workitem.h"

#define NBUCKETS 256

typedef struct WiPlan
{
	struct WiPlan *next;
	uint32		hash;
	int			nargs;
	Oid		   *types;
	char	   *sql;
	SPIPlanPtr	plan;
} WiPlan;

static WiPlan *buckets[NBUCKETS];

/*
 * Parts of the C code's SQL that depend on the schema: what is between [[
 * and ]] needs the tenant columns (1.2.0; an older schema still runs on
 * this library until ALTER EXTENSION UPDATE), what is between {{ and }}
 * is for Citus only (the tenant a distributed query is routed by; plain
 * PostgreSQL keeps the statement it always ran). Kept without the
 * brackets, or dropped.
 */
static const char *
marked(const char *sql, const char *open_mark, const char *close_mark, bool keep)
{
	StringInfoData out;
	const char *p = sql;

	initStringInfo(&out);
	while (*p)
	{
		const char *open = strstr(p, open_mark);
		const char *close;

		if (open == NULL)
		{
			appendStringInfoString(&out, p);
			break;
		}
		close = strstr(open, close_mark);
		if (close == NULL)
			elog(ERROR, "workitem: unbalanced %s in \"%s\"", open_mark, sql);
		appendBinaryStringInfo(&out, p, open - p);
		if (keep)
			appendBinaryStringInfo(&out, open + 2, close - open - 2);
		p = close + 2;
	}
	return out.data;
}

static const char *
tenant_sql(const char *sql)
{
	if (strstr(sql, "[[") != NULL)
		sql = marked(sql, "[[", "]]", wi_tenants());
	if (strstr(sql, "{{") != NULL)
		sql = marked(sql, "{{", "}}", wi_citus());
	return sql;
}

/*
 * The plan of a text as the caller passed it, before tenant_sql(): a
 * direct-mapped cache by the text's address, so that a hit costs no
 * rewrite (a palloc, a copy, wi_tenants()' catalog lookups) and no hash of
 * the text. The address alone proves nothing (a palloc'd text, as
 * wi_local_sql() makes on Citus, may reuse one), so the slot keeps a copy
 * of the text to compare. What tenant_sql() makes of a text depends on
 * wi_tenants() and wi_citus(): both change only with a relcache
 * invalidation (ALTER EXTENSION UPDATE adds the tenant column to
 * workitem.item; distribute() and Citus's pg_dist_partition trigger), and
 * any relcache invalidation empties this cache (raw_gen). The plan itself
 * is the kept plan below, which the plan cache revalidates.
 */
#define NRAW 512				/* 2^9: see the hash in wi_plan */

typedef struct RawSlot
{
	const char *addr;			/* the caller's text */
	char	   *text;			/* a copy, to compare */
	Size		size;			/* of the copy's buffer */
	uint64		gen;			/* raw_gen when filled; 0: empty */
	WiPlan	   *plan;
} RawSlot;

static RawSlot raw[NRAW];
static uint64 raw_gen = 1;

static void
raw_forget(Datum arg, Oid relid)
{
	raw_gen++;
}

static WiPlan *lookup(const char *sql, int nargs, const Oid *types);

/* The kept plan of sql with these argument types; SPI must be connected. */
SPIPlanPtr
wi_plan(const char *sql, int nargs, const Oid *types)
{
	static bool registered = false;
	uintptr_t	a = (uintptr_t) sql;
	/* Fibonacci hashing of the address: its top 9 bits (NRAW) */
	RawSlot    *slot = &raw[(uint64) (a >> 3) * UINT64CONST(0x9E3779B97F4A7C15) >> (64 - 9)];
	uint64		gen = raw_gen;
	WiPlan	   *p;
	Size		len;

	if (slot->gen == gen && slot->addr == sql && slot->plan->nargs == nargs &&
		(nargs == 0 || memcmp(slot->plan->types, types, nargs * sizeof(Oid)) == 0) &&
		strcmp(slot->text, sql) == 0)
		return slot->plan->plan;

	if (!registered)
	{
		wi_on_relcache(raw_forget);
		registered = true;
	}
	/* an invalidation while rewriting or planning leaves the slot stale (gen) */
	p = lookup(sql, nargs, types);
	len = strlen(sql) + 1;
	if (slot->size < len)
	{
		if (slot->text)
			pfree(slot->text);
		slot->text = MemoryContextAlloc(TopMemoryContext, len);
		slot->size = len;
	}
	memcpy(slot->text, sql, len);
	slot->addr = sql;
	slot->plan = p;
	slot->gen = gen;
	return p->plan;
}

/* The kept plan of the text as tenant_sql() makes it. */
static WiPlan *
lookup(const char *sql, int nargs, const Oid *types)
{
	uint32		h;
	WiPlan	   *p;
	SPIPlanPtr	plan;

	sql = tenant_sql(sql);
	h = hash_bytes((const unsigned char *) sql, strlen(sql));

	if (nargs > 0)
		h = hash_combine(h, hash_bytes((const unsigned char *) types, nargs * sizeof(Oid)));
	for (p = buckets[h % NBUCKETS]; p != NULL; p = p->next)
		if (p->hash == h && p->nargs == nargs && strcmp(p->sql, sql) == 0 &&
			(nargs == 0 || memcmp(p->types, types, nargs * sizeof(Oid)) == 0))
			return p;

	plan = SPI_prepare(sql, nargs, (Oid *) types);
	if (plan == NULL)
		elog(ERROR, "workitem: preparing \"%s\" failed: %s", sql, SPI_result_code_string(SPI_result));
	/* only once prepared: an error above leaves no half-made entry */
	p = MemoryContextAllocZero(TopMemoryContext, sizeof(WiPlan));
	p->hash = h;
	p->nargs = nargs;
	p->sql = MemoryContextStrdup(TopMemoryContext, sql);
	if (nargs > 0)
	{
		p->types = MemoryContextAlloc(TopMemoryContext, nargs * sizeof(Oid));
		memcpy(p->types, types, nargs * sizeof(Oid));
	}
	if (SPI_keepplan(plan) != 0)
		elog(ERROR, "workitem: keeping the plan of \"%s\" failed", sql);
	p->plan = plan;
	p->next = buckets[h % NBUCKETS];
	buckets[h % NBUCKETS] = p;
	return p;
}

/* SPI_execute_with_args, with the plan kept (see above). */
int
wi_execute(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
		   bool read_only, long count)
{
	return SPI_execute_plan(wi_plan(sql, nargs, types), values, nulls, read_only, count);
}
