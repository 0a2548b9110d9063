/*
 * legacy.c: workitem.legacy_status(kind, label), the statuses of versions
 * 2020.1 to 2021.1 mapped to today's (status, wait_type, resolution)
 * (spec section 4).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"

#include "workitem.h"

#define NONE (-1)

typedef struct LegacyLabel
{
	WiKind		kind;
	const char *label;			/* as the old version showed it */
	WiStatus	status;
	int			wait_type;
	int			resolution;
} LegacyLabel;

static const LegacyLabel legacy[] = {
	{WI_TICKET, "In Progress (not yet being processed)", WI_TO_DO, NONE, NONE},
	{WI_TICKET, "In Progress (being processed)", WI_IN_PROGRESS, NONE, NONE},
	{WI_TICKET, "Paused - Awaiting more information", WI_WAITING, WI_MORE_INFO, NONE},
	{WI_TICKET, "Paused - Scheduled for follow-up", WI_WAITING, WI_FOLLOW_UP, NONE},
	{WI_TICKET, "Resolved", WI_RESOLVED, NONE, WI_CUSTOMER_RESPONSE},
	{WI_TICKET, "Resolved - Manual response", WI_RESOLVED, NONE, WI_CUSTOMER_RESPONSE},
	{WI_TICKET, "Resolved - No customer response", WI_RESOLVED, NONE, WI_NO_CUSTOMER_RESPONSE},
	{WI_TICKET, "Rejected", WI_RESOLVED, NONE, WI_REJECTED},
	{WI_TICKET, "Rejected as spam", WI_CLOSED, NONE, WI_SPAM},
	{WI_TICKET, "Rejected - Unknown email address", WI_CLOSED, NONE, WI_UNKNOWN_SENDER},
	{WI_TICKET, "Resolved - Ticket split", WI_WAITING, WI_SPLIT, NONE},
	{WI_TICKET, "Resolved - Ticket split (completed)", WI_RESOLVED, NONE, WI_SPLIT_COMPLETED},
	{WI_TICKET, "Resolved - Existing ticket updated", WI_CLOSED, NONE, WI_MERGED},
	{WI_TICKET, "Resolved - New case launched", WI_WAITING, WI_CASE_LAUNCHED, NONE},
	{WI_TICKET, "Resolved - Existing case updated", WI_CLOSED, NONE, WI_MERGED},

	{WI_CASE, "In Progress (not yet being processed)", WI_TO_DO, NONE, NONE},
	{WI_CASE, "In Progress (being processed)", WI_IN_PROGRESS, NONE, NONE},
	{WI_CASE, "Paused - Awaiting more information", WI_WAITING, WI_MORE_INFO, NONE},
	{WI_CASE, "Paused - Scheduled for follow-up", WI_WAITING, WI_FOLLOW_UP, NONE},
	{WI_CASE, "Paused", WI_WAITING, WI_PAUSED, NONE},
	{WI_CASE, "Resolved", WI_RESOLVED, NONE, WI_COMPLETED},
	{WI_CASE, "Closed", WI_CLOSED, NONE, WI_COMPLETED},
	{WI_CASE, "Needs attention", WI_TO_DO, NONE, NONE},

	{WI_ACTION, "In Progress (not yet being processed)", WI_TO_DO, NONE, NONE},
	{WI_ACTION, "In Progress (being processed)", WI_IN_PROGRESS, NONE, NONE},
	{WI_ACTION, "Paused - Awaiting more information", WI_WAITING, WI_MORE_INFO, NONE},
	{WI_ACTION, "Paused - Scheduled for follow-up", WI_WAITING, WI_FOLLOW_UP, NONE},
	{WI_ACTION, "Resolved", WI_CLOSED, NONE, WI_COMPLETED},
	{WI_ACTION, "Unable to complete", WI_CLOSED, NONE, WI_UNABLE_TO_COMPLETE},
	{WI_ACTION, "Peer review - In progress", WI_TO_DO, NONE, NONE},
};

/*
 * Canonical form of a label: ASCII lower case, runs of white space as one
 * space, and a hyphen, en dash or em dash with the spaces around it as "-".
 */
static char *
normalize(const char *s)
{
	StringInfoData buf;
	bool		pending_space = false;

	initStringInfo(&buf);
	while (*s)
	{
		int			dashlen = 0;

		if (*s == '-')
			dashlen = 1;
		else if ((unsigned char) s[0] == 0xE2 && (unsigned char) s[1] == 0x80 &&
				 ((unsigned char) s[2] == 0x93 || (unsigned char) s[2] == 0x94))
			dashlen = 3;

		if (dashlen)
		{
			/* Drop the spaces before the dash, and skip those after it. */
			pending_space = false;
			appendStringInfoChar(&buf, '-');
			s += dashlen;
			while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
				s++;
			continue;
		}
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		{
			pending_space = buf.len > 0 && buf.data[buf.len - 1] != '-';
			s++;
			continue;
		}
		if (pending_space)
			appendStringInfoChar(&buf, ' ');
		pending_space = false;
		appendStringInfoChar(&buf, (*s >= 'A' && *s <= 'Z') ? *s + ('a' - 'A') : *s);
		s++;
	}
	return buf.data;
}

static char *
labels_of(WiKind kind)
{
	StringInfoData buf;

	initStringInfo(&buf);
	for (int i = 0; i < (int) lengthof(legacy); i++)
		if (legacy[i].kind == kind)
			appendStringInfo(&buf, "%s\"%s\"", buf.len ? ", " : "", legacy[i].label);
	return buf.data;
}

PG_FUNCTION_INFO_V1(workitem_legacy_status);
Datum
workitem_legacy_status(PG_FUNCTION_ARGS)
{
	WiKind		kind;
	char	   *label;
	char	   *key;
	TupleDesc	desc;
	Datum		values[3];
	bool		nulls[3] = {false, true, true};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("legacy_status needs a kind and a label, not NULL")));
	kind = wi_enum_index(WI_ENUM_KIND, PG_GETARG_DATUM(0));
	label = text_to_cstring(PG_GETARG_TEXT_PP(1));
	key = normalize(label);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "legacy_status must return a composite type");
	desc = BlessTupleDesc(desc);

	for (int i = 0; i < (int) lengthof(legacy); i++)
	{
		const LegacyLabel *l = &legacy[i];

		if (l->kind != kind || strcmp(normalize(l->label), key) != 0)
			continue;
		values[0] = wi_enum_datum(WI_ENUM_STATUS, l->status);
		if (l->wait_type != NONE)
		{
			values[1] = wi_enum_datum(WI_ENUM_WAIT_TYPE, l->wait_type);
			nulls[1] = false;
		}
		if (l->resolution != NONE)
		{
			values[2] = wi_enum_datum(WI_ENUM_RESOLUTION, l->resolution);
			nulls[2] = false;
		}
		PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
	}
	ereport(ERROR,
			(errcode(ERRCODE_WI_UNKNOWN_LABEL),
			 errmsg("unknown legacy status \"%s\" for %s", label,
					wi_a_kind(kind)),
			 errhint("Legacy statuses of %s: %s.", wi_a_kind(kind),
					 labels_of(kind))));
	PG_RETURN_NULL();
}
