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
 * The clock statements, one set for an item's clocks and an attached row's
 * (attached_sla.c keeps only a row's rules). Each is a constant text per
 * owner, planned once (plans.c), with the same first parameters:
 *   $1 the owner: the item's id, or the row's table (regclass)
 *   $2 the row's key (NULL for an item)
 *   $3 now
 *   $4 the clocks' tenant (an item's own; NULL before 1.2.0)
 * and the statement's own from $5. Nothing is pasted into the text, so no
 * call parses or plans.
 */
/* Whose clocks: a the alias with its dot, or "" */
#define I_WHOSE(a) " " a "item_id OPERATOR(pg_catalog.=) $1{{ AND " a "tenant OPERATOR(pg_catalog.=) $4}}"
#define R_WHOSE(a) " " a "source OPERATOR(pg_catalog.=) $1 AND " a "row_key OPERATOR(pg_catalog.=) $2"
#define I_COLS "item_id"
#define R_COLS "source, row_key"
#define I_VALS "$1"
#define R_VALS "$1, $2"
#define I_CONFLICT "(item_id, target, cycle[[, tenant]])"
#define R_CONFLICT "(source, row_key, target, cycle, tenant)"
#define I_LOGGED "item_id"
#define R_LOGGED "item_id, source, row_key"

/* Citus: a shard has no identity default; the id from this node's range */
#define NEXT_ID(table) "pg_catalog.nextval('workitem." table "_id_seq'::pg_catalog.regclass)"

/*
 * Log the clocks an UPDATE or INSERT ... RETURNING * (u) just changed, at
 * the time the clocks took ($3: on a Citus worker the coordinator's now()).
 */
#define LOG_CLOCKS(O, event, reason) \
	" INSERT INTO workitem.sla_clock_event ({{id, }}clock_id, " O##_LOGGED ", target, cycle, event, used, due_at, reason, at[[, tenant]])" \
	" SELECT {{" NEXT_ID("sla_clock_event") ", }}id, " O##_LOGGED ", target, cycle, " event ", used, due_at, " reason ", $3[[, tenant]] FROM u"

/*
 * The target as working time. A business-days target is turned into the
 * working time from the clock start to the end of the Nth working day.
 */
#define TARGET_TIME \
	"CASE WHEN t.working_time IS NOT NULL THEN t.working_time ELSE " \
	" workitem.business_time(p.calendar, $3, workitem.end_of_working_day(p.calendar, $3, t.business_days)) END"

/* Running from now unless the target starts at assignment and there is none ($6). */
#define STARTS "(t.clock_start OPERATOR(pg_catalog.=) 'submission' OR $6)"

/* The cycle after the owner's last of the target (a key back after a DELETE, a reopen under new_cycle) */
#define NEXT_CYCLE(O) \
	"COALESCE((SELECT pg_catalog.max(c.cycle) FROM workitem.sla_clock c WHERE" O##_WHOSE("c.") \
	" AND c.target OPERATOR(pg_catalog.=) t.target), 0) OPERATOR(pg_catalog.+) 1"

/*
 * Clocks of policy $5's targets (which: only target $7). Variants, not
 * "$7 IS NULL OR ...": a kept plan whose best form depends on a parameter
 * being NULL is planned anew at each call (custom plans).
 */
#define CREATE_CLOCKS(O, cycle, which) \
	"WITH u AS (INSERT INTO workitem.sla_clock" \
	" ({{id, }}" O##_COLS ", target, cycle, policy_id, calendar, target_time, state, started_at, since, due_at[[, tenant]])" \
	" SELECT {{" NEXT_ID("sla_clock") ", }}" O##_VALS ", t.target, " cycle ", p.id, p.calendar, " TARGET_TIME "," \
	"  CASE WHEN " STARTS " THEN 'running' ELSE 'pending' END," \
	"  CASE WHEN " STARTS " THEN $3 END, CASE WHEN " STARTS " THEN $3 END," \
	"  CASE WHEN " STARTS " THEN workitem.business_add(p.calendar, $3, " TARGET_TIME ") END[[, $4]]" \
	" FROM workitem.sla_policy p JOIN workitem.sla_target t ON t.policy_id OPERATOR(pg_catalog.=) p.id" \
	" WHERE p.id OPERATOR(pg_catalog.=) $5" which \
	" ON CONFLICT " O##_CONFLICT " DO NOTHING RETURNING *)" \
	LOG_CLOCKS(O, "CASE WHEN state OPERATOR(pg_catalog.=) 'running' THEN 'start' ELSE 'pending' END", "NULL")
