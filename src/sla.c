/*
 * sla.c: SLA clocks, kept by the item trigger in the same transaction as
 * each move (spec section 3).
 *
 * A clock holds the working time used before its current running period
 * (used) and the start of that period (since); while paused or stopped,
 * since is NULL. So the used time at any moment is
 *     used + business_time(calendar, since, at)
 * and the due time is business_add(calendar, since, target - used). A
 * pause folds the running period into used; a resume starts a new one and
 * moves the due time forward by exactly the stopped working time; a new
 * target (priority or policy change) keeps used and only recomputes the
 * due time. Every change is a row in workitem.sla_clock_event.
 *
 * Reading a clock is sla_read.c; its alarms (warnings, breaches) sla_alarm.c.
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/timestamp.h"

#include "workitem.h"

/*
 * The row "values" the trigger sees are not in the table yet (BEFORE
 * trigger), so the item's attributes are passed in, not read back.
 */
typedef struct SlaItem
{
	int64		id;
	const char *tenant;
	TimestampTz now;
	bool		assigned;
	bool		local;			/* Citus: statements on this node's shards */
} SlaItem;

/*
 * The SlaItem's statement; on Citus against this node's shards of the
 * item's tenant (src/citus.c): Citus refuses what these statements do on
 * its distributed tables (an UPDATE calling business_time() on columns,
 * such calls in CASE and COALESCE, an INSERT from a modifying CTE).
 */
#define clock_exec(sql, ...) clock_exec_(it, sql, __VA_ARGS__)

static void
clock_exec_(const SlaItem *it, const char *sql, int nargs, Oid *types, Datum *values,
			const char *nulls, int expect)
{
	int			ret;

	if (it->local)
		sql = wi_local_sql(sql, it->tenant);
	ret = wi_execute(sql, nargs, types, values, nulls, false, 0);

	if (ret != expect)
		elog(ERROR, "workitem: SLA clock statement failed (%s): %s",
			 SPI_result_code_string(ret), sql);
}

/* Citus: a shard has no identity default; the id from this node's range */
#define NEXT_ID(table) "pg_catalog.nextval('workitem." table "_id_seq'::pg_catalog.regclass)"

/* Log the clocks an UPDATE ... RETURNING * just changed. */
#define LOG_CLOCKS(event, reason) \
	" INSERT INTO workitem.sla_clock_event ({{id, }}clock_id, item_id, target, cycle, event, used, due_at, reason[[, tenant]])" \
	" SELECT {{" NEXT_ID("sla_clock_event") ", }}id, item_id, target, cycle, " event ", used, due_at, " reason "[[, tenant]] FROM u"

/* Citus: a clock statement is routed by its item's tenant (see plans.c). */
#define BY_TENANT(param) "{{ AND tenant OPERATOR(pg_catalog.=) " param "}}"
#define TENANT_DATUM(it) ((it)->tenant ? CStringGetTextDatum((it)->tenant) : (Datum) 0)

/* The most specific enabled policy for the item as it will be; 0 when none (src/config.c). */
static int64
match_policy(const WiSlaChange *ch)
{
	return wi_config_match_policy(ch->kind, ch->category, ch->priority);
}

/*
 * The target as working time. A business-days target is turned into the
 * working time from the clock start to the end of the Nth working day.
 */
#define TARGET_TIME \
	"CASE WHEN t.working_time IS NOT NULL THEN t.working_time ELSE " \
	" workitem.business_time(p.calendar, $2, workitem.end_of_working_day(p.calendar, $2, t.business_days)) END"


