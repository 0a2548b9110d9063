/*
 * expense.c: products and expenses added to an item (workitem.expense,
 * add_expense()): checked and logged by their trigger, frozen once the
 * item is closed, as its time entries are.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/numeric.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "workitem.h"

/* ----------------------------------------------------------------------
 * Products and expenses (trigger workitem.on_expense, add_expense())
 * ---------------------------------------------------------------------- */

typedef struct ExpenseCols
{
	int			id, item, kind, description, quantity, unit_price, currency, at, author;
} ExpenseCols;

static char *
num_text(Datum v)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out, v));
}

static bool
numeric_odd(Datum v)
{
	Numeric		num = DatumGetNumeric(v);

#if PG_VERSION_NUM >= 140000
	if (numeric_is_inf(num))
		return true;
#endif
	return numeric_is_nan(num);
}

static void
check_expense(Datum *v, bool *n, bool *repl, const ExpenseCols *c, int64 item_id)
{
	Datum		zero = DirectFunctionCall1(int4_numeric, Int32GetDatum(0));
	char	   *cur;

	if (n[c->description] || strspn(TextDatumGetCString(v[c->description]), " \t\r\n") ==
		strlen(TextDatumGetCString(v[c->description])))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: a product or expense needs a description", (long long) item_id),
				 errhint("For example 'travel to the customer's site, 42 km'.")));
	if (n[c->quantity] || numeric_odd(v[c->quantity]) ||
		!DatumGetBool(DirectFunctionCall2(numeric_gt, v[c->quantity], zero)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: the quantity of a product or expense must be a positive number, not %s",
						(long long) item_id, n[c->quantity] ? "NULL" : num_text(v[c->quantity]))));
	if (n[c->unit_price] || numeric_odd(v[c->unit_price]) ||
		DatumGetBool(DirectFunctionCall2(numeric_lt, v[c->unit_price], zero)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: the unit price of a product or expense must be zero or more, not %s",
						(long long) item_id, n[c->unit_price] ? "NULL" : num_text(v[c->unit_price]))));
	cur = n[c->currency] ? NULL : TextDatumGetCString(v[c->currency]);
	if (cur != NULL && strlen(cur) == 3)
	{
		/* ISO 4217 codes are upper case; "eur" is taken as EUR */
		for (int i = 0; i < 3; i++)
			if (cur[i] >= 'a' && cur[i] <= 'z')
				cur[i] = cur[i] - 'a' + 'A';
	}
	if (cur == NULL || strlen(cur) != 3 || strspn(cur, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 3)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("item %lld: a currency is a 3-letter ISO 4217 code, not %s",
						(long long) item_id, cur == NULL ? "NULL" : quote_literal_cstr(cur)),
				 errhint("For example EUR, USD, CHF.")));
	v[c->currency] = CStringGetTextDatum(cur);
	repl[c->currency] = true;
	if (!n[c->at] && TIMESTAMP_NOT_FINITE(DatumGetTimestampTz(v[c->at])))
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("item %lld: a product or expense cannot be dated %s",
						(long long) item_id, wi_timestamptz_text(DatumGetTimestampTz(v[c->at])))));
	if (n[c->author])
	{
		v[c->author] = CStringGetTextDatum(wi_actor());
		n[c->author] = false;
		repl[c->author] = true;
	}
}

static char *
expense_text(Datum *v, bool *n, const ExpenseCols *c)
{
	return psprintf("#%lld %s %s x %s %s: %s", (long long) DatumGetInt64(v[c->id]),
					n[c->kind] ? "?" : DatumGetCString(DirectFunctionCall1(enum_out, v[c->kind])),
					num_text(v[c->quantity]), num_text(v[c->unit_price]),
					TextDatumGetCString(v[c->currency]), TextDatumGetCString(v[c->description]));
}

