/*
 * worktime.c: work time as a ticketing page keeps it (issue 16).
 *
 * - Timers: workitem.timer holds one row per item and resource while it
 *   runs (its primary key lets one run at a time). start_timer() and
 *   stop_timer() lock the item first, so two sessions starting the same
 *   timer queue on the item and the second gets the running one back. A
 *   stopped timer becomes a time entry marked tracked. A timer never
 *   counts more than workitem.timer_max_running: run_timers() stops one
 *   at its start plus the limit, and a later stop is capped the same way.
 * - The item trigger calls wi_worktime_on_move() when an item's status or
 *   assignee changes: timers stop when it is resolved, closed or merged,
 *   and those of anybody else when it is handed over; a category with
 *   auto_timer starts the assignee's timer on start and on assignment.
 *   With no running timer this is one index probe, without SQL.
 * - What time entries (timeentry.c) and expenses (expense.c) share: the
 *   item locked and open, the log line, the immutable columns.
 * Timer rows are the engine's bookkeeping, written as the schema's owner
 * (wi_become_owner): an agent cannot backdate a timer. Time entries and
 * expenses are written as the caller.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/skey.h"
#include "access/table.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "workitem.h"

/* True while a stopped timer inserts its entry: only then is tracked allowed. */
bool		wi_worktime_tracking = false;

/* workitem.timer_max_running, in seconds (workitem.c); 0: no limit */
int			wi_timer_max_running = 8 * 3600;

char *
wi_timestamptz_text(TimestampTz t)
{
	return DatumGetCString(DirectFunctionCall1(timestamptz_out, TimestampTzGetDatum(t)));
}

char *
wi_interval_text(Datum iv)
{
	return DatumGetCString(DirectFunctionCall1(interval_out, iv));
}

void
wi_worktime_log(int64 item_id, const char *tenant, const char *what, const char *oldv, const char *newv,
				const char *reason)
{
	wi_worktime_log_by(item_id, tenant, NULL, what, oldv, newv, reason);
}

/* The same, by actor (NULL: wi_actor()), e.g. one carried in the row's change_actor. */
void
wi_worktime_log_by(int64 item_id, const char *tenant, const char *actor, const char *what,
				   const char *oldv, const char *newv, const char *reason)
{
	WiEvent		ev = {0};

	ev.item_id = item_id;
	ev.tenant = tenant;
	ev.actor = actor ? actor : wi_actor();
	ev.what = what;
	ev.old_value = oldv;
	ev.new_value = newv;
	ev.reason = reason;
	wi_log_event(&ev);
}

/*
 * Citus: every statement on an item's rows is routed by its tenant (a
 * parameter; plain PostgreSQL drops the filter, see plans.c). The SQL
 * functions look it up first (wi_item_tenant), the triggers have it in
 * the row; NULL on plain PostgreSQL.
 */
#define BY_TENANT(param) "{{ AND tenant OPERATOR(pg_catalog.=) " param "}}"
#define TENANT_DATUM(t) ((t) ? CStringGetTextDatum(t) : (Datum) 0)

/*
 * The actor carried in a new row of a work-time table (its write-only
 * column change_actor, which the operations set on Citus, where the node's
 * trigger cannot see the session's workitem.actor), cleared in the row
 * (repl marks it for heap_modify_tuple); NULL when none.
 */
char *
wi_take_change_actor(TupleDesc d, Datum *v, bool *n, bool *repl)
{
	int			c = wi_attno_opt(d, "change_actor");
	char	   *actor;

	if (c < 0 || n[c])
		return NULL;
	actor = TextDatumGetCString(v[c]);
	v[c] = (Datum) 0;
	n[c] = true;
	repl[c] = true;
	return actor;
}

/* The tenant column of a row of an item's table (NULL: none, before 1.2.0). */
const char *
wi_row_tenant(Relation rel, HeapTuple t)
{
	TupleDesc	d = RelationGetDescr(rel);
	int			c = wi_attno_opt(d, "tenant");
	bool		isnull;
	Datum		v;

	if (c < 0)
		return NULL;
	v = heap_getattr(t, c + 1, d, &isnull);
	return isnull ? NULL : TextDatumGetCString(v);
}