static void
create_clocks(SlaItem *it, int64 policy_id, const char *clock_start, int cycle)
{
	Oid			types[5] = {INT8OID, TIMESTAMPTZOID, INT8OID, INT4OID, TEXTOID};
	Datum		values[5] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now),
	Int64GetDatum(policy_id), Int32GetDatum(cycle),
	it->tenant ? CStringGetTextDatum(it->tenant) : (Datum) 0};	/* unused before 1.2.0 */

	/* Running clocks start now; clocks that start at assignment wait. */
	clock_exec(psprintf("WITH u AS (INSERT INTO workitem.sla_clock"
				  " ({{id, }}item_id, target, cycle, policy_id, calendar, target_time, state, started_at, since, due_at[[, tenant]])"
				  " SELECT {{" NEXT_ID("sla_clock") ", }}$1, t.target, $4, p.id, p.calendar, " TARGET_TIME ","
				  "  CASE WHEN t.clock_start OPERATOR(pg_catalog.=) 'submission' OR %s THEN 'running' ELSE 'pending' END,"
				  "  CASE WHEN t.clock_start OPERATOR(pg_catalog.=) 'submission' OR %s THEN $2 END,"
				  "  CASE WHEN t.clock_start OPERATOR(pg_catalog.=) 'submission' OR %s THEN $2 END,"
				  "  CASE WHEN t.clock_start OPERATOR(pg_catalog.=) 'submission' OR %s THEN"
				  "   workitem.business_add(p.calendar, $2, " TARGET_TIME ") END[[, $5]]"
				  " FROM workitem.sla_policy p JOIN workitem.sla_target t ON t.policy_id OPERATOR(pg_catalog.=) p.id"
				  " WHERE p.id OPERATOR(pg_catalog.=) $3 %s"
				  " ON CONFLICT (item_id, target, cycle[[, tenant]]) DO NOTHING RETURNING *)"
				  LOG_CLOCKS("CASE WHEN state OPERATOR(pg_catalog.=) 'running' THEN 'start' ELSE 'pending' END", "NULL"),
				  it->assigned ? "true" : "false", it->assigned ? "true" : "false",
				  it->assigned ? "true" : "false", it->assigned ? "true" : "false",
				  clock_start ? psprintf("AND t.target OPERATOR(pg_catalog.=) '%s'", clock_start) : ""),
		 5, types, values, NULL, SPI_OK_INSERT);
}

/* Pause the running clocks (the item waits with a wait type that stops them). */
static void
pause_clocks(SlaItem *it, const char *reason)
{
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now), CStringGetTextDatum(reason),
	TENANT_DATUM(it)};

	clock_exec("WITH u AS (UPDATE workitem.sla_clock SET state = 'paused', paused_at = $2, due_at = NULL,"
		 " used = used OPERATOR(pg_catalog.+) workitem.business_time(calendar, since, $2), since = NULL"
		 " WHERE item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4") " AND state OPERATOR(pg_catalog.=) 'running' RETURNING *)"
		 LOG_CLOCKS("'pause'", "$3"), 4, types, values, NULL, SPI_OK_INSERT);
}

/* Resume paused clocks; only_target limits it (a reopen resumes resolution). */
static void
resume_clocks(SlaItem *it, const char *only_target, const char *reason)
{
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now), CStringGetTextDatum(reason),
	TENANT_DATUM(it)};

	clock_exec(psprintf("WITH u AS (UPDATE workitem.sla_clock SET state = 'running', paused_at = NULL, since = $2,"
				  " stopped_at = NULL,"
				  " due_at = workitem.business_add(calendar, $2, target_time OPERATOR(pg_catalog.-) used)"
				  " WHERE item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4") " AND %s RETURNING *)"
				  LOG_CLOCKS("'resume'", "$3"),
				  only_target
				  ? psprintf("target OPERATOR(pg_catalog.=) '%s' AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{paused,met,missed}')"
							 " AND cycle OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(cycle) FROM workitem.sla_clock c2"
							 "  WHERE c2.item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4")
							 " AND c2.target OPERATOR(pg_catalog.=) '%s')",
							 only_target, only_target)
				  : "state OPERATOR(pg_catalog.=) 'paused'"),
		 4, types, values, NULL, SPI_OK_INSERT);
}

