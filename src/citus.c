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

#define NTABLES (lengthof(tables) - 1)

/*
 * Per table of tables[], per backend: whether Citus made it a reference
 * table (pg_dist_partition: partmethod 'n', repmodel 't'), so read by its
 * placement, else by the shard of a tenant.
 */
typedef struct TableKind
{
	Oid			relid;			/* workitem.<table> */
	bool		known;			/* false: cleared by an invalidation */
	bool		reference;
} TableKind;

static TableKind kinds[NTABLES];

/* This node's shard of a table for a tenant (NULL: a reference table), or none. */
typedef struct LocalShard
{
	struct LocalShard *next;
	char	   *relname;
	char	   *tenant;			/* NULL: a reference table */
	Oid			logical;		/* workitem.<relname> */
	Oid			relid;			/* the shard; InvalidOid: this node holds none */
	bool		valid;			/* false: cleared by an invalidation */
	char	   *name;			/* qualified, quoted; NULL: none here */
} LocalShard;

static LocalShard *shards = NULL;
static bool callback_set = false;

/*
 * Citus sends a relcache invalidation of the distributed table whenever a
 * placement of one of its shards is added, moved or removed (on every node
 * whose metadata has it: a node added, replicate_reference_tables(),
 * citus_move_shard_placement(), the rebalancer), and of the table itself
 * when pg_dist_partition changes; a dropped shard sends its own. An
 * answer, "none here" included, is kept until one of these.
 */
static void
shards_invalidate(Datum arg, Oid relid)
{
	for (LocalShard *s = shards; s != NULL; s = s->next)
		if (relid == InvalidOid || relid == s->logical || (OidIsValid(s->relid) && relid == s->relid))
			s->valid = false;
	for (int i = 0; i < (int) NTABLES; i++)
		if (relid == InvalidOid || relid == kinds[i].relid)
			kinds[i].known = false;
}

static void
set_callback(void)
{
	if (!callback_set)
	{
		wi_on_relcache(shards_invalidate);
		callback_set = true;
	}
}

/* Whether tables[i] is a reference table (Citus's catalog, cached). */
static bool
is_reference(int i)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		isnull;
	Oid			relid;

	set_callback();
	if (kinds[i].known)
		return kinds[i].reference;
	relid = get_relname_relid(tables[i], wi_namespace());
	values[0] = ObjectIdGetDatum(relid);
	SPI_connect();
	if (wi_execute("SELECT partmethod OPERATOR(pg_catalog.=) 'n' AND repmodel OPERATOR(pg_catalog.=) 't' "
				   "FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading pg_dist_partition for workitem.%s failed", tables[i]);
	kinds[i].reference = SPI_processed > 0 &&
		DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	kinds[i].relid = relid;
	kinds[i].known = OidIsValid(relid);
	return kinds[i].reference;
}

/*
 * The qualified name of this node's shard of workitem.relname holding
 * tenant (NULL: the placement of a reference table), or NULL when this
 * node holds no placement of it (pg_dist_placement: a shard moved away and
 * not dropped yet is not this node's). Cached per backend, the "none"
 * too, until Citus's invalidations say the placements changed (above).
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
	Oid			logical;
	MemoryContext old;
	WiSavedUser user;

	set_callback();
	for (s = shards; s != NULL; s = s->next)
		if (strcmp(s->relname, relname) == 0 &&
			(tenant == NULL ? s->tenant == NULL : s->tenant != NULL && strcmp(s->tenant, tenant) == 0))
			break;
	if (s != NULL && s->valid)
		return s->name;

	logical = get_relname_relid(relname, wi_namespace());
	values[0] = CStringGetTextDatum(psprintf("workitem.%s", relname));
	values[1] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	nulls[1] = tenant ? ' ' : 'n';
	/*
	 * As the schema's owner: Citus's functions check the caller's rights on
	 * the table, and an agent has none on workitem.event (the log).
	 */
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT pg_catalog.to_regclass(pg_catalog.shard_name($1::pg_catalog.regclass, s.shardid))::pg_catalog.oid "
				   "FROM (SELECT CASE WHEN $2 IS NULL THEN (SELECT pg_catalog.min(shardid) FROM pg_catalog.pg_dist_shard"
				   "  WHERE logicalrelid OPERATOR(pg_catalog.=) $1::pg_catalog.regclass)"
				   " ELSE pg_catalog.get_shard_id_for_distribution_column($1::pg_catalog.regclass, $2) END AS shardid) s "
				   "WHERE EXISTS (SELECT FROM pg_catalog.pg_dist_placement p WHERE p.shardid OPERATOR(pg_catalog.=) s.shardid "
				   " AND p.groupid OPERATOR(pg_catalog.=) (SELECT groupid FROM pg_catalog.pg_dist_local_group))",
				   2, types, values, nulls, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: finding this node's shard of workitem.%s failed", relname);
	d = SPI_processed > 0 ? SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull) : (Datum) 0;
	if (SPI_processed == 0)
		isnull = true;
	SPI_finish();
	wi_restore_user(&user);

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
	s->logical = logical;
	s->relid = isnull ? InvalidOid : DatumGetObjectId(d);
	s->name = isnull ? NULL : quote_qualified_identifier("workitem", get_rel_name(s->relid));
	s->valid = true;
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
			bool		reference = is_reference(i);
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

/*
 * Whether relid (a distributed table, not a shard) is a reference table:
 * one shard with a placement on every node, whose triggers run on each
 * placement in a session of its own (attach.c). One lookup in
 * pg_dist_partition, by callers that cache the answer.
 */
bool
wi_citus_reference_table(Oid relid)
{
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	bool		reference = false;
	WiSavedUser user;

	values[0] = ObjectIdGetDatum(relid);
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT partmethod OPERATOR(pg_catalog.=) 'n' AND repmodel OPERATOR(pg_catalog.=) 't' "
				   "FROM pg_catalog.pg_dist_partition WHERE logicalrelid OPERATOR(pg_catalog.=) $1",
				   1, types, values, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading pg_dist_partition failed");
	if (SPI_processed == 1)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		reference = !isnull && DatumGetBool(d);
	}
	SPI_finish();
	wi_restore_user(&user);
	return reference;
}
