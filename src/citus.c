/*
 * citus.c: statements run on this node's own shards (issue 14).
 *
 * On Citus, a trigger runs on the worker that holds its item's shard, and
 * every other row of that item (clocks, their log, the item's tenant's
 * messages) is in the colocated shards on the same node. Statements naming
 * the distributed tables there are planned by Citus, which refuses much of
 * what the clock SQL does (STABLE functions of columns in an UPDATE,
 * functions in CASE or COALESCE, an INSERT from a modifying CTE), and a
 * query nested in a shard's query outside a trigger may not read a
 * reference table at all (doc/citus-findings.md, sections 4 and 5).
 * wi_local_sql() names this node's shards instead: plain local tables, so
 * the statement is the one plain PostgreSQL runs, planned by PostgreSQL.
 * Reference tables have a placement on every node in the metadata.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "workitem.h"

/* The tables of workitem a statement may name; longest first where one prefixes another. */
static const char *const tables[] = {
	"sla_clock_event", "sla_clock", "sla_policy", "sla_target",
	"calendar_hours", "calendar_holiday", "calendar", "category_config",
	"item", "message", "event", "time_entry", "timer", "expense", NULL
};

typedef struct LocalShard
{
	struct LocalShard *next;
	char	   *relname;
	char	   *tenant;			/* NULL: a reference table */
	Oid			relid;			/* InvalidOid: cleared by an invalidation */
	char	   *name;			/* qualified, quoted */
} LocalShard;

static LocalShard *shards = NULL;
static bool callback_set = false;

static void
shards_invalidate(Datum arg, Oid relid)
{
	for (LocalShard *s = shards; s != NULL; s = s->next)
		if (relid == InvalidOid || relid == s->relid)
			s->relid = InvalidOid;
}

/*
 * The qualified name of this node's shard of workitem.relname holding
 * tenant (NULL: the placement of a reference table), or NULL when this
 * node holds none. Cached per backend; a split or move of the shard
 * (its relation dropped) looks it up again.
 */
const char *
wi_local_table(const char *relname, const char *tenant)
{
	LocalShard *s;
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	char		nulls[2] = {' ', ' '};
	bool		isnull;
	Datum		d;
	MemoryContext old;
	WiSavedUser user;

	if (!callback_set)
	{
		wi_on_relcache(shards_invalidate);
		callback_set = true;
	}
	for (s = shards; s != NULL; s = s->next)
		if (strcmp(s->relname, relname) == 0 &&
			(tenant == NULL ? s->tenant == NULL : s->tenant != NULL && strcmp(s->tenant, tenant) == 0))
			break;
	if (s != NULL && OidIsValid(s->relid))
		return s->name;

	values[0] = CStringGetTextDatum(psprintf("workitem.%s", relname));
	values[1] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	nulls[1] = tenant ? ' ' : 'n';
	/*
	 * As the schema's owner: Citus's functions check the caller's rights on
	 * the table, and an agent has none on workitem.event (the log).
	 */
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT pg_catalog.to_regclass(pg_catalog.shard_name($1::pg_catalog.regclass, "
				   " CASE WHEN $2 IS NULL THEN (SELECT pg_catalog.min(shardid) FROM pg_catalog.pg_dist_shard"
				   "  WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass)"
				   " ELSE pg_catalog.get_shard_id_for_distribution_column($1::pg_catalog.regclass, $2) END))"
				   "::pg_catalog.oid",
				   2, types, values, nulls, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "workitem: finding this node's shard of workitem.%s failed", relname);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	wi_restore_user(&user);
	if (isnull)
		return NULL;

	old = MemoryContextSwitchTo(TopMemoryContext);
	if (s == NULL)
	{
		s = palloc0(sizeof(LocalShard));
		s->relname = pstrdup(relname);
		s->tenant = tenant ? pstrdup(tenant) : NULL;
		s->next = shards;
		shards = s;
	}
	else if (s->name)
		pfree(s->name);
	s->name = quote_qualified_identifier("workitem", get_rel_name(DatumGetObjectId(d)));
	s->relid = DatumGetObjectId(d);
	MemoryContextSwitchTo(old);
	return s->name;
}

/*
 * sql with each workitem table it names replaced by this node's shard
 * (of tenant for the item-owned tables, the placement for reference
 * tables). Tables this node holds no shard of keep their name. On plain
 * PostgreSQL sql itself: callers test wi_citus() first, so that plain
 * PostgreSQL runs no extra code.
 */
const char *
wi_local_sql(const char *sql, const char *tenant)
{
	StringInfoData out;
	const char *p = sql;

	if (!wi_citus())
		return sql;
	initStringInfo(&out);
	while (*p)
	{
		const char *hit = strstr(p, "workitem.");
		const char *name;
		int			i;

		if (hit == NULL)
		{
			appendStringInfoString(&out, p);
			break;
		}
		appendBinaryStringInfo(&out, p, hit - p);
		name = hit + strlen("workitem.");
		for (i = 0; tables[i] != NULL; i++)
		{
			size_t		len = strlen(tables[i]);
			char		next = name[len];

			if (strncmp(name, tables[i], len) == 0 &&
				!(next == '_' || (next >= 'a' && next <= 'z') || (next >= '0' && next <= '9') || next == '('))
				break;
		}
		if (tables[i] != NULL)
		{
			bool		reference = strncmp(tables[i], "sla_policy", 10) == 0 ||
				strncmp(tables[i], "sla_target", 10) == 0 ||
				strncmp(tables[i], "calendar", 8) == 0 ||
				strcmp(tables[i], "category_config") == 0;
			const char *local = reference || tenant != NULL
				? wi_local_table(tables[i], reference ? NULL : tenant) : NULL;

			if (local != NULL)
			{
				appendStringInfoString(&out, local);
				p = name + strlen(tables[i]);
				continue;
			}
		}
		appendStringInfoString(&out, "workitem.");
		p = name;
	}
	return out.data;
}

/*
 * The table (distributed or reference) of which relid is this node's
 * shard, InvalidOid when relid is no shard. A shard is named after its
 * table with "_<shardid>" (a long name hashed, the suffix kept): one
 * lookup in pg_dist_shard, by callers that cache the answer.
 */
Oid
wi_citus_table_of_shard(Oid relid)
{
	char	   *name = get_rel_name(relid);
	char	   *us = name ? strrchr(name, '_') : NULL;
	char	   *end;
	int64		shardid;
	Oid			types[1] = {INT8OID};
	Datum		values[1];
	Oid			table = InvalidOid;
	WiSavedUser user;

	if (us == NULL || us[1] < '0' || us[1] > '9')
		return InvalidOid;
	errno = 0;
	shardid = strtoi64(us + 1, &end, 10);
	if (*end != '\0' || errno != 0)
		return InvalidOid;
	values[0] = Int64GetDatum(shardid);
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT logicalrelid::pg_catalog.oid FROM pg_catalog.pg_dist_shard"
				   " WHERE shardid OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading pg_dist_shard failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
			table = DatumGetObjectId(d);
	}
	SPI_finish();
	wi_restore_user(&user);
	/* a table of ours that only looks like a shard: not the same schema */
	if (OidIsValid(table) && get_rel_namespace(table) != get_rel_namespace(relid))
		table = InvalidOid;
	return table;
}
