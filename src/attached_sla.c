/*
 * attached_sla.c: SLA clocks of rows of attached tables (issue 15), kept
 * by the table's trigger (attach.c) in the same transaction as each move,
 * as sla.c keeps an item's. A row's clocks are rows of workitem.sla_clock
 * with item_id NULL and (source, row_key): the table and the row's primary
 * key as text, as the log names the row. So clock_alarm, run_timers (its
 * warnings and breaches, sla_alarm.c), the clock readers and the views
 * read them as they read items' clocks.
 *
 * What differs from items, because a host row has less to say:
 * - the policy is matched by the table's kind alone (an attached row has
 *   no category and no priority), when the clock starts;
 * - the first response is the first move out of to_do (to in_progress or
 *   waiting): an attached table records no messages;
 * - "assigned" is the assignee column not nobody, or without one the
 *   status in_progress (clocks that start at assignment);
 * - a waiting label without a wait type counts as more_info;
 * - a DELETE, and an UPDATE that takes the row out of the filter, stop its
 *   clocks (met or missed as a resolve would); a key used again, or a row
 *   back in the filter, starts clocks in a new cycle;
 * - the feedback window (attach()'s feedback_window) is checked by the
 *   trigger on a reopen, from when the log says the row was resolved
 *   (wi_attached_resolved_at); the engine never closes a host row from a
 *   timer when it is over.
 *
 * Every statement is planned once per backend (plans.c). A table whose
 * kind no policy matches costs one lookup in the policy cache per row
 * (attach.c asks before calling here).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "utils/builtins.h"

#include "workitem.h"

/*
 * Citus: a shard has no identity default; the id is drawn from this node's
 * range. Marked by comments, which plain PostgreSQL's parser skips at no
 * cost (no {{ }} of plans.c, processed at each call), and filled in by
 * citus_ids() on Citus only.
 */
#define ID_COL "/*id*/"
#define NEXT_ID(table) "/*" table "*/"

/* Log the clocks an UPDATE or INSERT ... RETURNING * (u) just changed. */
#define LOG_CLOCKS(event, reason) \
	" INSERT INTO workitem.sla_clock_event (" ID_COL "clock_id, item_id, source, row_key, target, cycle, event," \
	" used, due_at, reason, tenant)" \
	" SELECT " NEXT_ID("sla_clock_event") "id, NULL, source, row_key, target, cycle, " event ", used, due_at, " reason ", tenant FROM u"

/* The row: $1 its table, $2 its key */
#define THE_ROW \
	" source OPERATOR(pg_catalog.=) $1 AND row_key OPERATOR(pg_catalog.=) $2"

/* The target as working time; a business-days target from the clock's start ($3). */
#define TARGET_TIME \
	"CASE WHEN t.working_time IS NOT NULL THEN t.working_time ELSE " \
	" workitem.business_time(p.calendar, $3, workitem.end_of_working_day(p.calendar, $3, t.business_days)) END"

/* Running from $3 unless the target starts at assignment and the row has none ($5). */
#define STARTS "(t.clock_start OPERATOR(pg_catalog.=) 'submission' OR $5)"

typedef struct Row
{
	Datum		args[3];		/* $1 source, $2 row_key, $3 now */
	const char *tenant;			/* Citus: statements on this node's shards of it */
} Row;

/* sql with every marker of a Citus id filled in (see ID_COL) */
static const char *
citus_ids(const char *sql)
{
	static const char *const from[3] = {ID_COL, NEXT_ID("sla_clock_event"), NEXT_ID("sla_clock")};
	static const char *const to[3] = {"id, ",
		"pg_catalog.nextval('workitem.sla_clock_event_id_seq'::pg_catalog.regclass), ",
	"pg_catalog.nextval('workitem.sla_clock_id_seq'::pg_catalog.regclass), "};

	for (int i = 0; i < 3; i++)
	{
		const char *hit;

		while ((hit = strstr(sql, from[i])) != NULL)
			sql = psprintf("%.*s%s%s", (int) (hit - sql), sql, to[i], hit + strlen(from[i]));
	}
	return sql;
}

