/*
 * config.c: per-backend caches of workitem.sla_policy and
 * workitem.category_config, read at every submission and at every wait
 * and resume of an item under a policy (issue 13: one query each, on every
 * row). The tables are small and seldom change.
 *
 * Kept in step the way the calendars are: a statement trigger on each
 * table (workitem.config_changed()) sends a relcache invalidation of it,
 * which every backend (this one at its next command) turns into a reload.
 * Two cases the invalidation alone would miss:
 *  - an invalidation that arrives while the cache is being read (the read
 *    takes locks, which processes the queue): the cache read then is used
 *    for this call only, and read again at the next;
 *  - a cache read under a transaction snapshot (REPEATABLE READ,
 *    SERIALIZABLE) may miss changes committed since the snapshot, whose
 *    invalidations were already processed: it is dropped at the end of the
 *    transaction.
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "workitem.h"

typedef struct Policy
{
	int64		id;
	bool		enabled;
	int			kind;			/* -1: any */
	char	   *category;		/* NULL: any */
	char	   *priority;
	uint32		stop_mask;		/* bit per wait type index */
	char	   *reopen_policy;
	Datum		warn_at;		/* numeric[], never NULL */
} Policy;

typedef struct Category
{
	int			kind;
	char	   *category;
	WiCategoryDefaults d;
} Category;

typedef struct Cache
{
	bool		valid;
	bool		xact_only;		/* read under a transaction snapshot */
	Oid			policy_relid;
	Oid			category_relid;
	MemoryContext cxt;
	int			npolicies;
	Policy	   *policies;
	int			ncategories;
	Category   *categories;
} Cache;

static Cache cache;
static uint64 invalidations;
static bool callbacks_set = false;

static void
config_invalidate(Datum arg, Oid relid)
{
	if (!OidIsValid(relid) || relid == cache.policy_relid || relid == cache.category_relid)
	{
		cache.valid = false;
		invalidations++;
	}
}

static void
config_xact_end(XactEvent event, void *arg)
{
	if (cache.xact_only)
		cache.valid = false;
}

static char *
text_col(HeapTuple t, TupleDesc d, int col)
{
	bool		isnull;
	Datum		v = SPI_getbinval(t, d, col, &isnull);

	return isnull ? NULL : TextDatumGetCString(v);
}

static const char *
local_sql(const char *sql)
{
	return wi_citus() ? wi_local_sql(sql, NULL) : sql;
}

