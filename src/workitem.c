/*
 * workitem.c: module entry point, settings and the acting resource.
 */
#include "postgres.h"

#include <limits.h>

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "catalog/pg_namespace.h"
#include "utils/guc.h"
#include "utils/syscache.h"

#include "workitem.h"

PG_MODULE_MAGIC;

static char *actor_setting = NULL;

/* Who acts when the engine moves items by itself (timers); NULL otherwise. */
const char *wi_actor_override = NULL;

/* Timer settings (timers.c, worker.c). */
int			wi_timer_interval = 60000;	/* ms; 0 turns the worker off */
int			wi_timer_batch = 1000;
char	   *wi_timer_databases = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("workitem.actor",
							   "Who is acting: recorded in the activity log and used as the default resource.",
							   "Applications set it per transaction with SET LOCAL; "
							   "when empty, the session user is the actor.",
							   &actor_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
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

/*
 * SLA clocks, their log and the resolution-note mark are the engine's
 * bookkeeping, written by our triggers through SPI. Those statements run
 * as the owner of schema workitem, the way PostgreSQL's RI triggers run as
 * the table's owner: agents then need no write grant on them, and cannot
 * forge a clock by hand. They also run with search_path = pg_catalog,
 * pg_temp, set as SET LOCAL in a GUC nest level of their own (as a
 * function's SET clause does): the caller's path, which may put the
 * caller's schema first, never reaches code running as the owner, even
 * where a name is not qualified. An error restores the user and the path
 * with its (sub)transaction; the statements are also schema- and
 * operator-qualified.
 */
void
wi_become_owner(WiSavedUser *save)
{
	HeapTuple	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(wi_namespace()));
	Oid			owner;

	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for schema workitem");
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	/* not a restricted operation: the clocks' FK checks are deferred triggers */
	SetUserIdAndSecContext(owner, save->sec_context | SECURITY_LOCAL_USERID_CHANGE);
	save->guc_level = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
}

void
wi_restore_user(const WiSavedUser *save)
{
	AtEOXact_GUC(true, save->guc_level);
	SetUserIdAndSecContext(save->userid, save->sec_context);
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

PG_FUNCTION_INFO_V1(workitem_actor);
Datum
workitem_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(wi_actor()));
}