PG_FUNCTION_INFO_V1(workitem_on_expense);
Datum
workitem_on_expense(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	d;
	ExpenseCols c;
	Datum	   *ov = NULL, *nv;
	bool	   *on = NULL, *nn;
	bool	   *repl;
	int64		item_id;
	HeapTuple	newtuple;
	const char *tenant;
	char	   *actor;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.on_expense() must be a BEFORE ROW trigger")));
	if (wi_restoring_dump(td))
		return PointerGetDatum(td->tg_trigtuple);
	d = RelationGetDescr(td->tg_relation);
	tenant = wi_row_tenant(td->tg_relation, td->tg_trigtuple);	/* the item's */
#define COL(f, name) c.f = wi_attno(d, name, "workitem.on_expense")
	COL(id, "id"); COL(item, "item_id"); COL(kind, "kind"); COL(description, "description");
	COL(quantity, "quantity"); COL(unit_price, "unit_price"); COL(currency, "currency");
	COL(at, "at"); COL(author, "author");
#undef COL
	if (!TRIGGER_FIRED_BY_INSERT(td->tg_event))
	{
		ov = palloc(sizeof(Datum) * d->natts);
		on = palloc(sizeof(bool) * d->natts);
		heap_deform_tuple(td->tg_trigtuple, d, ov, on);
	}
	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		item_id = DatumGetInt64(ov[c.item]);
		wi_worktime_lock_open(item_id, tenant, "products and expenses");
		wi_worktime_log(item_id, tenant, "expense", expense_text(ov, on, &c), NULL, "deleted");
		return PointerGetDatum(td->tg_trigtuple);
	}

	newtuple = TRIGGER_FIRED_BY_INSERT(td->tg_event) ? td->tg_trigtuple : td->tg_newtuple;
	nv = palloc(sizeof(Datum) * d->natts);
	nn = palloc(sizeof(bool) * d->natts);
	repl = palloc0(sizeof(bool) * d->natts);
	heap_deform_tuple(newtuple, d, nv, nn);
	/* an actor carried in the row (add_expense() on Citus): the log's, and the default author */
	actor = wi_take_change_actor(d, nv, nn, repl);
	if (actor != NULL && nn[c.author])
	{
		nv[c.author] = CStringGetTextDatum(actor);
		nn[c.author] = false;
		repl[c.author] = true;
	}
	if (nn[c.item])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("a product or expense needs an item")));
	item_id = DatumGetInt64(nv[c.item]);
	if (ov == NULL)
		wi_check_drawn_id(td->tg_relation, c.id, nv[c.id], nn[c.id], "expense");
	else
	{
		if (!wi_datum_same(d, c.id, ov[c.id], on[c.id], nv[c.id], nn[c.id]))
			wi_refuse_immutable(item_id, "expense", DatumGetInt64(ov[c.id]), "id");
		if (!wi_datum_same(d, c.item, ov[c.item], on[c.item], nv[c.item], nn[c.item]))
			wi_refuse_immutable(DatumGetInt64(ov[c.item]), "expense", DatumGetInt64(ov[c.id]), "item");
	}
	check_expense(nv, nn, repl, &c, item_id);
	wi_worktime_lock_open(item_id, tenant, "products and expenses");
	{
		char	   *oldv = ov == NULL ? NULL : expense_text(ov, on, &c);
		char	   *newv = expense_text(nv, nn, &c);

		/* an UPDATE that changes nothing of it is no change to log */
		if (oldv == NULL || strcmp(oldv, newv) != 0 ||
			!wi_datum_same(d, c.at, ov[c.at], on[c.at], nv[c.at], nn[c.at]) ||
			!wi_datum_same(d, c.author, ov[c.author], on[c.author], nv[c.author], nn[c.author]))
			wi_worktime_log_by(item_id, tenant, actor, "expense", oldv, newv, oldv == NULL ? NULL : "changed");
	}
	return PointerGetDatum(heap_modify_tuple(newtuple, d, nv, nn, repl));
}

/* workitem.add_expense(id, kind, description, quantity, unit_price, currency, at, author) */
PG_FUNCTION_INFO_V1(workitem_add_expense);
Datum
workitem_add_expense(PG_FUNCTION_ARGS)
{
	Oid			types[10] = {INT8OID, InvalidOid, TEXTOID, NUMERICOID, NUMERICOID, TEXTOID,
	TIMESTAMPTZOID, TEXTOID};
	Datum		values[10];
	char		nulls[10];
	Datum		result;

	if (PG_ARGISNULL(0))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("item id must not be NULL")));
	types[1] = get_fn_expr_argtype(fcinfo->flinfo, 1);
	for (int i = 0; i < 8; i++)
	{
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	SPI_connect();
	/* Citus: the item's tenant read first (no subquery in VALUES there), routed by it */
	if (wi_citus())
	{
		const char *tenant = wi_worktime_tenant(DatumGetInt64(values[0]));

		types[8] = TEXTOID;
		values[8] = tenant ? CStringGetTextDatum(tenant) : (Datum) 0;
		nulls[8] = tenant ? ' ' : 'n';
		/* and the actor carried in the row: the node's trigger cannot see this session's */
		types[9] = TEXTOID;
		values[9] = CStringGetTextDatum(wi_actor());
		nulls[9] = ' ';
		if (wi_execute("INSERT INTO workitem.expense (item_id, kind, description, quantity, unit_price, currency, at, author, tenant, change_actor) "
					   "VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, pg_catalog.now()), $8, "
					   "COALESCE($9, workitem.current_tenant()), $10) RETURNING *",
					   10, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
			elog(ERROR, "workitem: adding the expense failed");
	}
	/* the item's tenant; an unknown item is the foreign key's error */
	else if (wi_execute("INSERT INTO workitem.expense (item_id, kind, description, quantity, unit_price, currency, at, author, tenant) "
				   "VALUES ($1, $2, $3, $4, $5, $6, COALESCE($7, pg_catalog.now()), $8, "
				   "COALESCE((SELECT tenant FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1), workitem.current_tenant())) RETURNING *",
				   8, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: adding the expense failed");
	result = PointerGetDatum(SPI_returntuple(SPI_tuptable->vals[0], SPI_tuptable->tupdesc));
	SPI_finish();
	PG_RETURN_DATUM(result);
}