/* The item's tenant on Citus (read unlocked, in the caller's memory); NULL elsewhere or unknown. */
const char *
wi_worktime_tenant(int64 item_id)
{
	Datum		d;
	char	   *t = NULL;

	if (!wi_citus())
		return NULL;
	SPI_connect();
	d = wi_item_tenant(item_id);
	if (d != (Datum) 0)
	{
		char	   *s = TextDatumGetCString(d);

		t = SPI_palloc(strlen(s) + 1);
		strcpy(t, s);
	}
	SPI_finish();
	return t;
}

/* ----------------------------------------------------------------------
 * The item: open for work time, locked against a concurrent close
 * ---------------------------------------------------------------------- */

/*
 * Locks the item (FOR NO KEY UPDATE, the lock a move takes, so a close and
 * a change of its work time queue instead of crossing) and returns its
 * status; -1 when there is no such item (the foreign key then says so).
 */
static int
lock_item(int64 item_id, const char *tenant)
{
	Oid			types[2] = {INT8OID, TEXTOID};
	Datum		values[2] = {Int64GetDatum(item_id), TENANT_DATUM(tenant)};
	char		nulls[2] = {' ', tenant ? ' ' : 'n'};
	bool		isnull;
	int			status = -1;

	SPI_connect();
	if (wi_execute("SELECT status FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1" BY_TENANT("$2")
				   " FOR NO KEY UPDATE", 2, types, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking item %lld failed", (long long) item_id);
	if (SPI_processed == 1)
		status = wi_enum_index(WI_ENUM_STATUS,
							   SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return status;
}

static void
refuse_closed(int64 item_id, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_ITEM_CLOSED),
			 errmsg("item %lld is closed: its %s never change", (long long) item_id, what),
			 errdetail("A closed item's work time, products and expenses are frozen for billing."),
			 errhint("Record further work on a follow-up item.")));
}

/* The time entries or expenses of item_id may change: it is not closed. */
void
wi_worktime_lock_open(int64 item_id, const char *tenant, const char *what)
{
	if (lock_item(item_id, tenant) == WI_CLOSED)
		refuse_closed(item_id, what);
}

/* ----------------------------------------------------------------------
 * Timers
 * ---------------------------------------------------------------------- */

/* What a timer counts between start and stop: whole seconds, never more than the limit. */
static int64
counted_usecs(TimestampTz started, TimestampTz stopped)
{
	int64		us = stopped - started;

	us -= us % USECS_PER_SEC;

	if (wi_timer_max_running > 0 && us > (int64) wi_timer_max_running * USECS_PER_SEC)
		us = (int64) wi_timer_max_running * USECS_PER_SEC;
	return us;
}

/*
 * A timer row just deleted becomes a tracked time entry (as the caller,
 * through the entry's trigger, which logs it) and a "timer" event. Returns
 * the entry (an SPI tuple, its descriptor in *desc), or NULL when it
 * counted no second (say, started and stopped in one transaction). SPI
 * is connected.
 */