static void
run(const char *sql, Row *r, int nextra, Oid *extra_types, Datum *extra, const char *extra_nulls, int expect)
{
	Oid			types[8] = {REGCLASSOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[8];
	char		nulls[9] = "        ";
	int			ret;

	memcpy(values, r->args, sizeof(r->args));
	for (int i = 0; i < nextra; i++)
	{
		types[3 + i] = extra_types[i];
		values[3 + i] = extra[i];
		nulls[3 + i] = extra_nulls ? extra_nulls[i] : ' ';
	}
	if (r->tenant)
		sql = wi_local_sql(citus_ids(sql), r->tenant);
	ret = wi_execute(sql, 3 + nextra, types, values, nulls, false, 0);
	if (ret != expect)
		elog(ERROR, "workitem: SLA clock statement of an attached row failed (%s): %s",
			 SPI_result_code_string(ret), sql);
}

/*
 * Clocks of the policy's targets (only_target: that one) in a new cycle:
 * 1 for a new row, the next after a reopen under new_cycle, or when a key
 * comes back after a DELETE.
 */
#define CREATE_CLOCKS(which) \
	"WITH u AS (INSERT INTO workitem.sla_clock" \
	" (" ID_COL "source, row_key, target, cycle, policy_id, calendar, target_time, state, started_at, since, due_at, tenant)" \
	" SELECT " NEXT_ID("sla_clock") "$1, $2, t.target," \
	"  COALESCE((SELECT pg_catalog.max(c.cycle) FROM workitem.sla_clock c WHERE c.source OPERATOR(pg_catalog.=) $1" \
	"   AND c.row_key OPERATOR(pg_catalog.=) $2 AND c.target OPERATOR(pg_catalog.=) t.target), 0)" \
	"   OPERATOR(pg_catalog.+) 1," \
	"  p.id, p.calendar, " TARGET_TIME "," \
	"  CASE WHEN " STARTS " THEN 'running' ELSE 'pending' END," \
	"  CASE WHEN " STARTS " THEN $3 END, CASE WHEN " STARTS " THEN $3 END," \
	"  CASE WHEN " STARTS " THEN workitem.business_add(p.calendar, $3, " TARGET_TIME ") END, $6" \
	" FROM workitem.sla_policy p JOIN workitem.sla_target t ON t.policy_id OPERATOR(pg_catalog.=) p.id" \
	" WHERE p.id OPERATOR(pg_catalog.=) $4 " which \
	" ON CONFLICT (source, row_key, target, cycle, tenant) DO NOTHING RETURNING *)" \
	LOG_CLOCKS("CASE WHEN state OPERATOR(pg_catalog.=) 'running' THEN 'start' ELSE 'pending' END", "NULL")

static void
create_clocks(Row *r, int64 policy, bool assigned, const char *only_target)
{
	Oid			types[4] = {INT8OID, BOOLOID, TEXTOID, TEXTOID};
	Datum		values[4] = {Int64GetDatum(policy), BoolGetDatum(assigned),
		CStringGetTextDatum(r->tenant ? r->tenant : wi_current_tenant()),
	only_target ? CStringGetTextDatum(only_target) : (Datum) 0};

	/*
	 * Two statements, not "$7 IS NULL OR target = $7": a kept plan whose
	 * best form depends on a parameter being NULL is planned anew at each
	 * call (the plan cache keeps choosing custom plans).
	 */
	if (only_target)
		run(CREATE_CLOCKS("AND t.target OPERATOR(pg_catalog.=) $7"), r, 4, types, values, NULL, SPI_OK_INSERT);
	else
		run(CREATE_CLOCKS(""), r, 3, types, values, NULL, SPI_OK_INSERT);
}

static void
pause_clocks(Row *r, const char *reason)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(reason)};

	run("WITH u AS (UPDATE workitem.sla_clock SET state = 'paused', paused_at = $3, due_at = NULL,"
		" used = used OPERATOR(pg_catalog.+) workitem.business_time(calendar, since, $3), since = NULL"
		" WHERE" THE_ROW " AND state OPERATOR(pg_catalog.=) 'running' RETURNING *)"
		LOG_CLOCKS("'pause'", "$4"), r, 1, types, values, NULL, SPI_OK_INSERT);
}

/* The paused clocks run again: the due time moves by the stopped working time. */
static void
resume_paused(Row *r, const char *reason)
{
	Oid			types[1] = {TEXTOID};
	Datum		values[1] = {CStringGetTextDatum(reason)};

	run("WITH u AS (UPDATE workitem.sla_clock SET state = 'running', paused_at = NULL, since = $3,"
		" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-) used)"
		" WHERE" THE_ROW " AND state OPERATOR(pg_catalog.=) 'paused' RETURNING *)"
		LOG_CLOCKS("'resume'", "$4"), r, 1, types, values, NULL, SPI_OK_INSERT);
}

