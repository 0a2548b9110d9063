/*
 * rules.c: the lifecycle contract (spec sections 1 and 2) as compiled
 * tables, shared by the trigger and by the SQL functions a UI calls to
 * show only valid buttons, so both always agree.
 */
#include "postgres.h"

#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"

#include "workitem.h"

#define D (1 << WI_DRAFT)
#define T (1 << WI_TO_DO)
#define P (1 << WI_IN_PROGRESS)
#define W (1 << WI_WAITING)
#define R (1 << WI_RESOLVED)
#define C (1 << WI_CLOSED)

/*
 * transitions[kind][from]: bit set of the statuses reachable in one move.
 * waiting -> waiting is "change wait". An action is never draft and never
 * rests in resolved: resolving one closes it, so "resolved" is accepted as
 * a target that the trigger turns into closed.
 */
static const uint8 transitions[WI_NKINDS][WI_NSTATUSES] = {
	/* ticket */
	{T | P | R | C, P | W | R | C, T | W | R | C, T | P | W | R | C, T | P | C, 0},
	/* case */
	{T | P | R | C, P | W | R | C, T | W | R | C, T | P | W | R | C, T | P | C, 0},
	/* action */
	{0, P | W | R | C, T | W | R | C, T | P | W | R | C, C, 0},
};

#undef D
#undef T
#undef P
#undef W
#undef R
#undef C

#define B(x) (1 << (x))

/* Wait types a person may choose, by kind; split and case_launched are
 * set only by split() and launch_case(). */
static const uint8 wait_types[WI_NKINDS] = {
	B(WI_MORE_INFO) | B(WI_FOLLOW_UP) | B(WI_SPLIT) | B(WI_CASE_LAUNCHED),
	B(WI_MORE_INFO) | B(WI_FOLLOW_UP) | B(WI_PAUSED),
	B(WI_MORE_INFO) | B(WI_FOLLOW_UP),
};

/* Resolutions by kind. Actions also take "cancelled", which only the
 * cancelling of their case (or cancel() on the action) gives them. */
static const uint16 resolutions[WI_NKINDS] = {
	B(WI_CUSTOMER_RESPONSE) | B(WI_NO_CUSTOMER_RESPONSE) | B(WI_REJECTED) |
	B(WI_SPAM) | B(WI_UNKNOWN_SENDER) | B(WI_MERGED) | B(WI_SPLIT_COMPLETED) |
	B(WI_COMPLETED),
	B(WI_COMPLETED) | B(WI_CANCELLED) | B(WI_MERGED),
	B(WI_COMPLETED) | B(WI_UNABLE_TO_COMPLETE) | B(WI_CANCELLED),
};

/* Resolutions that go straight to closed, skipping the feedback window. */
static const uint16 closing = B(WI_SPAM) | B(WI_UNKNOWN_SENDER) | B(WI_CANCELLED) |
	B(WI_MERGED);

bool
wi_transition_allowed(WiKind kind, WiStatus from, WiStatus to)
{
	return (transitions[kind][from] & B(to)) != 0;
}

bool
wi_wait_type_allowed(WiKind kind, WiWaitType w)
{
	return (wait_types[kind] & B(w)) != 0;
}

bool
wi_resolution_allowed(WiKind kind, WiResolution r)
{
	return (resolutions[kind] & B(r)) != 0;
}

/* Does resolving with r close the item at once (no feedback window)? */
bool
wi_resolution_closes(WiKind kind, WiResolution r)
{
	return kind == WI_ACTION || (closing & B(r)) != 0;
}

/*
 * May an item in status "from" (not resolved) go straight to closed with
 * resolution r? The closing resolutions may; "no reply in time" only from
 * waiting; an action's resolutions always close it.
 */
bool
wi_close_resolution_allowed(WiKind kind, WiStatus from, WiResolution r)
{
	if (!wi_resolution_allowed(kind, r))
		return false;
	if (wi_resolution_closes(kind, r))
		return true;
	return r == WI_NO_CUSTOMER_RESPONSE && from == WI_WAITING;
}