static HeapTuple
finish_timer(int64 item_id, const char *tenant, const char *resource, TimestampTz started,
			 TimestampTz stopped, const char *why, TupleDesc *desc)
{
	int64		us = counted_usecs(started, stopped);
	HeapTuple	entry = NULL;
	char	   *counted;

	counted = wi_interval_text(PointerGetDatum(wi_usecs_interval(Max(us, 0))));
	if (us > 0)
	{
		Oid			types[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, INTERVALOID, TEXTOID, TEXTOID};
		Datum		values[6];
		char		nulls[6] = {' ', ' ', ' ', ' ', ' ', tenant ? ' ' : 'n'};
		int			ret = 0;

		values[0] = Int64GetDatum(item_id);
		values[1] = CStringGetTextDatum(resource);
		values[2] = TimestampTzGetDatum(started);
		values[3] = PointerGetDatum(wi_usecs_interval(us));
		values[4] = CStringGetTextDatum(psprintf("timer: %s", why));
		values[5] = TENANT_DATUM(tenant);
		wi_worktime_tracking = true;
		PG_TRY();
		{
			ret = wi_execute(tenant && wi_citus()
							 ? "INSERT INTO workitem.time_entry (item_id, resource, started_at, duration, note, tracked, tenant) "
							 "VALUES ($1, $2, $3, $4, $5, true, $6) RETURNING *"
							 : "INSERT INTO workitem.time_entry (item_id, resource, started_at, duration, note, tracked, tenant) "
							 "SELECT $1, $2, $3, $4, $5, true, i.tenant FROM workitem.item i "
							 "WHERE i.id OPERATOR(pg_catalog.=) $1 RETURNING *",
							 6, types, values, nulls, false, 1);
		}
		PG_FINALLY();
		{
			wi_worktime_tracking = false;
		}
		PG_END_TRY();
		if (ret != SPI_OK_INSERT_RETURNING || SPI_processed != 1)
			elog(ERROR, "workitem: recording the timer of item %lld failed", (long long) item_id);
		entry = SPI_tuptable->vals[0];
		*desc = SPI_tuptable->tupdesc;
	}
	wi_worktime_log(item_id, tenant, "timer",
			  psprintf("running for %s since %s", resource, wi_timestamptz_text(started)),
			  psprintf("stopped, %s tracked", counted), why);
	return entry;
}

/* Running timers deleted by one statement, copied out of SPI. */
typedef struct Stopped
{
	char	   *resource;
	TimestampTz started;
} Stopped;

/* Deletes the item's timers that sql selects (as the owner); returns how many. */
static int
delete_timers(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls, Stopped **out)
{
	WiSavedUser user;
	int			ret;
	int			n;

	wi_become_owner(&user);
	ret = wi_execute(sql, nargs, types, values, nulls, false, 0);
	wi_restore_user(&user);
	if (ret != SPI_OK_DELETE_RETURNING)
		elog(ERROR, "workitem: stopping timers failed: %s", SPI_result_code_string(ret));
	n = (int) SPI_processed;
	*out = palloc(sizeof(Stopped) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		isnull;

		(*out)[i].resource = TextDatumGetCString(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		(*out)[i].started = DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
	}
	return n;
}

/*
 * Starts resource's timer on the item (the item locked, open); returns the
 * inserted row, or NULL when one already runs. SPI is connected.
 */
static HeapTuple
insert_timer(int64 item_id, const char *tenant, const char *resource, TimestampTz at, bool automatic,
			 TupleDesc *desc)
{
	Oid			types[6] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID, BOOLOID, TEXTOID};
	Datum		values[6];
	char		nulls[6] = {' ', ' ', ' ', ' ', ' ', tenant ? ' ' : 'n'};
	WiSavedUser user;
	int			ret;
	char	   *actor = wi_actor();

	values[0] = Int64GetDatum(item_id);
	values[1] = CStringGetTextDatum(resource);
	values[2] = TimestampTzGetDatum(at);
	values[3] = CStringGetTextDatum(actor);
	values[4] = BoolGetDatum(automatic);
	values[5] = TENANT_DATUM(tenant);
	wi_become_owner(&user);
	/* Citus: the tenant known, as a value (its INSERT ... SELECT is not routed by it) */
	ret = wi_execute(tenant && wi_citus()
					 ? "INSERT INTO workitem.timer (item_id, resource, started_at, started_by, auto, tenant) "
					 "VALUES ($1, $2, $3, $4, $5, $6) "
					 "ON CONFLICT (item_id, resource, tenant) DO NOTHING RETURNING *"
					 : "INSERT INTO workitem.timer (item_id, resource, started_at, started_by, auto, tenant) "
					 "SELECT $1, $2, $3, $4, $5, i.tenant FROM workitem.item i WHERE i.id OPERATOR(pg_catalog.=) $1 "
					 "ON CONFLICT (item_id, resource, tenant) DO NOTHING RETURNING *",
					 6, types, values, nulls, false, 1);
	wi_restore_user(&user);
	if (ret != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: starting the timer of item %lld failed", (long long) item_id);
	if (SPI_processed == 0)
		return NULL;
	wi_worktime_log(item_id, tenant, "timer", NULL, psprintf("running for %s", resource),
			  automatic ? "started by the category's auto_timer" : NULL);
	*desc = SPI_tuptable->tupdesc;
	return SPI_tuptable->vals[0];
}

static int64
item_arg(FunctionCallInfo fcinfo, const char **resource)
{
	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item id must not be NULL")));
	*resource = PG_ARGISNULL(1) ? wi_actor() : text_to_cstring(PG_GETARG_TEXT_PP(1));
	return PG_GETARG_INT64(0);
}

static void
refuse_missing(int64 item_id)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
			 errmsg("item %lld not found", (long long) item_id)));
}