/* A reopen under continue (or reset: used from zero) resumes the current resolution clock. */
static void
resume_resolution(Row *r, bool reset)
{
	Oid			types[1] = {BOOLOID};
	Datum		values[1] = {BoolGetDatum(reset)};

	run("WITH u AS (UPDATE workitem.sla_clock SET state = 'running', paused_at = NULL, since = $3,"
		" stopped_at = NULL,"
		" used = CASE WHEN $4 THEN '0'::pg_catalog.interval ELSE used END,"
		" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-)"
		"   CASE WHEN $4 THEN '0'::pg_catalog.interval ELSE used END)"
		" WHERE" THE_ROW " AND target OPERATOR(pg_catalog.=) 'resolution'"
		" AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{paused,met,missed}')"
		" AND cycle OPERATOR(pg_catalog.=) (SELECT pg_catalog.max(c2.cycle) FROM workitem.sla_clock c2"
		"  WHERE c2.source OPERATOR(pg_catalog.=) $1 AND c2.row_key OPERATOR(pg_catalog.=) $2"
		"  AND c2.target OPERATOR(pg_catalog.=) 'resolution') RETURNING *)"
		LOG_CLOCKS("'resume'", "'reopened'"), r, 1, types, values, NULL, SPI_OK_INSERT);
}

/* Stop for good (only_target: that one): met if within the target, else missed. */
#define STOP_CLOCKS(which) \
	"WITH u AS (UPDATE workitem.sla_clock SET" \
	" used = used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $3), '0')," \
	" state = CASE WHEN used OPERATOR(pg_catalog.+) COALESCE(workitem.business_time(calendar, since, $3), '0')" \
	"   OPERATOR(pg_catalog.<=) target_time THEN 'met' ELSE 'missed' END," \
	" since = NULL, due_at = NULL, paused_at = NULL, stopped_at = $3" \
	" WHERE" THE_ROW " AND state::pg_catalog.text OPERATOR(pg_catalog.=) ANY ('{running,paused,pending}') " which \
	" RETURNING *)" LOG_CLOCKS("state", "$4")

static void
stop_clocks(Row *r, const char *only_target, const char *reason)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2] = {CStringGetTextDatum(reason),
	only_target ? CStringGetTextDatum(only_target) : (Datum) 0};

	if (only_target)
		run(STOP_CLOCKS("AND target OPERATOR(pg_catalog.=) $5"), r, 2, types, values, NULL, SPI_OK_INSERT);
	else
		run(STOP_CLOCKS(""), r, 1, types, values, NULL, SPI_OK_INSERT);
}

/* Clocks that waited for the first assignment start now. */
static void
start_pending(Row *r)
{
	run("WITH u AS (UPDATE workitem.sla_clock SET state = 'running', started_at = $3, since = $3,"
		" due_at = workitem.business_add(calendar, $3, target_time OPERATOR(pg_catalog.-) used)"
		" WHERE" THE_ROW " AND state OPERATOR(pg_catalog.=) 'pending' RETURNING *)"
		LOG_CLOCKS("'start'", "'first assignment'"), r, 0, NULL, NULL, NULL, SPI_OK_INSERT);
}

/* Does waiting with this wait type (-1: the label gives none, as more_info) stop the clocks? */
static bool
stops(int64 policy, WiStatus status, int wait)
{
	return status == WI_WAITING && wi_config_stops_clock(policy, wait < 0 ? WI_MORE_INFO : wait);
}

static bool
is_done(WiStatus s)
{
	return s == WI_RESOLVED || s == WI_CLOSED;
}

static bool
submitted(const WiAttachedMove *m)
{
	return (m->created || m->from == WI_DRAFT) && m->to != WI_DRAFT && m->to != WI_CLOSED;
}

/* The first response: the first move out of to_do, to work or a wait. */
static bool
first_response(const WiAttachedMove *m)
{
	return (m->to == WI_IN_PROGRESS || m->to == WI_WAITING) &&
		(m->created || m->from == WI_DRAFT || m->from == WI_TO_DO);
}

/* Does the move change anything of the row's clocks? (else no statement runs) */
static bool
touches_clocks(const WiAttachedMove *m)
{
	bool		was_done = (int) m->from >= 0 && is_done(m->from);
	bool		done = is_done(m->to);

	return m->gone != NULL || submitted(m) || (m->assigned && !m->was_assigned) ||
		first_response(m) || done != was_done ||
		(!done && stops(m->policy, m->from, m->old_wait) != stops(m->policy, m->to, m->new_wait));
}

