/*
 * workitem.c: module entry point, settings and the acting resource.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "catalog/pg_namespace.h"
#include "executor/spi.h"
#include "tcop/pquery.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "workitem.h"

PG_MODULE_MAGIC;

static char *actor_setting = NULL;

/*
 * How the value of workitem.actor now in force was set: its GUC "extra",
 * which PostgreSQL keeps and restores with the value (at the end of a SET
 * LOCAL, a rollback to a savepoint, a RESET).
 */
typedef struct ActorExtra
{
	bool		citus_local;	/* set by a SET command while citus.propagate_set_commands was 'local' */
} ActorExtra;

static bool defining_actor = false;	/* in _PG_init: a value set before workitem was loaded */

static const ActorExtra *actor_extra = NULL;
static struct config_generic *actor_guc = NULL;	/* found once, for its stack */
static char *tenant_setting = NULL;
static bool tenant_named = false;	/* set by the session, not the built-in default */

/* Who acts when the engine moves items by itself (timers); NULL otherwise. */
const char *wi_actor_override = NULL;

/* workitem.restoring: a load through Citus (engine.c, wi_restoring_dump) */
bool		wi_restoring = false;

/* Timer settings (timers.c, worker.c). */
int			wi_timer_interval = 60000;	/* ms; 0 turns the worker off */
int			wi_timer_batch = 1000;
char	   *wi_timer_databases = NULL;

void		_PG_init(void);

/* A tenant names a shard key: never empty. */
static bool
check_tenant(char **newval, void **extra, GucSource source)
{
	if (*newval == NULL || (*newval)[0] == '\0')
	{
		GUC_check_errdetail("A tenant cannot be empty; the single-tenant default is 'default'.");
		return false;
	}
	/* whether anybody named it (SET, ALTER ROLE/DATABASE, the config file): see wi_routed_tenant() */
#if PG_VERSION_NUM >= 160000
	*extra = guc_malloc(LOG, sizeof(bool));
#else
	*extra = malloc(sizeof(bool));
#endif
	if (*extra == NULL)
		return false;
	*(bool *) *extra = source > PGC_S_DYNAMIC_DEFAULT;
	return true;
}

/*
 * workitem.actor: notes whether Citus would send a SET LOCAL of it to the
 * other nodes (wi_actor_set_local()): Citus sends the SET command it sees
 * (its utility hook), never set_config(), which leaves the same trace in
 * the setting's stack; so the command running must be a SET. A value set
 * before workitem was loaded is applied again while it loads, within
 * another command: that one is taken as set by SET (each worker checks
 * that it got one). No catalog access: it runs wherever a setting is
 * made, outside transactions too.
 */
static bool
check_actor(char **newval, void **extra, GucSource source)
{
	const char *prop = GetConfigOption("citus.propagate_set_commands", true, false);
	ActorExtra *x;

#if PG_VERSION_NUM >= 160000
	x = guc_malloc(LOG, sizeof(ActorExtra));
#else
	x = malloc(sizeof(ActorExtra));
#endif
	if (x == NULL)
		return false;
	x->citus_local = prop != NULL && pg_strcasecmp(prop, "local") == 0 &&
		(defining_actor || (ActivePortal != NULL && ActivePortal->commandTag == CMDTAG_SET));
	*extra = x;
	return true;
}

static void
assign_actor(const char *newval, void *extra)
{
	actor_extra = extra;
}

static void
assign_tenant(const char *newval, void *extra)
{
	tenant_named = extra != NULL && *(bool *) extra;
}

