/*
 * timeentry.c: time spent on an item. The trigger workitem.on_time_entry()
 * checks each entry and writes it to the activity log, so a plain INSERT
 * and workitem.log_time() behave alike; workitem.on_time_entry_change()
 * logs each change and deletion, and freezes a closed item's entries.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "workitem.h"

static void check_time_entry(int64 item_id, Datum duration, bool started_null, Datum started_at);

PG_FUNCTION_INFO_V1(workitem_on_time_entry);
Datum
workitem_on_time_entry(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	d;
	Datum	   *v;
	bool	   *n;
	bool	   *repl;
	int			c_item, c_resource, c_duration, c_note, c_id, c_started, c_created, c_tracked, c_tenant;
	int64		item_id;
	WiEvent		ev = {0};
	char	   *actor;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.on_time_entry() must be a BEFORE INSERT ROW trigger")));
	if (wi_restoring_dump(td))
		return PointerGetDatum(td->tg_trigtuple);
	d = RelationGetDescr(td->tg_relation);
	v = palloc(sizeof(Datum) * d->natts);
	n = palloc(sizeof(bool) * d->natts);
	repl = palloc0(sizeof(bool) * d->natts);
	heap_deform_tuple(td->tg_trigtuple, d, v, n);
	c_id = wi_attno(d, "id", "workitem.on_time_entry");
	c_item = wi_attno(d, "item_id", "workitem.on_time_entry");
	c_resource = wi_attno(d, "resource", "workitem.on_time_entry");
	c_duration = wi_attno(d, "duration", "workitem.on_time_entry");
	c_note = wi_attno(d, "note", "workitem.on_time_entry");
	c_started = wi_attno(d, "started_at", "workitem.on_time_entry");
	c_created = wi_attno(d, "created_at", "workitem.on_time_entry");
	/* tracked came with 1.2.0: -1 in a database not yet upgraded */
	c_tracked = SPI_fnumber(d, "tracked") - 1;
	c_tenant = wi_attno_opt(d, "tenant");
	wi_check_drawn_id(td->tg_relation, c_id, v[c_id], n[c_id], "time entry");
	/* When the entry was recorded is the engine's (started_at is the caller's). */
	/* (on Citus the coordinator's now(), the default evaluated there: src/engine.c) */
	if (!n[c_created] &&
		DatumGetTimestampTz(v[c_created]) != wi_carried_now(DatumGetTimestampTz(v[c_created])) &&
		!wi_owns_table(td->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("time entry for item %lld: created_at is the time the entry is recorded, not %s",
						n[c_item] ? 0LL : (long long) DatumGetInt64(v[c_item]),
						DatumGetCString(DirectFunctionCall1(timestamptz_out, v[c_created]))),
				 errhint("Leave created_at out; when the work started goes in started_at.")));

	if (n[c_item] || n[c_duration])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a time entry needs an item and a duration")));
	item_id = DatumGetInt64(v[c_item]);
	check_time_entry(item_id, v[c_duration], n[c_started], v[c_started]);
	/* Tracked time comes from a timer (worktime.c), never typed as such. */
	if (c_tracked >= 0 && !n[c_tracked] && DatumGetBool(v[c_tracked]) && !wi_worktime_tracking && !wi_owns_table(td->tg_relation))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("time entry for item %lld: tracked is set by a timer, not by hand",
						(long long) item_id),
				 errhint("Use start_timer() and stop_timer(), or leave tracked out.")));
	/* A closed item's work time is frozen; the lock keeps a close from racing in. */
	wi_worktime_lock_open(item_id, c_tenant < 0 || n[c_tenant] ? NULL : TextDatumGetCString(v[c_tenant]),
						  "time entries");
	actor = wi_take_change_actor(d, v, n, repl);
	if (actor == NULL)
		actor = wi_actor();
	if (n[c_resource])
	{
		v[c_resource] = CStringGetTextDatum(actor);
		n[c_resource] = false;
		repl[c_resource] = true;
	}
	ev.item_id = item_id;
	/* the item's: the foreign key (item_id, tenant) holds it to that */
	ev.tenant = c_tenant < 0 || n[c_tenant] ? NULL : TextDatumGetCString(v[c_tenant]);
	ev.actor = actor;
	ev.what = "time_entry";
	ev.old_value = NULL;
	ev.new_value = psprintf("#%lld %s by %s", n[c_id] ? 0LL : (long long) DatumGetInt64(v[c_id]),
							DatumGetCString(DirectFunctionCall1(interval_out, v[c_duration])),
							TextDatumGetCString(v[c_resource]));
	ev.reason = n[c_note] ? NULL : TextDatumGetCString(v[c_note]);
	wi_log_event(&ev);
	return PointerGetDatum(heap_modify_tuple(td->tg_trigtuple, d, v, n, repl));
}

