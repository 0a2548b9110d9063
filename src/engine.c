/*
 * engine.c: the engine acting as itself, not as the user who caused it.
 *
 * - Its own moves (a case flagged by its action, a split done, a wait
 *   over): run with wi_engine_depth raised, so that the trigger lets them
 *   make the moves and set the flags reserved to the engine.
 * - Its bookkeeping (SLA clocks, their log, the resolution-note mark):
 *   written as the schema's owner with a safe search_path.
 * - A restore: rows pg_restore loads are history, not moves.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_namespace.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "tcop/pquery.h"
#include "utils/acl.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "workitem.h"

/* Above zero while the engine makes a move of its own. */
int			wi_engine_depth = 0;

/* Run one statement as an engine move; the caller is connected to SPI. */
uint64
wi_engine_exec(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls)
{
	int			ret = 0;

	wi_engine_depth++;
	PG_TRY();
	{
		ret = wi_execute(sql, nargs, types, values, nulls, false, 0);
	}
	PG_FINALLY();
	{
		wi_engine_depth--;
	}
	PG_END_TRY();
	if (ret < 0)
		elog(ERROR, "workitem: internal statement failed: %s", SPI_result_code_string(ret));
	return SPI_processed;
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

/*
 * True when the row being inserted comes straight from a COPY into the
 * trigger's own table, run by the table's owner: that is how pg_restore
 * loads the extension's tables (their data is dumped through
 * pg_extension_config_dump, after CREATE EXTENSION has created the
 * triggers). Such rows are history, not moves: they are loaded as they
 * are, with no rule applied and nothing logged. The owner could disable
 * the triggers anyway; anybody else's COPY goes through every rule.
 * Trigger depth 1 keeps rows written by other triggers under the rules.
 * Used by the triggers on workitem.item, message and time_entry.
 */
/* Citus's connections between nodes (connection_management.h) */
#define CITUS_INTERNAL_PREFIX "citus_internal gpid="

/* This session is one of Citus's connections from another node. */
bool
wi_citus_internal(void)
{
	return application_name != NULL &&
		strncmp(application_name, CITUS_INTERNAL_PREFIX, strlen(CITUS_INTERNAL_PREFIX)) == 0;
}

/*
 * On one of Citus's connections, the id in Citus's metadata (pg_dist_node)
 * of the node whose session started the distributed transaction: its
 * global pid, "<node id> * 10^10 + <pid>" (Citus's backend_data.c), is
 * in application_name, and connections opened from there on carry it on.
 * -1 on any other session.
 */
int
wi_citus_sender_node(void)
{
	uint64		gpid;

	if (!wi_citus_internal())
		return -1;
	gpid = strtou64(application_name + strlen(CITUS_INTERNAL_PREFIX), NULL, 10);
	return gpid == 0 ? -1 : (int) (gpid / UINT64CONST(10000000000));
}

/*
 * The time the engine records for this transaction: its now(), or on a
 * Citus worker the coordinator's now(), which the rows sent through the
 * coordinator carry (item.change_at, a message's at): on one node every
 * time of a transaction is its now(), and so it is for a transaction made
 * through the coordinator. Kept for the worker's transaction once a row
 * brought it (the local transaction id says whether it is still this one).
 */
static TimestampTz carried_now;
static LocalTransactionId carried_lxid = InvalidLocalTransactionId;

#if PG_VERSION_NUM >= 170000
#define MY_LXID (MyProc->vxid.lxid)
#else
#define MY_LXID (MyProc->lxid)
#endif

TimestampTz
wi_now(void)
{
	if (carried_lxid != InvalidLocalTransactionId && carried_lxid == MY_LXID)
		return carried_now;
	return GetCurrentTransactionStartTimestamp();
}

/*
 * A time a row carries: the transaction's time when it comes on Citus's
 * connection from the coordinator (the first one this transaction got;
 * the coordinator's now() is one per transaction), else this node's. Not
 * later than this node's now(): the coordinator's transaction began before
 * it reached this node, so a later time is a clock's skew or a forgery.
 */
TimestampTz
wi_carried_now(TimestampTz t)
{
	TimestampTz mine = GetCurrentTransactionStartTimestamp();

	if (!wi_citus_internal() || !wi_citus())
		return wi_now();
	if (carried_lxid != InvalidLocalTransactionId && carried_lxid == MY_LXID)
		return carried_now;
	carried_now = TIMESTAMP_NOT_FINITE(t) || t > mine ? mine : t;
	carried_lxid = MY_LXID;
	return carried_now;
}

bool
wi_restoring_dump(struct TriggerData *td)
{
	Oid			relid = RelationGetRelid(td->tg_relation);

	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event))
		return false;
	if (ActivePortal == NULL || ActivePortal->commandTag != CMDTAG_COPY)
		return false;
	if (DatumGetInt32(OidFunctionCall0Coll(F_PG_TRIGGER_DEPTH, InvalidOid)) != 1)
		return false;
#if PG_VERSION_NUM >= 160000
	if (!object_ownercheck(RelationRelationId, relid, GetUserId()))
		return false;
#else
	if (!pg_class_ownercheck(relid, GetUserId()))
		return false;
#endif

	/*
	 * Citus sends the rows of an INSERT ... SELECT through the coordinator
	 * (and of a COPY into a distributed table) to the shards as COPY, on
	 * its own connections, named "citus_internal gpid=...": writes like any
	 * other, unless workitem.distribute() marked its copy of the local rows
	 * (SET LOCAL workitem.restoring, propagated to those connections).
	 */
	if (wi_citus_internal())
		return wi_restoring;
	return true;
}

