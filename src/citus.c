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

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "workitem.h"

/* The tables of workitem a statement may name; longest first where one prefixes another. */
static const char *const tables[] = {
	"attached_table", "sla_clock_event", "sla_clock", "sla_policy", "sla_target",
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

/* Every shard of a table this node holds (node_shards()). */
typedef struct NodeShards
{
	struct NodeShards *next;
	char	   *tbl;
	Oid			logical;		/* workitem.<tbl> */
	bool		valid;			/* false: cleared by an invalidation */
	int			n;
	Oid		   *relids;
	Datum	   *names;			/* qualified, quoted */
} NodeShards;

static NodeShards *node_shards = NULL;
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
	for (NodeShards *n = node_shards; n != NULL; n = n->next)
	{
		bool		hit = relid == InvalidOid || relid == n->logical;

		for (int i = 0; i < n->n && !hit; i++)
			hit = relid == n->relids[i];
		if (hit)
			n->valid = false;
	}
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
	Oid			relid;

	set_callback();
	if (kinds[i].known)
		return kinds[i].reference;
	relid = get_relname_relid(tables[i], wi_namespace());
	kinds[i].reference = OidIsValid(relid) && wi_citus_reference_table(relid);
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
 * shard, InvalidOid when relid is none (no such shard, or of a table in
 * another schema). A shard is named after its table with "_<shardid>" (a
 * long name hashed, the suffix kept), and pg_dist_shard says whose shard
 * that is. Read by a catalog scan, not SQL: BEFORE ROW triggers call this
 * (once per shard and backend: the callers cache the answer).
 */
Oid
wi_citus_table_of_shard(Oid relid)
{
	char	   *name = get_rel_name(relid);
	const char *p = name ? strrchr(name, '_') : NULL;
	Oid			dist_shard;
	Oid			index;
	Relation	r;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	Oid			logical = InvalidOid;
	int64		shardid;
	char	   *end;

	if (p == NULL || p[1] == '\0' || strspn(p + 1, "0123456789") != strlen(p + 1))
		return InvalidOid;
	errno = 0;
	shardid = strtoi64(p + 1, &end, 10);
	if (errno != 0)
		return InvalidOid;
	dist_shard = get_relname_relid("pg_dist_shard", PG_CATALOG_NAMESPACE);
	index = get_relname_relid("pg_dist_shard_shardid_index", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(dist_shard) || !OidIsValid(index))
		return InvalidOid;
	r = table_open(dist_shard, AccessShareLock);
	ScanKeyInit(&key, 2 /* shardid */, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(shardid));
	scan = systable_beginscan(r, index, true, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 1 /* logicalrelid */, RelationGetDescr(r), &isnull);

		if (!isnull)
			logical = DatumGetObjectId(d);
	}
	systable_endscan(scan);
	table_close(r, AccessShareLock);
	/* a table of ours that only looks like a shard: not the same schema */
	if (OidIsValid(logical) && get_rel_namespace(logical) != get_rel_namespace(relid))
		return InvalidOid;
	return logical;
}

/*
 * workitem.node_shards(tbl): this node's shards of workitem.<tbl> (the
 * placement of a reference table), for a reader called per row of a query
 * that Citus pushed to this node: a query there naming the distributed
 * table would be a distributed query nested in a shard's, which Citus
 * refuses, while the shards are plain local tables. NULL outside Citus's
 * own connections, so that plain PostgreSQL and a session on the
 * coordinator keep the plain statement (one test of a setting, no query).
 * Cached per backend with wi_local_table()'s answers, until the same
 * invalidations.
 */
PG_FUNCTION_INFO_V1(workitem_node_shards);
Datum
workitem_node_shards(PG_FUNCTION_ARGS)
{
	char	   *tbl;
	NodeShards *s;
	Oid			logical;
	Oid			types[1] = {OIDOID};
	Datum		values[1];
	WiSavedUser user;
	MemoryContext old;
	uint64		n;

	if (PG_ARGISNULL(0) || !wi_citus_internal() || !wi_citus())
		PG_RETURN_NULL();
	tbl = text_to_cstring(PG_GETARG_TEXT_PP(0));
	set_callback();
	for (s = node_shards; s != NULL; s = s->next)
		if (strcmp(s->tbl, tbl) == 0)
			break;
	if (s != NULL && s->valid)
		PG_RETURN_ARRAYTYPE_P(construct_array(s->names, s->n, TEXTOID, -1, false, TYPALIGN_INT));
	logical = get_relname_relid(tbl, wi_namespace());
	if (!OidIsValid(logical))
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_TABLE),
				 errmsg("workitem.%s does not exist", tbl)));
	values[0] = ObjectIdGetDatum(logical);
	/* as the schema's owner: Citus's functions check the caller's rights on the table */
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT s.shardid::pg_catalog.int8,"
				   " pg_catalog.to_regclass(pg_catalog.shard_name(s.logicalrelid, s.shardid))::pg_catalog.oid"
				   " FROM pg_catalog.pg_dist_shard s JOIN pg_catalog.pg_dist_placement p USING (shardid)"
				   " WHERE s.logicalrelid OPERATOR(pg_catalog.=) $1"
				   " AND p.groupid OPERATOR(pg_catalog.=) (SELECT groupid FROM pg_catalog.pg_dist_local_group)"
				   " ORDER BY 1",
				   1, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: listing this node's shards of workitem.%s failed", tbl);
	n = SPI_processed;
	old = MemoryContextSwitchTo(TopMemoryContext);
	if (s == NULL)
	{
		s = palloc0(sizeof(NodeShards));
		s->tbl = pstrdup(tbl);
		s->next = node_shards;
		node_shards = s;
	}
	else
	{
		pfree(s->relids);
		pfree(s->names);
	}
	s->logical = logical;
	s->relids = palloc(sizeof(Oid) * Max(n, 1));
	s->names = palloc(sizeof(Datum) * Max(n, 1));
	s->n = 0;
	for (uint64 i = 0; i < n; i++)
	{
		bool		isnull;
		Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 2, &isnull);

		if (isnull)
			continue;
		s->relids[s->n] = DatumGetObjectId(d);
		s->names[s->n] = CStringGetTextDatum(quote_qualified_identifier("workitem",
																		get_rel_name(DatumGetObjectId(d))));
		s->n++;
	}
	s->valid = true;
	MemoryContextSwitchTo(old);
	SPI_finish();
	wi_restore_user(&user);
	PG_RETURN_ARRAYTYPE_P(construct_array(s->names, s->n, TEXTOID, -1, false, TYPALIGN_INT));
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