/*
 * workitem.start_timer(id, resource default actor) -> workitem.timer.
 * A second start of a running timer changes nothing and returns it: a
 * technician who clicks "start" twice keeps the first start.
 */
static Datum
start_timer(int64 item_id, const char *tenant, const char *resource)
{
	int			status = lock_item(item_id, tenant);
	TupleDesc	desc = NULL;
	HeapTuple	row;
	Datum		result;

	if (status < 0)
		refuse_missing(item_id);
	if (status == WI_CLOSED)
		refuse_closed(item_id, "timers");
	if (status == WI_RESOLVED)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_DONE),
				 errmsg("item %lld is resolved: no timer starts on it", (long long) item_id),
				 errhint("Reopen it first, or log the time with log_time().")));
	SPI_connect();
	row = insert_timer(item_id, tenant, resource, GetCurrentTransactionStartTimestamp(), false, &desc);
	if (row == NULL)
	{
		/* not read-only: a fresh snapshot sees the timer a session committed while this one waited */
		Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
		Datum		values[3] = {Int64GetDatum(item_id), CStringGetTextDatum(resource), TENANT_DATUM(tenant)};
		char		nulls[3] = {' ', ' ', tenant ? ' ' : 'n'};

		if (wi_execute("SELECT * FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1 "
					   "AND resource OPERATOR(pg_catalog.=) $2" BY_TENANT("$3"),
					   3, types, values, nulls, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "workitem: the running timer of item %lld vanished", (long long) item_id);
		row = SPI_tuptable->vals[0];
		desc = SPI_tuptable->tupdesc;
	}
	result = PointerGetDatum(SPI_returntuple(row, desc));
	SPI_finish();
	return result;
}

/* The tracked workitem.time_entry; (Datum) 0 when it counted no second. */
static Datum
stop_timer(int64 item_id, const char *tenant, const char *resource)
{
	int			status = lock_item(item_id, tenant);
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', tenant ? ' ' : 'n'};
	Stopped    *st;
	TupleDesc	desc = NULL;
	HeapTuple	entry;
	Datum		result = (Datum) 0;

	if (status < 0)
		refuse_missing(item_id);
	values[0] = Int64GetDatum(item_id);
	values[1] = CStringGetTextDatum(resource);
	values[2] = TENANT_DATUM(tenant);
	SPI_connect();
	if (delete_timers("DELETE FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1 "
					  "AND resource OPERATOR(pg_catalog.=) $2" BY_TENANT("$3") " RETURNING resource, started_at",
					  3, types, values, nulls, &st) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_NO_TIMER),
				 errmsg("item %lld: no timer of %s is running", (long long) item_id, resource),
				 errhint("workitem.timer lists the running timers; start_timer() starts one.")));
	entry = finish_timer(item_id, tenant, st[0].resource, st[0].started,
						 GetCurrentTransactionStartTimestamp(), "stopped by hand", &desc);
	if (entry != NULL)
		result = PointerGetDatum(SPI_returntuple(entry, desc));
	SPI_finish();
	return entry == NULL ? (Datum) 0 : result;
}