/*
 * The duration and start of an entry, as typed or changed: positive, in
 * days or less (months and years have no fixed length), a finite start.
 */
static void
check_time_entry(int64 item_id, Datum duration, bool started_null, Datum started_at)
{
	Interval   *dur = DatumGetIntervalP(duration);

	if (dur->month != 0 || dur->time < 0 || dur->day < 0 ||
		(dur->time == 0 && dur->day == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: a time entry's duration must be positive and in days, hours or less, not %s",
						(long long) item_id,
						DatumGetCString(DirectFunctionCall1(interval_out, duration))),
				 errhint("For example '1 hour 30 minutes'.")));
	/* An entry that starts at +/-infinity is no moment of work. */
	if (!started_null && TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(started_at)))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("item %lld: a time entry cannot start at %s",
						(long long) item_id,
						DatumGetCString(DirectFunctionCall1(timestamptz_out, started_at))),
				 errhint("Give a finite time when the work started.")));
}

/* workitem.log_time(id, duration, note, resource, started_at) */
PG_FUNCTION_INFO_V1(workitem_log_time);
Datum
workitem_log_time(PG_FUNCTION_ARGS)
{
	Oid			types[7] = {INT8OID, INTERVALOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[7];
	char		nulls[7];
	Datum		result;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("%s must not be NULL", PG_ARGISNULL(0) ? "item id" : "duration")));
	for (int i = 0; i < 5; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	SPI_connect();
	/*
	 * The item's tenant; an unknown item is the foreign key's error. Citus
	 * refuses a subquery in VALUES and routes by the tenant: it is read
	 * first there, and passed.
	 */
	if (wi_citus())
	{
		const char *tenant = wi_worktime_tenant(DatumGetInt64(values[0]));

		types[5] = TEXTOID;
		values[5] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
		nulls[5] = tenant ? ' ' : 'n';
		/* the resource defaults to this session's actor, which the node's trigger cannot see */
		if (nulls[3] == 'n')
		{
			values[3] = CStringGetTextDatum(wi_actor());
			nulls[3] = ' ';
		}
		/* and the actor carried in the row, for the node's trigger's log row */
		types[6] = TEXTOID;
		values[6] = CStringGetTextDatum(wi_actor());
		nulls[6] = ' ';
		if (wi_execute("INSERT INTO workitem.time_entry (item_id, duration, note, resource, started_at, tenant, change_actor) "
					   "VALUES ($1, $2, $3, $4, COALESCE($5, pg_catalog.now()), "
					   "COALESCE($6, workitem.current_tenant()), $7) RETURNING *",
					   7, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "workitem: logging time failed");
	}
	else if (wi_execute("INSERT INTO workitem.time_entry (item_id, duration, note, resource, started_at[[, tenant]]) "
							  "VALUES ($1, $2, $3, $4, COALESCE($5, pg_catalog.now())"
							  "[[, COALESCE((SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1),"
							  "  workitem.current_tenant())]]) RETURNING *",
							  5, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: logging time failed");
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	PG_RETURN_DATUM(result);
}

/* ----------------------------------------------------------------------
 * Time entries changed and deleted (trigger workitem.on_time_entry_change)
 * ---------------------------------------------------------------------- */

static char *
entry_text(TupleDesc d, Datum *v, bool *n, int c_id, int c_duration, int c_resource)
{
	return psprintf("#%lld %s by %s", (long long) DatumGetInt64(v[c_id]), wi_interval_text(v[c_duration]),
					n[c_resource] ? "?" : TextDatumGetCString(v[c_resource]));
}

PG_FUNCTION_INFO_V1(workitem_on_time_entry_change);
Datum
workitem_on_time_entry_change(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	d;
	Datum	   *ov, *nv = NULL;
	bool	   *on, *nn = NULL;
	int			c_id, c_item, c_resource, c_duration, c_note, c_started, c_created, c_tracked;
	int64		item_id;
	const char *tenant;			/* the item's (the key (item_id, tenant) holds it) */
	bool		owner;
	bool	   *repl;
	char	   *actor;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		TRIGGER_FIRED_BY_INSERT(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.on_time_entry_change() must be a BEFORE UPDATE OR DELETE ROW trigger")));
	d = RelationGetDescr(td->tg_relation);
	c_id = wi_attno(d, "id", "workitem.on_time_entry_change");
	c_item = wi_attno(d, "item_id", "workitem.on_time_entry_change");
	c_resource = wi_attno(d, "resource", "workitem.on_time_entry_change");
	c_duration = wi_attno(d, "duration", "workitem.on_time_entry_change");
	c_note = wi_attno(d, "note", "workitem.on_time_entry_change");
	c_started = wi_attno(d, "started_at", "workitem.on_time_entry_change");
	c_created = wi_attno(d, "created_at", "workitem.on_time_entry_change");
	c_tracked = wi_attno(d, "tracked", "workitem.on_time_entry_change");
	ov = palloc(sizeof(Datum) * d->natts);
	on = palloc(sizeof(bool) * d->natts);
	heap_deform_tuple(td->tg_trigtuple, d, ov, on);
	item_id = DatumGetInt64(ov[c_item]);
	tenant = wi_row_tenant(td->tg_relation, td->tg_trigtuple);
	owner = wi_owns_table(td->tg_relation);

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		wi_worktime_lock_open(item_id, tenant, "time entries");
		wi_worktime_log(item_id, tenant, "time_entry", entry_text(d, ov, on, c_id, c_duration, c_resource), NULL,
				  "deleted");
		return PointerGetDatum(td->tg_trigtuple);
	}

	nv = palloc(sizeof(Datum) * d->natts);
	nn = palloc(sizeof(bool) * d->natts);
	repl = palloc0(sizeof(bool) * d->natts);
	heap_deform_tuple(td->tg_newtuple, d, nv, nn);
	actor = wi_take_change_actor(d, nv, nn, repl);
	if (!wi_datum_same(d, c_id, ov[c_id], on[c_id], nv[c_id], nn[c_id]))
		wi_refuse_immutable(item_id, "time entry", DatumGetInt64(ov[c_id]), "id");
	if (!wi_datum_same(d, c_item, ov[c_item], on[c_item], nv[c_item], nn[c_item]))
		wi_refuse_immutable(item_id, "time entry", DatumGetInt64(ov[c_id]), "item");
	if (!owner && (!wi_datum_same(d, c_created, ov[c_created], on[c_created], nv[c_created], nn[c_created]) ||
				   !wi_datum_same(d, c_tracked, ov[c_tracked], on[c_tracked], nv[c_tracked], nn[c_tracked])))
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("item %lld: created_at and tracked of time entry #%lld are the engine's",
						(long long) item_id, (long long) DatumGetInt64(ov[c_id])),
				 errhint("Change the duration, start, resource or note.")));
	if (nn[c_duration])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item %lld: time entry #%lld needs a duration",
						(long long) item_id, (long long) DatumGetInt64(ov[c_id]))));
	check_time_entry(item_id, nv[c_duration], nn[c_started], nv[c_started]);
	wi_worktime_lock_open(item_id, tenant, "time entries");
	if (!wi_datum_same(d, c_duration, ov[c_duration], on[c_duration], nv[c_duration], nn[c_duration]) ||
		!wi_datum_same(d, c_resource, ov[c_resource], on[c_resource], nv[c_resource], nn[c_resource]) ||
		!wi_datum_same(d, c_started, ov[c_started], on[c_started], nv[c_started], nn[c_started]) ||
		!wi_datum_same(d, c_note, ov[c_note], on[c_note], nv[c_note], nn[c_note]))
		wi_worktime_log_by(item_id, tenant, actor, "time_entry",
						   entry_text(d, ov, on, c_id, c_duration, c_resource),
						   entry_text(d, nv, nn, c_id, c_duration, c_resource),
						   nn[c_note] ? "changed" : psprintf("changed: %s", TextDatumGetCString(nv[c_note])));
	/* the carried actor is for the log only (write-only, like change_reason) */
	if (actor != NULL)
		return PointerGetDatum(heap_modify_tuple(td->tg_newtuple, d, nv, nn, repl));
	return PointerGetDatum(td->tg_newtuple);
}