/*
 * workitem.source_name(source): the name the views give an attached
 * table named by the log or a clock (source_name). On one node
 * source::text. On Citus the log names the table by the coordinator's OID,
 * which a worker cannot resolve (or resolves to a relation of its own):
 * the name attach() kept in attached_table (source_oid, source_name), read
 * from this node's placement once per query. Answers are kept for the
 * query (fn_extra; source::text would look each row's up): a row costs a
 * search of a few pairs. A function rather than a join of
 * attached_table in the views: on one node a join costs every read of the
 * log (measured: activity_log +18-24 %), a call only the rows selected.
 */
#define NSOURCES 32				/* answers kept beyond attached_table's pairs */

typedef struct SourceNames
{
	int			n;				/* kept pairs: attached_table's (Citus), then answers */
	int			cap;
	Oid		   *oids;
	text	  **names;
} SourceNames;

static void
keep_source_name(SourceNames *s, MemoryContext cxt, Oid source, Datum name)
{
	Size		size = VARSIZE_ANY(DatumGetPointer(name));

	if (s->n == s->cap)
		return;
	s->oids[s->n] = source;
	s->names[s->n] = (text *) MemoryContextAlloc(cxt, size);
	memcpy(s->names[s->n++], DatumGetPointer(name), size);
}

/* A query's pairs: on Citus every row of attached_table first (so none is left out). */
static SourceNames *
new_source_names(MemoryContext cxt)
{
	SourceNames *s = MemoryContextAllocZero(cxt, sizeof(SourceNames));
	WiSavedUser user;

	if (!wi_citus())
	{
		s->cap = NSOURCES;
		s->oids = MemoryContextAlloc(cxt, sizeof(Oid) * s->cap);
		s->names = MemoryContextAlloc(cxt, sizeof(text *) * s->cap);
		return s;
	}
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute(wi_local_sql("SELECT COALESCE(source_oid, tbl::pg_catalog.oid), "
								"COALESCE(source_name, tbl::pg_catalog.text) FROM workitem.attached_table",
								NULL),
				   0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading workitem.attached_table failed");
	s->cap = (int) SPI_processed + NSOURCES;
	s->oids = MemoryContextAlloc(cxt, sizeof(Oid) * s->cap);
	s->names = MemoryContextAlloc(cxt, sizeof(text *) * s->cap);
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		n1,
					n2;
		Datum		o = SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &n1);
		Datum		name = SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &n2);

		if (!n1 && !n2)
			keep_source_name(s, cxt, DatumGetObjectId(o), PointerGetDatum(PG_DETOAST_DATUM_PACKED(name)));
	}
	SPI_finish();
	wi_restore_user(&user);
	return s;
}

PG_FUNCTION_INFO_V1(workitem_source_name);
Datum
workitem_source_name(PG_FUNCTION_ARGS)
{
	Oid			source = PG_GETARG_OID(0);
	MemoryContext cxt = fcinfo->flinfo->fn_mcxt;
	SourceNames *s = fcinfo->flinfo->fn_extra;
	text	   *name;

	if (s == NULL)
		fcinfo->flinfo->fn_extra = s = new_source_names(cxt);
	/* a few tables' rows: kept for the query, never freed before its end */
	for (int i = 0; i < s->n; i++)
		if (s->oids[i] == source)
			PG_RETURN_TEXT_P(s->names[i]);
	name = cstring_to_text(DatumGetCString(DirectFunctionCall1(regclassout, ObjectIdGetDatum(source))));
	keep_source_name(s, cxt, source, PointerGetDatum(name));
	PG_RETURN_TEXT_P(name);
}