/* Stop clocks for good: met if within the target, else missed. */
static void
stop_clocks(SlaItem *it, const char *only_target, const char *reason)
{
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, TEXTOID, TEXTOID};
	Datum		values[4] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now), CStringGetTextDatum(reason),
	TENANT_DATUM(it)};

	clock_exec(psprintf("WITH u AS (UPDATE workitem.sla_clock SET"
				  " used = used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $2), '0'),"
				  " state = CASE WHEN used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $2), '0')"
				  "   OPERATOR(pg_catalog.<=) target_time THEN 'met' ELSE 'missed' END,"
				  " since = NULL, due_at = NULL, paused_at = NULL, stopped_at = $2"
				  " WHERE item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4")
				  " AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{running,paused,pending}') %s RETURNING *)"
				  LOG_CLOCKS("state", "$3"),
				  only_target ? psprintf("AND target OPERATOR(pg_catalog.=) '%s'", only_target) : ""),
		 4, types, values, NULL, SPI_OK_INSERT);
}

/* Start clocks that wait for the first assignment. */
static void
start_pending(SlaItem *it)
{
	Oid			types[3] = {INT8OID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now), TENANT_DATUM(it)};

	clock_exec("WITH u AS (UPDATE workitem.sla_clock SET state = 'running', started_at = $2, since = $2,"
		 " due_at = workitem.business_add(calendar, $2, target_time OPERATOR(pg_catalog.-) used)"
		 " WHERE item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$3") " AND state OPERATOR(pg_catalog.=) 'pending' RETURNING *)"
		 LOG_CLOCKS("'start'", "'first assignment'"), 3, types, values, NULL, SPI_OK_INSERT);
}

/*
 * A new policy or target for clocks that have not stopped: keep the used
 * working time (and so the pauses already taken), take the new target,
 * recompute the due time.
 */
static void
retarget_clocks(SlaItem *it, int64 policy_id)
{
	Oid			types[4] = {INT8OID, TIMESTAMPTZOID, INT8OID, TEXTOID};
	Datum		values[4] = {Int64GetDatum(it->id), TimestampTzGetDatum(it->now), Int64GetDatum(policy_id),
	TENANT_DATUM(it)};

	clock_exec("WITH n AS (SELECT c.id, p.id AS policy_id, p.calendar,"
		 "  CASE WHEN t.working_time IS NOT NULL THEN t.working_time ELSE"
		 "   workitem.business_time(p.calendar, c.started_at,"
		 "    workitem.end_of_working_day(p.calendar, c.started_at, t.business_days)) END AS target_time,"
		 "  c.used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(c.calendar, c.since, $2), '0') AS used"
		 " FROM workitem.sla_clock c, workitem.sla_policy p JOIN workitem.sla_target t"
		 "  ON t.policy_id OPERATOR(pg_catalog.=) p.id"
		 " WHERE p.id OPERATOR(pg_catalog.=) $3 AND t.target OPERATOR(pg_catalog.=) c.target"
		 " AND c.item_id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4")
		 " AND c.state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{running,paused,pending}')),"
		 " u AS (UPDATE workitem.sla_clock c SET policy_id = n.policy_id, calendar = n.calendar,"
		 "  target_time = n.target_time, used = n.used,"
		 "  since = CASE WHEN c.state OPERATOR(pg_catalog.=) 'running' THEN $2 END,"
		 "  due_at = CASE WHEN c.state OPERATOR(pg_catalog.=) 'running' THEN"
		 "   workitem.business_add(n.calendar, $2, n.target_time OPERATOR(pg_catalog.-) n.used) END"
		 " FROM n WHERE c.id OPERATOR(pg_catalog.=) n.id" BY_TENANT("$4") " RETURNING c.*)"
		 LOG_CLOCKS("'recompute'", "'policy or priority changed'"),
		 4, types, values, NULL, SPI_OK_INSERT);
	/* Targets the new policy has and the item lacks start now. */
	create_clocks(it, policy_id, NULL, 1);
}

static bool
stops_clock(int64 policy_id, int wait_type)
{
	return wi_config_stops_clock(policy_id, wait_type);
}