static void
on_move(const WiAttachedMove *m, Row *r)
{
	bool		was_done = (int) m->from >= 0 && is_done(m->from);
	bool		done = is_done(m->to);
	bool		new_row = submitted(m);

	if (m->gone)
	{
		stop_clocks(r, NULL, m->gone);
		return;
	}
	if (new_row)
		create_clocks(r, m->policy, m->assigned, NULL);
	if (m->assigned && !m->was_assigned && !new_row)
		start_pending(r);
	if (first_response(m))
		stop_clocks(r, "first_response", psprintf("first move out of to_do (%s)",
												  wi_enum_label(WI_ENUM_STATUS, m->to)));
	if (done && !was_done)
		stop_clocks(r, NULL, wi_enum_label(WI_ENUM_STATUS, m->to));
	else if (was_done && !done && m->to != WI_DRAFT)
	{
		const char *rp = wi_config_reopen_policy(m->policy);

		if (strcmp(rp, "new_cycle") == 0)
			create_clocks(r, m->policy, true, "resolution");
		else
			resume_resolution(r, strcmp(rp, "reset") == 0);
		/* observed, a row may go from resolved straight to a wait */
		if (stops(m->policy, m->to, m->new_wait))
			pause_clocks(r, m->new_wait >= 0 ? wi_enum_label(WI_ENUM_WAIT_TYPE, m->new_wait) : "waiting");
	}
	else if (!done)
	{
		bool		before = stops(m->policy, m->from, m->old_wait);
		bool		now = stops(m->policy, m->to, m->new_wait);

		if (!before && now)
			pause_clocks(r, m->new_wait >= 0 ? wi_enum_label(WI_ENUM_WAIT_TYPE, m->new_wait) : "waiting");
		else if (before && !now)
			resume_paused(r, "wait ended");
	}
}

/*
 * Bring the row's clocks up to date with the move its trigger allows (or
 * observes). The caller has matched m->policy (non-zero).
 */
void
wi_attached_sla_move(const WiAttachedMove *m)
{
	WiSavedUser user;
	Row			r;

	/* A move that changes nothing a clock depends on costs no statement. */
	if (!touches_clocks(m))
		return;
	/* A schema before 1.2.0 has no clocks of attached rows. */
	if (!wi_tenants())
		return;
	r.args[0] = ObjectIdGetDatum(m->source);
	r.args[1] = CStringGetTextDatum(m->row_key);
	r.args[2] = TimestampTzGetDatum(m->now);
	r.tenant = m->tenant;
	SPI_connect();
	wi_become_owner(&user);
	on_move(m, &r);
	wi_restore_user(&user);
	SPI_finish();
}

/*
 * When the row entered resolved, if its last status event says it is
 * resolved: the reopen check of the feedback window (attach.c), run only
 * on a reopen. Walks the row's log backwards through event_row_idx to its
 * last created or status event. False when the log does not say (no
 * events, or the last one is not a move to resolved).
 */
bool
wi_attached_resolved_at(Oid source, const char *row_key, const char *tenant, TimestampTz *at)
{
	Oid			types[2] = {REGCLASSOID, TEXTOID};
	Datum		values[2] = {ObjectIdGetDatum(source), CStringGetTextDatum(row_key)};
	WiSavedUser user;
	bool		found = false;
	bool		isnull;
	const char *sql = "SELECT l.at FROM (SELECT e.at, e.new_value FROM workitem.event e"
		" WHERE e.source OPERATOR(pg_catalog.=) $1 AND e.row_key OPERATOR(pg_catalog.=) $2"
		" AND e.what OPERATOR(pg_catalog.=) ANY ('{created,status}'::pg_catalog.text[])"
		" ORDER BY e.source DESC, e.row_key DESC, e.id DESC LIMIT 1) l"
		" WHERE l.new_value OPERATOR(pg_catalog.=) 'resolved'";

	SPI_connect();
	/* nobody but the owner reads the log table */
	wi_become_owner(&user);
	/* Citus (tenant given): this node's shard of the row's log */
	if (tenant)
		sql = wi_local_sql(sql, tenant);
	if (wi_execute(sql, 2, types, values, NULL, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem: reading the log of an attached row failed");
	if (SPI_processed == 1)
	{
		*at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
		found = !isnull;
	}
	wi_restore_user(&user);
	SPI_finish();
	return found;
}
