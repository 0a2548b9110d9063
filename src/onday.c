/*
 * onday.c: workitem.on_day(at, day), "at falls on day" for the BI facts per
 * day, and its planner support.
 *
 * on_day(at, day) is at >= day::timestamptz AND at < (day + 1)::timestamptz
 * (the day in the session's TimeZone), computed by the same functions. The
 * facts per day read each day's rows with it in a LATERAL, where the day is
 * a parameter: written as the two comparisons, PostgreSQL estimates them at
 * a fixed 0.5 % of the table (DEFAULT_RANGE_INEQ_SEL), an estimate that grows
 * with the table while a day's rows do not (bench/volume.sh at 10 N: 3,485
 * log rows estimated for a day of flow_per_day that reads 659, a plan past
 * jit_above_cost, and 30 to 45 ms of JIT compiling for a read of 3 ms). The
 * support function gives instead:
 *  - the selectivity: for a day known at plan time, PostgreSQL's own
 *    estimate of the two comparisons with constant bounds (the column's
 *    histogram); otherwise one day's share of the column's rows, the
 *    non-null fraction over the days between the histogram's first and last
 *    bound (the average day);
 *  - the index condition: the same two comparisons on an index of the
 *    column whose operator family has timestamptz's own >= and < (btree,
 *    BRIN minmax), lossy, so that the call itself is checked again.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/stratnum.h"
#include "catalog/pg_am.h"
#include "catalog/pg_statistic.h"
#include "catalog/pg_type.h"
#include "commands/defrem.h"
#include "fmgr.h"
#include "nodes/makefuncs.h"
#include "nodes/nodeFuncs.h"
#include "nodes/supportnodes.h"
#include "optimizer/optimizer.h"
#include "utils/date.h"
#include "utils/fmgrprotos.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/selfuncs.h"
#include "utils/timestamp.h"

/* day::timestamptz and (day + 1)::timestamptz, as SQL computes them */
static void
day_bounds(DateADT day, Datum *lo, Datum *hi)
{
	*lo = DirectFunctionCall1(date_timestamptz, DateADTGetDatum(day));
	*hi = DirectFunctionCall1(date_timestamptz,
							  DirectFunctionCall2(date_pli, DateADTGetDatum(day), Int32GetDatum(1)));
}

PG_FUNCTION_INFO_V1(workitem_on_day);
Datum
workitem_on_day(PG_FUNCTION_ARGS)
{
	TimestampTz at = PG_GETARG_TIMESTAMPTZ(0);
	Datum		lo,
				hi;

	day_bounds(PG_GETARG_DATEADT(1), &lo, &hi);
	PG_RETURN_BOOL(timestamp_cmp_internal(at, DatumGetTimestampTz(lo)) >= 0 &&
				   timestamp_cmp_internal(at, DatumGetTimestampTz(hi)) < 0);
}

/* timestamptz's own >= and < in an operator family, else false */
static bool
ge_lt_of_family(Oid opfamily, Oid *ge, Oid *lt)
{
	*ge = get_opfamily_member(opfamily, TIMESTAMPTZOID, TIMESTAMPTZOID, BTGreaterEqualStrategyNumber);
	*lt = get_opfamily_member(opfamily, TIMESTAMPTZOID, TIMESTAMPTZOID, BTLessStrategyNumber);
	/* the strategy numbers mean these operators in btree and BRIN minmax only */
	return OidIsValid(*ge) && OidIsValid(*lt) &&
		get_opcode(*ge) == F_TIMESTAMPTZ_GE && get_opcode(*lt) == F_TIMESTAMPTZ_LT;
}

/* at >= lo AND at < hi, as two clauses */
static List *
range_clauses(Oid ge, Oid lt, Node *at, Expr *lo, Expr *hi)
{
	Expr	   *from = make_opclause(ge, BOOLOID, false, (Expr *) copyObject(at), lo, InvalidOid, InvalidOid);
	Expr	   *to = make_opclause(lt, BOOLOID, false, (Expr *) copyObject(at), hi, InvalidOid, InvalidOid);

	return lappend(list_make1(from), to);
}