#define ONLY_TARGET7 " AND t.target OPERATOR(pg_catalog.=) $7"

/* [owner][next cycle][only one target] */
static const char *const create_sql[2][2][2] = {
	{{CREATE_CLOCKS(I, "1", ""), CREATE_CLOCKS(I, "1", ONLY_TARGET7)},
	 {CREATE_CLOCKS(I, NEXT_CYCLE(I), ""), CREATE_CLOCKS(I, NEXT_CYCLE(I), ONLY_TARGET7)}},
	{{CREATE_CLOCKS(R, "1", ""), CREATE_CLOCKS(R, "1", ONLY_TARGET7)},
	 {CREATE_CLOCKS(R, NEXT_CYCLE(R), ""), CREATE_CLOCKS(R, NEXT_CYCLE(R), ONLY_TARGET7)}},
};

/* Pause the running clocks: their running period folds into used ($5 the reason). */
#define PAUSE_CLOCKS(O) \
	"WITH u AS (UPDATE workitem.sla_clock SET state = 'paused', paused_at = $3, due_at = NULL," \
	" used = used OPERATOR(pg_catalog.+) workitem.business_time(calendar, since, $3), since = NULL" \
	" WHERE" O##_WHOSE("") " AND state OPERATOR(pg_catalog.=) 'running' RETURNING *)" \
	LOG_CLOCKS(O, "'pause'", "$5")
static const char *const pause_sql[2] = {PAUSE_CLOCKS(I), PAUSE_CLOCKS(R)};

/* The paused clocks run again: the due time moves by the stopped working time ($5 the reason). */
#define RESUME_CLOCKS(O) \
	"WITH u AS (UPDATE workitem.sla_clock SET state = 'running', paused_at = NULL, since = $3," \
	" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-) used)" \
	" WHERE" O##_WHOSE("") " AND state OPERATOR(pg_catalog.=) 'paused' RETURNING *)" \
	LOG_CLOCKS(O, "'resume'", "$5")
static const char *const resume_sql[2] = {RESUME_CLOCKS(I), RESUME_CLOCKS(R)};

/*
 * A reopen under continue, or reset ($5: used from zero, in the same
 * logged UPDATE), resumes the current cycle of the resolution clock.
 */
#define REOPEN_CLOCKS(O) \
	"WITH u AS (UPDATE workitem.sla_clock SET state = 'running', paused_at = NULL, since = $3," \
	" stopped_at = NULL," \
	" used = CASE WHEN $5 THEN '0'::pg_catalog.interval ELSE used END," \
	" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-)" \
	"   CASE WHEN $5 THEN '0'::pg_catalog.interval ELSE used END)" \
	" WHERE" O##_WHOSE("") " AND target OPERATOR(pg_catalog.=) 'resolution'" \
	" AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{paused,met,missed}')" \
	" AND cycle OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(c.cycle) FROM workitem.sla_clock c" \
	"  WHERE" O##_WHOSE("c.") " AND c.target OPERATOR(pg_catalog.=) 'resolution') RETURNING *)" \
	LOG_CLOCKS(O, "'resume'", "'reopened'")
static const char *const reopen_sql[2] = {REOPEN_CLOCKS(I), REOPEN_CLOCKS(R)};

/* Stop for good (which: only target $6): met if within the target, else missed ($5 the reason). */
#define STOP_CLOCKS(O, which) \
	"WITH u AS (UPDATE workitem.sla_clock SET" \
	" used = used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $3), '0')," \
	" state = CASE WHEN used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $3), '0')" \
	"   OPERATOR(pg_catalog.<=) target_time THEN 'met' ELSE 'missed' END," \
	" since = NULL, due_at = NULL, paused_at = NULL, stopped_at = $3" \
	" WHERE" O##_WHOSE("") " AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{running,paused,pending}')" which \
	" RETURNING *)" LOG_CLOCKS(O, "state", "$5")
#define ONLY_TARGET6 " AND target OPERATOR(pg_catalog.=) $6"
static const char *const stop_sql[2][2] = {
	{STOP_CLOCKS(I, ""), STOP_CLOCKS(I, ONLY_TARGET6)},
	{STOP_CLOCKS(R, ""), STOP_CLOCKS(R, ONLY_TARGET6)},
};

/* Clocks that waited for the first assignment start now. */
#define START_PENDING(O) \
	"WITH u AS (UPDATE workitem.sla_clock SET state = 'running', started_at = $3, since = $3," \
	" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-) used)" \
	" WHERE" O##_WHOSE("") " AND state OPERATOR(pg_catalog.=) 'pending' RETURNING *)" \
	LOG_CLOCKS(O, "'start'", "'first assignment'")