static char *
list_bits(WiEnumType t, uint32 bits)
{
	StringInfoData buf;
	int			n = wi_enum_count(t);

	initStringInfo(&buf);
	for (int i = 0; i < n; i++)
		if (bits & B(i))
			appendStringInfo(&buf, "%s%s", buf.len ? ", " : "", wi_enum_label(t, i));
	if (buf.len == 0)
		appendStringInfoString(&buf, "none");
	return buf.data;
}

char *
wi_next_statuses_text(WiKind kind, WiStatus from)
{
	return list_bits(WI_ENUM_STATUS, transitions[kind][from]);
}

char *
wi_allowed_resolutions_text(WiKind kind)
{
	return list_bits(WI_ENUM_RESOLUTION, resolutions[kind]);
}

/* The resolutions a person may give an item: merged (merge()) and split_completed are the engine's. */
#define CHOOSABLE_RESOLUTIONS(kind) (resolutions[kind] & ~(B(WI_MERGED) | B(WI_SPLIT_COMPLETED)))

char *
wi_choosable_resolutions_text(WiKind kind)
{
	return list_bits(WI_ENUM_RESOLUTION, CHOOSABLE_RESOLUTIONS(kind));
}

/* The wait types a person may choose: split and case_launched are the engine's. */
#define CHOOSABLE_WAITS(kind) (wait_types[kind] & ~(B(WI_SPLIT) | B(WI_CASE_LAUNCHED)))

char *
wi_allowed_wait_types_text(WiKind kind)
{
	return list_bits(WI_ENUM_WAIT_TYPE, CHOOSABLE_WAITS(kind));
}

/* SQL: workitem.can_transition(kind, from, to) */
PG_FUNCTION_INFO_V1(workitem_can_transition);
Datum
workitem_can_transition(PG_FUNCTION_ARGS)
{
	WiKind		kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(0));
	WiStatus	from = wi_enum_index(WI_ENUM_STATUS, PG_GETARG_DATUM(1));
	WiStatus	to = wi_enum_index(WI_ENUM_STATUS, PG_GETARG_DATUM(2));

	PG_RETURN_BOOL(wi_transition_allowed(kind, from, to));
}

/* Returns every label of enum t whose bit is set, as a set-returning function. */
static Datum
srf_bits(FunctionCallInfo fcinfo, WiEnumType t, uint32 bits)
{
	FuncCallContext *funcctx;
	int			i;

	if (SRF_IS_FIRSTCALL())
	{
		funcctx = SRF_FIRSTCALL_INIT();
		funcctx->user_fctx = NULL;
		funcctx->call_cntr = 0;
	}
	funcctx = SRF_PERCALL_SETUP();
	for (i = funcctx->call_cntr; i < wi_enum_count(t); i++)
	{
		if (bits & B(i))
		{
			funcctx->call_cntr = i;	/* SRF_RETURN_NEXT adds one */
			SRF_RETURN_NEXT(funcctx, wi_enum_datum(t, i));
		}
	}
	SRF_RETURN_DONE(funcctx);
}

PG_FUNCTION_INFO_V1(workitem_next_statuses);
Datum
workitem_next_statuses(PG_FUNCTION_ARGS)
{
	WiKind		kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(0));
	WiStatus	from = wi_enum_index(WI_ENUM_STATUS, PG_GETARG_DATUM(1));

	return srf_bits(fcinfo, WI_ENUM_STATUS, transitions[kind][from]);
}

PG_FUNCTION_INFO_V1(workitem_allowed_wait_types);
Datum
workitem_allowed_wait_types(PG_FUNCTION_ARGS)
{
	WiKind		kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(0));

	return srf_bits(fcinfo, WI_ENUM_WAIT_TYPE, CHOOSABLE_WAITS(kind));
}

PG_FUNCTION_INFO_V1(workitem_allowed_resolutions);
Datum
workitem_allowed_resolutions(PG_FUNCTION_ARGS)
{
	WiKind		kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(0));

	return srf_bits(fcinfo, WI_ENUM_RESOLUTION, CHOOSABLE_RESOLUTIONS(kind));
}
