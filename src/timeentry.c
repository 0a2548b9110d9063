/*
 * timeentry.c: time spent on an item. The trigger workitem.on_time_entry()
 * checks each entry and writes it to the activity log, so a plain INSERT
 * and workitem.log_time() behave alike.
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

PG_FUNCTION_INFO_V1(workitem_on_time_entry);
Datum
workitem_on_time_entry(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	d;
	Datum	   *v;
	bool	   *n;
	bool	   *repl;
	int			c_item, c_resource, c_duration, c_note, c_id, c_started, c_created, c_tenant;
	Interval   *dur;
	int64		item_id;
	WiEvent		ev = {0};

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
	c_tenant = wi_attno_opt(d, "tenant");
	wi_check_drawn_id(td->tg_relation, c_id, v[c_id], n[c_id], "time entry");
	/* When the entry was recorded is the engine's (started_at is the caller's). */
	if (!n[c_created] && DatumGetTimestampTz(v[c_created]) != GetCurrentTransactionStartTimestamp() &&
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
	dur = DatumGetIntervalP(v[c_duration]);
	/* Months and years have no fixed length: refuse them, and anything <= 0. */
	if (dur->month != 0 || dur->time < 0 || dur->day < 0 ||
		(dur->time == 0 && dur->day == 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: a time entry's duration must be positive and in days, hours or less, not %s",
						(long long) item_id,
						DatumGetCString(DirectFunctionCall1(interval_out, v[c_duration]))),
				 errhint("For example '1 hour 30 minutes'.")));
	/* An entry that starts at +/-infinity is no moment of work. */
	if (!n[c_started] && TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(v[c_started])))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("item %lld: a time entry cannot start at %s",
						(long long) item_id,
						DatumGetCString(DirectFunctionCall1(timestamptz_out, v[c_started]))),
				 errhint("Give a finite time when the work started.")));
	if (n[c_resource])
	{
		v[c_resource] = CStringGetTextDatum(wi_actor());
		n[c_resource] = false;
		repl[c_resource] = true;
	}
	ev.item_id = item_id;
	/* the item's: the foreign key (item_id, tenant) holds it to that */
	ev.tenant = c_tenant < 0 || n[c_tenant] ? NULL : TextDatumGetCString(v[c_tenant]);
	ev.actor = wi_actor();
	ev.what = "time_entry";
	ev.old_value = NULL;
	ev.new_value = psprintf("#%lld %s by %s", n[c_id] ? 0LL : (long long) DatumGetInt64(v[c_id]),
							DatumGetCString(DirectFunctionCall1(interval_out, v[c_duration])),
							TextDatumGetCString(v[c_resource]));
	ev.reason = n[c_note] ? NULL : TextDatumGetCString(v[c_note]);
	wi_log_event(&ev);
	return PointerGetDatum(heap_modify_tuple(td->tg_trigtuple, d, v, n, repl));
}

/* workitem.log_time(id, duration, note, resource, started_at) */
PG_FUNCTION_INFO_V1(workitem_log_time);
Datum
workitem_log_time(PG_FUNCTION_ARGS)
{
	Oid			types[5] = {INT8OID, INTERVALOID, TEXTOID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[5];
	char		nulls[5];
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
	/* the item's tenant; an unknown item is the foreign key's error */
	if (wi_execute("INSERT INTO workitem.time_entry (item_id, duration, note, resource, started_at[[, tenant]]) "
							  "VALUES ($1, $2, $3, $4, COALESCE($5, pg_catalog.now())"
							  "[[, COALESCE((SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1),"
							  "  workitem.current_tenant())]]) RETURNING *",
							  5, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: logging time failed");
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