/*
 * Citus: a timer is started and stopped on the node of the item's shard,
 * by start_timer_on() / stop_timer_on(), which distribute() makes
 * distributed functions delegated by their tenant: the timer's log rows
 * are written there, into the item's log shard, with that node's ids. The
 * actor and resource are this session's (settings do not reach the node).
 * The arguments are constants in the text: Citus delegates only then.
 */
static Datum
on_node(const char *func, int64 item_id, const char *tenant, const char *resource, bool *isnull)
{
	Datum		d;
	MemoryContext upper = CurrentMemoryContext;

	SPI_connect();
	if (SPI_execute(psprintf("SELECT r FROM workitem.%s(%s, " INT64_FORMAT ", %s, %s) r", func,
							 quote_literal_cstr(tenant), item_id, quote_literal_cstr(resource),
							 quote_literal_cstr(wi_actor())),
					false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "workitem: %s() of item %lld failed", func, (long long) item_id);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, isnull);
	if (!*isnull)
	{
		MemoryContext old = MemoryContextSwitchTo(upper);

		d = PointerGetDatum(PG_DETOAST_DATUM_COPY(d));
		MemoryContextSwitchTo(old);
	}
	SPI_finish();
	return d;
}

/* workitem.start_timer(id, resource default actor) -> workitem.timer */
PG_FUNCTION_INFO_V1(workitem_start_timer);
Datum
workitem_start_timer(PG_FUNCTION_ARGS)
{
	const char *resource;
	int64		item_id = item_arg(fcinfo, &resource);
	const char *tenant = wi_worktime_tenant(item_id);
	bool		isnull = false;
	Datum		d;

	d = tenant ? on_node("start_timer_on", item_id, tenant, resource, &isnull)
		: start_timer(item_id, NULL, resource);
	if (isnull)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/* workitem.stop_timer(id, resource default actor) -> the tracked workitem.time_entry */
PG_FUNCTION_INFO_V1(workitem_stop_timer);
Datum
workitem_stop_timer(PG_FUNCTION_ARGS)
{
	const char *resource;
	int64		item_id = item_arg(fcinfo, &resource);
	const char *tenant = wi_worktime_tenant(item_id);
	bool		isnull = false;
	Datum		d;

	d = tenant ? on_node("stop_timer_on", item_id, tenant, resource, &isnull)
		: stop_timer(item_id, NULL, resource);
	if (isnull || d == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/* start_timer_on(tenant, id, resource, actor), stop_timer_on(...): Citus, on the node (above) */
static Datum
timer_on(FunctionCallInfo fcinfo, bool start)
{
	const char *saved = wi_actor_override;
	Datum		d;

	for (int i = 0; i < 4; i++)
		if (PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("workitem.%s_timer_on: no argument may be NULL", start ? "start" : "stop")));
	if (!wi_citus())
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("workitem.%s_timer_on() is for a database distributed by Citus", start ? "start" : "stop"),
				 errhint("Call workitem.%s_timer().", start ? "start" : "stop")));
	wi_actor_override = text_to_cstring(PG_GETARG_TEXT_PP(3));
	PG_TRY();
	{
		const char *tenant = text_to_cstring(PG_GETARG_TEXT_PP(0));
		const char *resource = text_to_cstring(PG_GETARG_TEXT_PP(2));

		d = start ? start_timer(PG_GETARG_INT64(1), tenant, resource)
			: stop_timer(PG_GETARG_INT64(1), tenant, resource);
	}
	PG_FINALLY();
	{
		wi_actor_override = saved;
	}
	PG_END_TRY();
	return d;
}

PG_FUNCTION_INFO_V1(workitem_start_timer_on);
Datum
workitem_start_timer_on(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(timer_on(fcinfo, true));
}

PG_FUNCTION_INFO_V1(workitem_stop_timer_on);
Datum
workitem_stop_timer_on(PG_FUNCTION_ARGS)
{
	Datum		d = timer_on(fcinfo, false);

	if (d == (Datum) 0)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(d);
}

/*
 * Does the item have a running timer? One probe of the timer's primary
 * key, no SQL: the item trigger asks at every change of status or
 * assignee. The latest snapshot sees a timer that a session committed
 * while this move waited for the item's lock.
 */