void
_PG_init(void)
{
	defining_actor = true;
	DefineCustomStringVariable("workitem.actor",
							   "Who is acting: recorded in the activity log and used as the default resource.",
							   "Applications set it per transaction with SET LOCAL; "
							   "when empty, the session user is the actor.",
							   &actor_setting,
							   "",
							   PGC_USERSET,
							   0,
							   check_actor, assign_actor, NULL);
	defining_actor = false;
	DefineCustomBoolVariable("workitem.notify",
							 "Send NOTIFY workitem_moves with a JSON payload for every move, at commit.",
							 "Turn it off for bulk loads nobody listens to.",
							 &wi_notify,
							 true,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("workitem.restoring",
							 "On Citus: the COPY Citus sends to a shard is a restore (rows loaded as they are).",
							 "workitem.distribute() sets it (SET LOCAL, propagated) while it copies the "
							 "local rows into the shards; any other COPY through the coordinator is held "
							 "to the rules. Only the tables' owner's COPY is ever a restore.",
							 &wi_restoring,
							 false,
							 PGC_USERSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomStringVariable("workitem.tenant",
							   "The tenant new items are created in (the default of every tenant column).",
							   "Rows the engine writes for an item take the item's tenant, not this setting.",
							   &tenant_setting,
							   "default",
							   PGC_USERSET,
							   0,
							   check_tenant, assign_tenant, NULL);
	DefineCustomIntVariable("workitem.timer_interval",
							"How often the background worker runs workitem.run_timers().",
							"0 turns the worker off.",
							&wi_timer_interval,
							60000, 0, INT_MAX,
							PGC_SIGHUP,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
	DefineCustomIntVariable("workitem.timer_batch",
							"Items the background worker moves per transaction.",
							NULL,
							&wi_timer_batch,
							1000, 1, 1000000,
							PGC_SIGHUP,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("workitem.timer_max_running",
							"The longest a timer counts: a timer is stopped at its start plus this.",
							"run_timers() stops timers running longer; a timer stopped later counts "
							"no more than this. 0: no limit.",
							&wi_timer_max_running,
							8 * 3600, 0, INT_MAX,
							PGC_SUSET,
							GUC_UNIT_S,
							NULL, NULL, NULL);
	/*
	 * One worker per database, registered at start: postmaster-level. A
	 * library loaded later may not define such a setting; it has no worker
	 * then, and the setting is only shown.
	 */
	DefineCustomStringVariable("workitem.timer_databases",
							   "Databases (comma-separated) in which the background worker runs the timers.",
							   "Needs workitem in shared_preload_libraries and a restart.",
							   &wi_timer_databases,
							   "postgres",
							   process_shared_preload_libraries_in_progress ? PGC_POSTMASTER : PGC_SIGHUP,
							   0,
							   NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("workitem");
#else
	EmitWarningsOnPlaceholders("workitem");
#endif

	if (process_shared_preload_libraries_in_progress)
		wi_register_timer_workers();
}

/*
 * The 0-based position of our column "name" in a table of ours; "who" names
 * the trigger in the error, which only a hand-altered schema can raise.
 */
int
wi_attno(TupleDesc d, const char *name, const char *who)
{
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(d, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("%s: column \"%s\" not found", who, name)));
	return -1;
}

/* Like wi_attno, -1 when the column is not there (an older schema). */
int
wi_attno_opt(TupleDesc d, const char *name)
{
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(d, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
			return i;
	}
	return -1;
}

/* The acting resource: the engine, else workitem.actor if set, else the session user. */
char *
wi_actor(void)
{
	if (wi_actor_override != NULL)
		return pstrdup(wi_actor_override);
	if (actor_setting != NULL && actor_setting[0] != '\0')
		return pstrdup(actor_setting);
	return GetUserNameFromId(GetSessionUserId(), false);
}

/* workitem.actor's entry among the settings (one search per backend). */
static struct config_generic *
find_actor_guc(void)
{
	struct config_generic **vars;
	struct config_generic *found = NULL;
	int			n;

#if PG_VERSION_NUM >= 160000
	vars = get_guc_variables(&n);
#else
	vars = get_guc_variables();
	n = GetNumConfigOptions();
#endif
	for (int i = 0; i < n && found == NULL; i++)
		if (pg_strcasecmp(vars[i]->name, "workitem.actor") == 0)
			found = vars[i];
#if PG_VERSION_NUM >= 160000
	pfree(vars);
#endif
	return found;
}

/*
 * Is the actor (wi_actor()) a workitem.actor that this transaction set
 * with SET LOCAL (or set_config(..., true)), not overridden since by a
 * session's SET, a function's SET clause or the engine? With
 * citus_local, also set by a SET command while
 * citus.propagate_set_commands was 'local' (check_actor()), as Citus
 * needs to send it to the other nodes. Read from PostgreSQL's
 * own record of the setting (its stack of values saved per nesting level:
 * the same in PostgreSQL 13 to 18); the session's SET, a default from the
 * configuration, a role or a database, and the session user are not.
 */
bool
wi_actor_set_local(bool citus_local)
{
	GucStack   *top;

	if (wi_actor_override != NULL || actor_setting == NULL || actor_setting[0] == '\0')
		return false;
	if (actor_guc == NULL)
		actor_guc = find_actor_guc();
	if (actor_guc == NULL || actor_guc->source != PGC_S_SESSION)
		return false;
	top = actor_guc->stack;
	if (top == NULL || (top->state != GUC_LOCAL && top->state != GUC_SET_LOCAL))
		return false;
	return !citus_local || (actor_extra != NULL && actor_extra->citus_local);
}

PG_FUNCTION_INFO_V1(workitem_actor);
Datum
workitem_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(wi_actor()));
}

const char *
wi_current_tenant(void)
{
	return tenant_setting ? tenant_setting : "default";
}

/*
 * On Citus, the tenant this session named (workitem.tenant set, not its
 * built-in default): the operations given an item id look for the item
 * there first, one shard, before asking every shard. NULL otherwise, and
 * always on plain PostgreSQL.
 */
const char *
wi_routed_tenant(void)
{
	return tenant_named && tenant_setting != NULL && wi_citus() ? tenant_setting : NULL;
}

/* workitem.routed_tenant(): wi_routed_tenant(), for the plpgsql readers */
PG_FUNCTION_INFO_V1(workitem_routed_tenant);
Datum
workitem_routed_tenant(PG_FUNCTION_ARGS)
{
	const char *t = wi_routed_tenant();

	if (t == NULL)
		PG_RETURN_NULL();
	PG_RETURN_TEXT_P(cstring_to_text(t));
}

/* workitem.current_tenant(): the default of every tenant column. */
PG_FUNCTION_INFO_V1(workitem_current_tenant);
Datum
workitem_current_tenant(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(tenant_setting ? tenant_setting : "default"));
}

/*
 * Whether workitem runs distributed by Citus (workitem.distribute()): its
 * item table is in Citus's metadata, which every node has. Known once true;
 * a "no" is kept until a relcache invalidation of workitem.item (Citus's
 * trigger on pg_dist_partition sends one when the table is distributed,
 * on every node), so that plain PostgreSQL, and a node with Citus before
 * distribute(), pay no catalog lookup or query per statement.
 */
static bool citus_known = false;
static bool citus_distributed = false;
static Oid	citus_item = InvalidOid;

static void
citus_forget(Datum arg, Oid relid)
{
	if (!citus_distributed && (relid == InvalidOid || relid == citus_item))
		citus_known = false;
}

bool
wi_citus(void)
{
	static bool registered = false;

	if (citus_known)
		return citus_distributed;
	if (!registered)
	{
		wi_on_relcache(citus_forget);
		registered = true;
	}
	citus_item = get_relname_relid("item", wi_namespace());
	if (OidIsValid(citus_item) && OidIsValid(get_relname_relid("pg_dist_partition", PG_CATALOG_NAMESPACE)))
	{
		SPI_connect();
		if (SPI_execute("SELECT 1 FROM pg_catalog.pg_dist_partition "
						"WHERE logicalrelid OPERATOR(pg_catalog.=) 'workitem.item'::pg_catalog.regclass",
						true, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem: reading pg_dist_partition failed");
		citus_distributed = SPI_processed > 0;
		SPI_finish();
	}
	/* no item table yet (CREATE EXTENSION running): asked again next time */
	citus_known = OidIsValid(citus_item);
	return citus_distributed;
}

/*
 * Whether the installed schema has tenant columns (1.2.0 on): the library
 * also runs an older schema until ALTER EXTENSION workitem UPDATE.
 */
bool
wi_tenants(void)
{
	Oid			relid = get_relname_relid("item", wi_namespace());

	return OidIsValid(relid) && get_attnum(relid, "tenant") != InvalidAttrNumber;
}

/*
 * The module's relcache callbacks, behind one of PostgreSQL's: a backend
 * has only ten slots (MAX_RELCACHE_CALLBACKS), and Citus takes most of
 * them, so six of ours ran out on a Citus worker ("out of relcache_callback_list
 * slots" at the first SLA clock in a shard).
 */
#define WI_MAX_RELCACHE_CALLBACKS 12
static RelcacheCallbackFunction relcache_callbacks[WI_MAX_RELCACHE_CALLBACKS];
static int	nrelcache_callbacks = 0;

static void
relcache_dispatch(Datum arg, Oid relid)
{
	for (int i = 0; i < nrelcache_callbacks; i++)
		relcache_callbacks[i] ((Datum) 0, relid);
}

void
wi_on_relcache(RelcacheCallbackFunction func)
{
	if (nrelcache_callbacks == 0)
		CacheRegisterRelcacheCallback(relcache_dispatch, (Datum) 0);
	if (nrelcache_callbacks >= WI_MAX_RELCACHE_CALLBACKS)
		elog(FATAL, "workitem: out of relcache callback slots");
	relcache_callbacks[nrelcache_callbacks++] = func;
}