static const char *const start_pending_sql[2] = {START_PENDING(I), START_PENDING(R)};

/*
 * Run one clock statement for c's clocks with nextra parameters after the
 * four of the owner. On Citus, an item's against this node's shards of its
 * tenant (src/citus.c): Citus refuses what these statements do on its
 * distributed tables (an UPDATE calling business_time() on columns, such
 * calls in CASE and COALESCE, an INSERT from a modifying CTE).
 */
static void
clock_run(const WiClocks *c, const char *sql, int nextra, const Oid *xtypes, const Datum *xvalues,
		  const char *xnulls)
{
	Oid			types[8] = {c->row ? REGCLASSOID : INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
	Datum		values[8];
	char		nulls[9];
	int			ret;

	Assert(nextra <= 4);
	memcpy(values, c->owner, sizeof(c->owner));
	memcpy(nulls, c->nulls, 4);
	for (int i = 0; i < nextra; i++)
	{
		types[4 + i] = xtypes[i];
		values[4 + i] = xvalues[i];
		nulls[4 + i] = xnulls ? xnulls[i] : ' ';
	}
	nulls[4 + nextra] = '\0';
	if (c->local)
		sql = wi_local_sql(sql, c->tenant);
	ret = wi_execute(sql, 4 + nextra, types, values, nulls, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "workitem: SLA clock statement failed (%s): %s", SPI_result_code_string(ret), sql);
}

void
wi_clocks_of_item(WiClocks *c, int64 item_id, const char *tenant, TimestampTz now)
{
	c->row = false;
	c->tenant = tenant;
	c->local = tenant != NULL && wi_citus();
	c->owner[0] = Int64GetDatum(item_id);
	c->owner[1] = (Datum) 0;
	c->owner[2] = TimestampTzGetDatum(now);
	c->owner[3] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	memcpy(c->nulls, tenant ? " n  " : " n n", 4);
}

/*
 * tenant: on Citus the row's (its table's distribution column, or the
 * attaching session's for a reference table); NULL: the session's.
 */
void
wi_clocks_of_row(WiClocks *c, Oid source, const char *row_key, TimestampTz now, const char *tenant)
{
	if (tenant == NULL)
		tenant = wi_current_tenant();

	c->row = true;
	c->tenant = tenant;
	c->local = tenant != NULL && wi_citus();
	c->owner[0] = ObjectIdGetDatum(source);
	c->owner[1] = CStringGetTextDatum(row_key);
	c->owner[2] = TimestampTzGetDatum(now);
	c->owner[3] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
	memcpy(c->nulls, tenant ? "    " : "   n", 4);
}

/*
 * Clocks of the policy's targets (only_target: that one), running or
 * pending (a target that starts at assignment, none yet); in cycle 1, or
 * next_cycle: the one after the owner's last of each target.
 */
void
wi_clocks_create(const WiClocks *c, int64 policy, bool assigned, const char *only_target, bool next_cycle)
{
	Oid			types[3] = {INT8OID, BOOLOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(policy), BoolGetDatum(assigned),
		only_target ? CStringGetTextDatum(only_target) : (Datum) 0};

	clock_run(c, create_sql[c->row][next_cycle][only_target != NULL], only_target ? 3 : 2,
			  types, values, NULL);
}

void
wi_clocks_pause(const WiClocks *c, const char *reason)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(reason)};

	clock_run(c, pause_sql[c->row], 1, types, values, NULL);
}

void
wi_clocks_resume(const WiClocks *c, const char *reason)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(reason)};

	clock_run(c, resume_sql[c->row], 1, types, values, NULL);
}

void
wi_clocks_reopen(const WiClocks *c, bool reset)
{
	Oid			types[1] = {BOOLOID};
	Datum		values[1] = {BoolGetDatum(reset)};

	clock_run(c, reopen_sql[c->row], 1, types, values, NULL);
}

void
wi_clocks_stop(const WiClocks *c, const char *only_target, const char *reason)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(reason),
		only_target ? CStringGetTextDatum(only_target) : (Datum) 0};

	clock_run(c, stop_sql[c->row][only_target != NULL], only_target ? 2 : 1, types, values, NULL);
}

void
wi_clocks_start_pending(const WiClocks *c)
{
	clock_run(c, start_pending_sql[c->row], 0, NULL, NULL, NULL);
}

/* The most specific enabled policy for the item as it will be; 0 when none (src/config.c). */
static int64
match_policy(const WiSlaChange *ch)
{
	return wi_config_match_policy(ch->kind, ch->category, ch->priority);
}