/* Highest cycle of the item's resolution clock (for new_cycle). */
static int
max_cycle(SlaItem *it)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(it->id), TENANT_DATUM(it)};
	bool		isnull;
	Datum		d;

	clock_exec("SELECT pg_catalog.max(cycle) FROM workitem.sla_clock WHERE item_id OPERATOR(pg_catalog.=) $1"
		 BY_TENANT("$2") " AND target OPERATOR(pg_catalog.=) 'resolution'", 2, types, values, NULL, SPI_OK_SELECT);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return isnull ? 0 : DatumGetInt32(d);
}

static const char *
reopen_policy(int64 policy_id)
{
	return wi_config_reopen_policy(policy_id);
}

/*
 * Bring the item's clocks up to date with the move the trigger is
 * allowing. Returns the item's policy (0: none), for sla_policy_id.
 */
static int64
on_change(const WiSlaChange *ch)
{
	SlaItem		it = {ch->id, ch->tenant, ch->now, ch->assigned, ch->tenant != NULL && wi_citus()};
	int64		policy = ch->policy_id;
	bool		was_done = ch->from == WI_RESOLVED || ch->from == WI_CLOSED;
	bool		is_done = ch->to == WI_RESOLVED || ch->to == WI_CLOSED;

	if (ch->submitted)
	{
		policy = match_policy(ch);
		if (policy != 0)
			create_clocks(&it, policy, NULL, 1);
	}
	else if (ch->reclassified && ch->to != WI_DRAFT && ch->to != WI_CLOSED)
	{
		int64		p = match_policy(ch);

		if (p != 0 && p != policy)
			retarget_clocks(&it, p);
		policy = p != 0 ? p : policy;
	}
	if (policy == 0)
		return 0;

	if (ch->assigned && !ch->was_assigned)
		start_pending(&it);

	if (is_done && !was_done)
		stop_clocks(&it, NULL, "resolved");
	else if (was_done && !is_done)
	{
		const char *rp = reopen_policy(policy);

		if (strcmp(rp, "new_cycle") == 0)
			create_clocks(&it, policy, "resolution", max_cycle(&it) + 1);
		else
		{
			if (strcmp(rp, "reset") == 0)
			{
				Oid			types[2] = {INT8OID, TEXTOID};
				Datum		values[2] = {Int64GetDatum(ch->id), TENANT_DATUM(&it)};

				clock_exec_(&it, "UPDATE workitem.sla_clock SET used = '0' WHERE item_id OPERATOR(pg_catalog.=) $1"
					 BY_TENANT("$2") " AND target OPERATOR(pg_catalog.=) 'resolution'",
					 2, types, values, NULL, SPI_OK_UPDATE);
			}
			resume_clocks(&it, "resolution", "reopened");
		}
	}
	else if (!is_done)
	{
		bool		stopped_before = ch->from == WI_WAITING && stops_clock(policy, ch->old_wait);
		bool		stopped_now = ch->to == WI_WAITING && stops_clock(policy, ch->new_wait);

		if (!stopped_before && stopped_now)
			pause_clocks(&it, wi_enum_label(WI_ENUM_WAIT_TYPE, ch->new_wait));
		else if (stopped_before && !stopped_now)
			resume_clocks(&it, NULL, "wait ended");
	}
	return policy;
}

int64
wi_sla_on_change(const WiSlaChange *ch)
{
	WiSavedUser user;
	int64		policy;

	SPI_connect();
	wi_become_owner(&user);
	policy = on_change(ch);
	wi_restore_user(&user);
	SPI_finish();
	return policy;
}

/* The first outbound message meets the first_response target. */
void
wi_sla_first_response(int64 item_id, const char *tenant)
{
	SlaItem		it = {item_id, tenant, GetCurrentTransactionStartTimestamp(), false,
					   tenant != NULL && wi_citus()};
	WiSavedUser user;

	SPI_connect();
	wi_become_owner(&user);
	stop_clocks(&it, "first_response", "first outbound message");
	wi_restore_user(&user);
	SPI_finish();
}
