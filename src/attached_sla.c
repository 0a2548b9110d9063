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
on_move(const WiAttachedMove *m, const WiClocks *r)
{
	bool		was_done = (int) m->from >= 0 && is_done(m->from);
	bool		done = is_done(m->to);
	bool		new_row = submitted(m);

	if (m->gone)
	{
		wi_clocks_stop(r, NULL, m->gone);
		return;
	}
	if (new_row)
		wi_clocks_create(r, m->policy, m->assigned, NULL, true);
	if (m->assigned && !m->was_assigned && !new_row)
		wi_clocks_start_pending(r);
	if (first_response(m))
		wi_clocks_stop(r, "first_response", psprintf("first move out of to_do (%s)",
												  wi_enum_label(WI_ENUM_STATUS, m->to)));
	if (done && !was_done)
		wi_clocks_stop(r, NULL, wi_enum_label(WI_ENUM_STATUS, m->to));
	else if (was_done && !done && m->to != WI_DRAFT)
	{
		const char *rp = wi_config_reopen_policy(m->policy);

		if (strcmp(rp, "new_cycle") == 0)
			wi_clocks_create(r, m->policy, true, "resolution", true);
		else
			wi_clocks_reopen(r, strcmp(rp, "reset") == 0);
		/* observed, a row may go from resolved straight to a wait */
		if (stops(m->policy, m->to, m->new_wait))
			wi_clocks_pause(r, m->new_wait >= 0 ? wi_enum_label(WI_ENUM_WAIT_TYPE, m->new_wait) : "waiting");
	}
	else if (!done)
	{
		bool		before = stops(m->policy, m->from, m->old_wait);
		bool		now = stops(m->policy, m->to, m->new_wait);

		if (!before && now)
			wi_clocks_pause(r, m->new_wait >= 0 ? wi_enum_label(WI_ENUM_WAIT_TYPE, m->new_wait) : "waiting");
		else if (before && !now)
			wi_clocks_resume(r, "wait ended");
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
	WiClocks	r;

	/* A move that changes nothing a clock depends on costs no statement. */
	if (!touches_clocks(m))
		return;
	/* A schema before 1.2.0 has no clocks of attached rows. */
	if (!wi_tenants())
		return;
	wi_clocks_of_row(&r, m->source, m->row_key, m->now, m->tenant);
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