static Selectivity
on_day_selectivity(PlannerInfo *root, List *args, int varRelid)
{
	Node	   *at = linitial(args);
	Node	   *day = estimate_expression_value(root, lsecond(args));
	VariableStatData vardata;
	Selectivity sel = DEFAULT_RANGE_INEQ_SEL;

	if (IsA(day, Const))
	{
		Const	   *c = (Const *) day;
		Oid			ge,
					lt;
		Datum		lo,
					hi;
		Expr	   *lo_const,
				   *hi_const;

		if (c->constisnull)
			return 0.0;
		if (!ge_lt_of_family(get_opclass_family(GetDefaultOpClass(TIMESTAMPTZOID, BTREE_AM_OID)), &ge, &lt))
			return sel;
		day_bounds(DatumGetDateADT(c->constvalue), &lo, &hi);
		lo_const = (Expr *) makeConst(TIMESTAMPTZOID, -1, InvalidOid, sizeof(TimestampTz), lo, false, FLOAT8PASSBYVAL);
		hi_const = (Expr *) makeConst(TIMESTAMPTZOID, -1, InvalidOid, sizeof(TimestampTz), hi, false, FLOAT8PASSBYVAL);
		return clauselist_selectivity(root, range_clauses(ge, lt, at, lo_const, hi_const),
									  varRelid, JOIN_INNER, NULL);
	}

	examine_variable(root, at, varRelid, &vardata);
	if (HeapTupleIsValid(vardata.statsTuple) && vardata.atttype == TIMESTAMPTZOID)
	{
		AttStatsSlot sslot;
		double		nullfrac = ((Form_pg_statistic) GETSTRUCT(vardata.statsTuple))->stanullfrac;

		if (get_attstatsslot(&sslot, vardata.statsTuple, STATISTIC_KIND_HISTOGRAM, InvalidOid,
							 ATTSTATSSLOT_VALUES))
		{
			if (sslot.nvalues >= 2)
			{
				TimestampTz first = DatumGetTimestampTz(sslot.values[0]);
				TimestampTz last = DatumGetTimestampTz(sslot.values[sslot.nvalues - 1]);

				if (!TIMESTAMP_NOT_FINITE(first) && !TIMESTAMP_NOT_FINITE(last))
				{
					double		days = (double) (last - first) / USECS_PER_DAY;

					sel = (1.0 - nullfrac) / Max(days, 1.0);
				}
			}
			free_attstatsslot(&sslot);
		}
	}
	ReleaseVariableStats(vardata);
	CLAMP_PROBABILITY(sel);
	return sel;
}

PG_FUNCTION_INFO_V1(workitem_on_day_support);
Datum
workitem_on_day_support(PG_FUNCTION_ARGS)
{
	Node	   *rawreq = (Node *) PG_GETARG_POINTER(0);

	if (IsA(rawreq, SupportRequestSelectivity))
	{
		SupportRequestSelectivity *req = (SupportRequestSelectivity *) rawreq;

		/* a join clause too: the share of the rows on one outer row's day */
		req->selectivity = on_day_selectivity(req->root, req->args, req->varRelid);
		PG_RETURN_POINTER(req);
	}
	if (IsA(rawreq, SupportRequestIndexCondition))
	{
		SupportRequestIndexCondition *req = (SupportRequestIndexCondition *) rawreq;
		FuncExpr   *f = (FuncExpr *) req->node;
		Node	   *day;
		Expr	   *next_day,
				   *lo,
				   *hi;
		Const	   *one;
		Oid			ge,
					lt;

		if (!IsA(f, FuncExpr) || list_length(f->args) != 2 || req->indexarg != 0 ||
			!ge_lt_of_family(req->opfamily, &ge, &lt))
			PG_RETURN_POINTER(NULL);
		day = lsecond(f->args);
		/* the bound must not read the indexed table itself */
		if (contain_volatile_functions(day) || bms_is_member(req->index->rel->relid, pull_varnos(req->root, day)))
			PG_RETURN_POINTER(NULL);
		/* day::timestamptz and (day + 1)::timestamptz, as in the view's text */
		lo = (Expr *) makeFuncExpr(F_TIMESTAMPTZ_DATE, TIMESTAMPTZOID, list_make1(copyObject(day)),
								   InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
		one = makeConst(INT4OID, -1, InvalidOid, sizeof(int32), Int32GetDatum(1), false, true);
		day = copyObject(day);
		next_day = (Expr *) makeFuncExpr(F_DATE_PLI, DATEOID, lappend(list_make1(day), one),
										 InvalidOid, InvalidOid, COERCE_EXPLICIT_CALL);
		hi = (Expr *) makeFuncExpr(F_TIMESTAMPTZ_DATE, TIMESTAMPTZOID, list_make1(next_day),
								   InvalidOid, InvalidOid, COERCE_EXPLICIT_CAST);
		req->lossy = true;
		PG_RETURN_POINTER(range_clauses(ge, lt, linitial(f->args), lo, hi));
	}
	PG_RETURN_POINTER(NULL);
}