/*
 * A new policy or target for clocks that have not stopped: keep the used
 * working time (and so the pauses already taken), take the new target,
 * recompute the due time.
 */
static void
retarget_clocks(const WiClocks *c, int64 policy_id)
{
	Oid			types[1] = {INT8OID};
	Datum		values[1] = {Int64GetDatum(policy_id)};

	clock_run(c, "WITH n AS (SELECT c.id, p.id AS policy_id, p.calendar,"
			  "  CASE WHEN t.working_time IS NOT NULL THEN t.working_time ELSE"
			  "   workitem.business_time(p.calendar, c.started_at,"
			  "    workitem.end_of_working_day(p.calendar, c.started_at, t.business_days)) END AS target_time,"
			  "  c.used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(c.calendar, c.since, $3), '0') AS used"
			  " FROM workitem.sla_clock c, workitem.sla_policy p JOIN workitem.sla_target t"
			  "  ON t.policy_id OPERATOR(pg_catalog.=) p.id"
			  " WHERE p.id OPERATOR(pg_catalog.=) $5 AND t.target OPERATOR(pg_catalog.=) c.target AND"
			  I_WHOSE("c.")
			  " AND c.state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{running,paused,pending}')),"
			  " u AS (UPDATE workitem.sla_clock c SET policy_id = n.policy_id, calendar = n.calendar,"
			  "  target_time = n.target_time, used = n.used,"
			  "  since = CASE WHEN c.state OPERATOR(pg_catalog.=) 'running' THEN $3 END,"
			  "  due_at = CASE WHEN c.state OPERATOR(pg_catalog.=) 'running' THEN"
			  "   workitem.business_add(n.calendar, $3, n.target_time OPERATOR(pg_catalog.-) n.used) END"
			  " FROM n WHERE c.id OPERATOR(pg_catalog.=) n.id{{ AND c.tenant OPERATOR(pg_catalog.=) $4}} RETURNING c.*)"
			  LOG_CLOCKS(I, "'recompute'", "'policy or priority changed'"),
			  1, types, values, NULL);
}

static bool
stops_clock(int64 policy_id, int wait_type)
{
	return wi_config_stops_clock(policy_id, wait_type);
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
	WiClocks	c;
	int64		policy = ch->policy_id;
	bool		was_done = ch->from == WI_RESOLVED || ch->from == WI_CLOSED;
	bool		is_done = ch->to == WI_RESOLVED || ch->to == WI_CLOSED;

	wi_clocks_of_item(&c, ch->id, ch->tenant, ch->now);
	if (ch->submitted)
	{
		policy = match_policy(ch);
		if (policy != 0)
			wi_clocks_create(&c, policy, ch->assigned, NULL, false);
	}
	else if (ch->reclassified && ch->to != WI_DRAFT && ch->to != WI_CLOSED)
	{
		int64		p = match_policy(ch);

		if (p != 0 && p != policy)
		{
			retarget_clocks(&c, p);
			/* Targets the new policy has and the item lacks start now. */
			wi_clocks_create(&c, p, ch->assigned, NULL, false);
		}
		policy = p != 0 ? p : policy;
	}
	if (policy == 0)
		return 0;

	if (ch->assigned && !ch->was_assigned)
		wi_clocks_start_pending(&c);

	if (is_done && !was_done)
		wi_clocks_stop(&c, NULL, "resolved");
	else if (was_done && !is_done)
	{
		const char *rp = reopen_policy(policy);

		if (strcmp(rp, "new_cycle") == 0)
			wi_clocks_create(&c, policy, ch->assigned, "resolution", true);
		else
			wi_clocks_reopen(&c, strcmp(rp, "reset") == 0);
	}
	else if (!is_done)
	{
		bool		stopped_before = ch->from == WI_WAITING && stops_clock(policy, ch->old_wait);
		bool		stopped_now = ch->to == WI_WAITING && stops_clock(policy, ch->new_wait);

		if (!stopped_before && stopped_now)
			wi_clocks_pause(&c, wi_enum_label(WI_ENUM_WAIT_TYPE, ch->new_wait));
		else if (stopped_before && !stopped_now)
			wi_clocks_resume(&c, "wait ended");
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
	WiClocks	c;
	WiSavedUser user;

	wi_clocks_of_item(&c, item_id, tenant, wi_now());
	SPI_connect();
	wi_become_owner(&user);
	wi_clocks_stop(&c, "first_response", "first outbound message");
	wi_restore_user(&user);
	SPI_finish();
}