static bool
has_timer(int64 item_id)
{
	Oid			ns = wi_namespace();
	Oid			relid = get_relname_relid("timer", ns);
	Oid			indexid = get_relname_relid("timer_pkey", ns);
	Relation	rel;
	SysScanDesc scan;
	ScanKeyData key;
	Snapshot	snap;
	bool		found;

	if (!OidIsValid(relid) || !OidIsValid(indexid))
		return false;
	rel = table_open(relid, AccessShareLock);
	ScanKeyInit(&key, 1, BTEqualStrategyNumber, F_INT8EQ, Int64GetDatum(item_id));
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan(rel, indexid, true, snap, 1, &key);
	found = HeapTupleIsValid(systable_getnext(scan));
	systable_endscan(scan);
	UnregisterSnapshot(snap);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * The item trigger's call, when the status or the assignee changes (the
 * move accepted, the item locked): stop the timers the move ends, start
 * the one its category starts.
 */
void
wi_worktime_on_move(const WiWorkMove *m)
{
	bool		done = (m->to == WI_RESOLVED || m->to == WI_CLOSED) &&
		m->from != WI_RESOLVED && m->from != WI_CLOSED;
	bool		auto_start = false;
	WiCategoryDefaults cfg;

	if (!done && m->assignee != NULL && (m->to == WI_TO_DO || m->to == WI_IN_PROGRESS) &&
		(m->assignee_changed || (m->to == WI_IN_PROGRESS && (m->from == WI_DRAFT || m->from == WI_TO_DO))) &&
		m->category != NULL && wi_config_category(m->kind, m->category, &cfg))
		auto_start = cfg.auto_timer;
	/* On Citus workitem.timer here is an empty shell: the DELETE below looks in the shard. */
	if (!auto_start && (!(done || m->assignee_changed) || (!wi_citus() && !has_timer(m->id))))
		return;

	SPI_connect();
	if (done || m->assignee_changed)
	{
		Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
		Datum		values[3] = {Int64GetDatum(m->id), (Datum) 0, TENANT_DATUM(m->tenant)};
		char		nulls[3] = {' ', 'n', m->tenant ? ' ' : 'n'};	/* $2: the new assignee, below */
		Stopped    *st;
		int			n;
		const char *why;
		TupleDesc	desc;

		if (done)
		{
			why = m->resolution == WI_MERGED ? "item merged"
				: m->to == WI_CLOSED ? "item closed" : "item resolved";
			n = delete_timers("DELETE FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1"
							  BY_TENANT("$3") " RETURNING resource, started_at", 3, types, values, nulls, &st);
		}
		else if (m->assignee == NULL)
		{
			why = "item unassigned";
			n = delete_timers("DELETE FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1"
							  BY_TENANT("$3") " RETURNING resource, started_at", 3, types, values, nulls, &st);
		}
		else
		{
			why = psprintf("item handed to %s", m->assignee);
			values[1] = CStringGetTextDatum(m->assignee);
			nulls[1] = ' ';
			n = delete_timers("DELETE FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1 "
							  "AND resource OPERATOR(pg_catalog.<>) $2" BY_TENANT("$3") " RETURNING resource, started_at",
							  3, types, values, nulls, &st);
		}
		for (int i = 0; i < n; i++)
			(void) finish_timer(m->id, m->tenant, st[i].resource, st[i].started, m->now, why, &desc);
	}
	if (auto_start)
	{
		TupleDesc	desc;

		(void) insert_timer(m->id, m->tenant, m->assignee, m->now, true, &desc);
	}
	SPI_finish();
}

/*
 * run_timers(): timers running longer than workitem.timer_max_running stop
 * at their start plus the limit, not when they are noticed. The item is
 * locked first (SKIP LOCKED: an item being moved is left to the next run),
 * in the order every other stop takes its locks. SPI is connected.
 */