static void
load(void)
{
	WiSavedUser user;
	uint64		before = invalidations;
	MemoryContext old;

	if (!callbacks_set)
	{
		wi_on_relcache(config_invalidate);
		RegisterXactCallback(config_xact_end, NULL);
		cache.cxt = AllocSetContextCreate(CacheMemoryContext, "workitem config",
										  ALLOCSET_SMALL_SIZES);
		callbacks_set = true;
	}
	MemoryContextReset(cache.cxt);
	cache.npolicies = cache.ncategories = 0;
	cache.policy_relid = get_relname_relid("sla_policy", wi_namespace());
	cache.category_relid = get_relname_relid("category_config", wi_namespace());

	SPI_connect();
	wi_become_owner(&user);
	/* Citus: this node's placements (src/citus.c), readable inside a shard's query too */
	if (wi_execute(local_sql("SELECT id, enabled, kind, category, priority, stop_wait_types, reopen_policy, warn_at "
							 "FROM workitem.sla_policy"), 0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading sla_policy failed");
	old = MemoryContextSwitchTo(cache.cxt);
	cache.policies = palloc0(sizeof(Policy) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		Policy	   *p = &cache.policies[cache.npolicies++];
		bool		isnull;
		Datum		v;

		p->id = DatumGetInt64(SPI_getbinval(t, d, 1, &isnull));
		p->enabled = DatumGetBool(SPI_getbinval(t, d, 2, &isnull));
		v = SPI_getbinval(t, d, 3, &isnull);
		p->kind = isnull ? -1 : wi_enum_index(WI_ENUM_KIND, v);
		p->category = text_col(t, d, 4);
		p->priority = text_col(t, d, 5);
		v = SPI_getbinval(t, d, 6, &isnull);
		if (!isnull)
		{
			Datum	   *elems;
			bool	   *nulls;
			int			n;
			int16		typlen;
			bool		typbyval;
			char		typalign;
			Oid			elemtype = wi_enum_typoid(WI_ENUM_WAIT_TYPE);

			get_typlenbyvalalign(elemtype, &typlen, &typbyval, &typalign);
			deconstruct_array(DatumGetArrayTypeP(v), elemtype, typlen, typbyval, typalign,
							  &elems, &nulls, &n);
			for (int k = 0; k < n; k++)
				if (!nulls[k])
					p->stop_mask |= 1u << wi_enum_index(WI_ENUM_WAIT_TYPE, elems[k]);
		}
		p->reopen_policy = text_col(t, d, 7);
		v = SPI_getbinval(t, d, 8, &isnull);
		p->warn_at = isnull ? (Datum) 0 : datumCopy(v, false, -1);
	}
	MemoryContextSwitchTo(old);

	/* auto_timer came with 1.2.0: a database not yet upgraded has none */
	if (wi_execute(local_sql(get_attnum(cache.category_relid, "auto_timer") != InvalidAttrNumber
							 ? "SELECT kind, category, feedback_window, require_resolution_note, days_to_wait, auto_timer "
							 "FROM workitem.category_config"
							 : "SELECT kind, category, feedback_window, require_resolution_note, days_to_wait "
							 "FROM workitem.category_config"), 0, NULL, NULL, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading category_config failed");
	old = MemoryContextSwitchTo(cache.cxt);
	cache.categories = palloc0(sizeof(Category) * Max(SPI_processed, 1));
	for (uint64 i = 0; i < SPI_processed; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		TupleDesc	d = SPI_tuptable->tupdesc;
		Category   *c = &cache.categories[cache.ncategories++];
		bool		isnull;
		Datum		v;

		c->kind = wi_enum_index(WI_ENUM_KIND, SPI_getbinval(t, d, 1, &isnull));
		c->category = text_col(t, d, 2);
		v = SPI_getbinval(t, d, 3, &isnull);
		c->d.feedback_window_null = isnull;
		if (!isnull)
			c->d.feedback_window = *DatumGetIntervalP(v);
		v = SPI_getbinval(t, d, 4, &isnull);
		c->d.require_note_null = isnull;
		c->d.require_note = !isnull && DatumGetBool(v);
		v = SPI_getbinval(t, d, 5, &isnull);
		c->d.days_to_wait_null = isnull;
		c->d.days_to_wait = isnull ? 0 : DatumGetInt32(v);
		v = d->natts >= 6 ? SPI_getbinval(t, d, 6, &isnull) : (Datum) 0;
		c->d.auto_timer = d->natts >= 6 && !isnull && DatumGetBool(v);
	}
	MemoryContextSwitchTo(old);
	wi_restore_user(&user);
	SPI_finish();

	cache.xact_only = IsolationUsesXactSnapshot();
	/* read while an invalidation came in: good for this call only */
	cache.valid = (invalidations == before);
}

static void
ensure_loaded(void)
{
	if (!cache.valid)
		load();
}

/* The most specific enabled policy for the item (kind, category, priority); 0 when none. */
int64
wi_config_match_policy(int kind, const char *category, const char *priority)
{
	Policy	   *best = NULL;
	int			best_score = -1;

	ensure_loaded();
	for (int i = 0; i < cache.npolicies; i++)
	{
		Policy	   *p = &cache.policies[i];
		int			score;

		if (!p->enabled ||
			(p->kind >= 0 && p->kind != kind) ||
			(p->category != NULL && (category == NULL || strcmp(p->category, category) != 0)) ||
			(p->priority != NULL && (priority == NULL || strcmp(p->priority, priority) != 0)))
			continue;
		score = (p->kind >= 0) + (p->category != NULL) + (p->priority != NULL);
		if (score > best_score || (score == best_score && p->id < best->id))
		{
			best = p;
			best_score = score;
		}
	}
	return best ? best->id : 0;
}

static Policy *
find_policy(int64 id)
{
	ensure_loaded();
	for (int i = 0; i < cache.npolicies; i++)
		if (cache.policies[i].id == id)
			return &cache.policies[i];
	return NULL;
}

/* Does the policy stop its clocks while the item waits with this wait type? */
bool
wi_config_stops_clock(int64 policy_id, int wait_type)
{
	Policy	   *p;

	if (wait_type < 0)
		return false;
	p = find_policy(policy_id);
	return p != NULL && (p->stop_mask & (1u << wait_type)) != 0;
}

/*
 * The policy's warning thresholds (numeric[]), a copy in the caller's
 * context (a reload frees the cache's); false for a policy since deleted.
 */
bool
wi_config_warn_at(int64 policy_id, Datum *warn_at)
{
	Policy	   *p = find_policy(policy_id);

	if (p == NULL || p->warn_at == (Datum) 0)
		return false;
	*warn_at = datumCopy(p->warn_at, false, -1);
	return true;
}

/* continue, new_cycle or reset; continue for a policy since deleted (a copy: a reload frees the cache's) */
const char *
wi_config_reopen_policy(int64 policy_id)
{
	Policy	   *p = find_policy(policy_id);

	return pstrdup(p != NULL && p->reopen_policy != NULL ? p->reopen_policy : "continue");
}

/* The defaults of a kind and category; false when it has no row. */
bool
wi_config_category(int kind, const char *category, WiCategoryDefaults *out)
{
	ensure_loaded();
	for (int i = 0; i < cache.ncategories; i++)
		if (cache.categories[i].kind == kind && strcmp(cache.categories[i].category, category) == 0)
		{
			*out = cache.categories[i].d;
			return true;
		}
	return false;
}

/* Statement trigger on the configuration tables: every backend reloads. */
PG_FUNCTION_INFO_V1(workitem_config_changed);
Datum
workitem_config_changed(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.config_changed() must be called as a trigger")));
	CacheInvalidateRelcache(td->tg_relation);
	/*
	 * On Citus the trigger fires on this node's placement of the table (a
	 * shard, another relation): the caches of this node know the table by
	 * its name. Either table's invalidation reloads the whole cache.
	 */
	if (RelationGetNamespace(td->tg_relation) == wi_namespace() &&
		strcmp(RelationGetRelationName(td->tg_relation), "sla_policy") != 0 &&
		strcmp(RelationGetRelationName(td->tg_relation), "category_config") != 0)
	{
		Oid			shell = get_relname_relid("sla_policy", wi_namespace());

		if (OidIsValid(shell))
			CacheInvalidateRelcacheByRelid(shell);
	}
	return PointerGetDatum(NULL);
}