int
wi_worktime_run(TimestampTz at, int budget)
{
	Oid			types[3] = {TIMESTAMPTZOID, INT4OID, TEXTOID};
	Datum		values[3];
	char		nulls[3] = {' ', ' ', wi_timers_tenant ? ' ' : 'n'};
	const char *tenant = wi_timers_tenant;	/* Citus: run_timers_tenant()'s */
	int64		limit = (int64) wi_timer_max_running * USECS_PER_SEC;
	int			n;
	int			done = 0;
	Stopped    *due;
	int64	   *items;
	WiSavedUser user;

	if (wi_timer_max_running <= 0)
		return 0;
	values[0] = TimestampTzGetDatum(at - limit);
	values[1] = Int32GetDatum(budget);
	values[2] = TENANT_DATUM(tenant);
	wi_become_owner(&user);
	if (wi_execute("SELECT item_id, resource, started_at FROM workitem.timer "
				   "WHERE started_at OPERATOR(pg_catalog.<=) $1" BY_TENANT("$3") " ORDER BY started_at LIMIT $2",
				   3, types, values, nulls, true, 0) != SPI_OK_SELECT)
		elog(ERROR, "workitem.run_timers: reading timers failed");
	wi_restore_user(&user);
	n = (int) SPI_processed;
	due = palloc(sizeof(Stopped) * Max(n, 1));
	items = palloc(sizeof(int64) * Max(n, 1));
	for (int i = 0; i < n; i++)
	{
		HeapTuple	t = SPI_tuptable->vals[i];
		bool		isnull;

		items[i] = DatumGetInt64(SPI_getbinval(t, SPI_tuptable->tupdesc, 1, &isnull));
		due[i].resource = TextDatumGetCString(SPI_getbinval(t, SPI_tuptable->tupdesc, 2, &isnull));
		due[i].started = DatumGetTimestampTz(SPI_getbinval(t, SPI_tuptable->tupdesc, 3, &isnull));
	}
	for (int i = 0; i < n; i++)
	{
		Oid			ltypes[4] = {INT8OID, TEXTOID, TIMESTAMPTZOID, TEXTOID};
		Datum		lvalues[4];
		char		lnulls[4] = {' ', ' ', ' ', nulls[2]};
		Stopped    *st;
		TupleDesc	desc;

		lvalues[0] = Int64GetDatum(items[i]);
		lvalues[1] = CStringGetTextDatum(due[i].resource);
		lvalues[2] = TimestampTzGetDatum(due[i].started);
		lvalues[3] = values[2];
		if (wi_execute("SELECT 1 FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1" BY_TENANT("$4")
					   " FOR NO KEY UPDATE SKIP LOCKED", 4, ltypes, lvalues, lnulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem.run_timers: locking item %lld failed", (long long) items[i]);
		if (SPI_processed == 0)
			continue;
		/* stopped meanwhile (and maybe started again): not this timer */
		if (delete_timers("DELETE FROM workitem.timer WHERE item_id OPERATOR(pg_catalog.=) $1 "
						  "AND resource OPERATOR(pg_catalog.=) $2 AND started_at OPERATOR(pg_catalog.=) $3"
						  BY_TENANT("$4") " RETURNING resource, started_at", 4, ltypes, lvalues, lnulls, &st) == 0)
			continue;
		(void) finish_timer(items[i], tenant, st[0].resource, st[0].started, st[0].started + limit,
							psprintf("running longer than workitem.timer_max_running (%s)",
									 wi_interval_text(PointerGetDatum(wi_usecs_interval(limit)))),
							&desc);
		done++;
	}
	return done;
}

/* ----------------------------------------------------------------------
 * Shared by time entries (timeentry.c) and expenses (expense.c)
 * ---------------------------------------------------------------------- */

bool
wi_datum_same(TupleDesc d, int col, Datum a, bool an, Datum b, bool bn)
{
	Form_pg_attribute att = TupleDescAttr(d, col);

	if (an || bn)
		return an == bn;
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

void
wi_refuse_immutable(int64 item_id, const char *what, int64 id, const char *col)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_IMMUTABLE_FIELD),
			 errmsg("item %lld: the %s of %s #%lld cannot be changed", (long long) item_id, col,
					what, (long long) id),
			 errhint("Delete it and add a new one.")));
}
