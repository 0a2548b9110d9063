/*
 * enums.c: the extension's enum types as small integers.
 *
 * The trigger works on indexes into the label arrays below; the OIDs of the
 * pg_enum rows differ per database, so they are looked up once per backend
 * and dropped whenever pg_type changes (e.g. DROP/CREATE EXTENSION).
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "utils/inval.h"
#include "utils/syscache.h"

#include "workitem.h"

static const char *const kind_labels[] = {"ticket", "case", "action"};
static const char *const status_labels[] = {
	"draft", "to_do", "in_progress", "waiting", "resolved", "closed"};
static const char *const wait_type_labels[] = {
	"more_info", "follow_up", "paused", "split", "case_launched"};
static const char *const resolution_labels[] = {
	"customer_response", "no_customer_response", "rejected", "spam",
	"unknown_sender", "merged", "split_completed", "completed",
	"unable_to_complete", "cancelled"};

typedef struct WiEnumInfo
{
	const char *typname;
	const char *const *labels;
	int			nlabels;
	Oid			typoid;
	Oid			oids[WI_NRESOLUTIONS];	/* the longest enum */
} WiEnumInfo;

static WiEnumInfo enums[WI_NENUMTYPES] = {
	{"kind", kind_labels, WI_NKINDS},
	{"status", status_labels, WI_NSTATUSES},
	{"wait_type", wait_type_labels, WI_NWAITTYPES},
	{"resolution", resolution_labels, WI_NRESOLUTIONS},
};

static bool cache_valid = false;
static bool callback_registered = false;
static Oid	cached_namespace = InvalidOid;

static void
invalidate_cache(Datum arg, int cacheid, uint32 hashvalue)
{
	cache_valid = false;
}

Oid
wi_namespace(void)
{
	if (!cache_valid || !OidIsValid(cached_namespace))
		cached_namespace = get_namespace_oid("workitem", false);
	return cached_namespace;
}

static void
load_cache(void)
{
	Oid			nsp;

	if (!callback_registered)
	{
		CacheRegisterSyscacheCallback(TYPEOID, invalidate_cache, (Datum) 0);
		CacheRegisterSyscacheCallback(NAMESPACEOID, invalidate_cache, (Datum) 0);
		callback_registered = true;
	}
	cached_namespace = InvalidOid;
	nsp = get_namespace_oid("workitem", false);
	for (int t = 0; t < WI_NENUMTYPES; t++)
	{
		WiEnumInfo *e = &enums[t];

		e->typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
									CStringGetDatum(e->typname),
									ObjectIdGetDatum(nsp));
		if (!OidIsValid(e->typoid))
			elog(ERROR, "type workitem.%s does not exist", e->typname);
		for (int i = 0; i < e->nlabels; i++)
		{
			e->oids[i] = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
										 ObjectIdGetDatum(e->typoid),
										 CStringGetDatum(e->labels[i]));
			if (!OidIsValid(e->oids[i]))
				elog(ERROR, "label \"%s\" of type workitem.%s does not exist",
					 e->labels[i], e->typname);
		}
	}
	cached_namespace = nsp;
	cache_valid = true;
}

static inline WiEnumInfo *
info(WiEnumType t)
{
	if (!cache_valid)
		load_cache();
	return &enums[t];
}

Oid
wi_enum_typoid(WiEnumType t)
{
	return info(t)->typoid;
}

int
wi_enum_index(WiEnumType t, Datum value)
{
	WiEnumInfo *e = info(t);
	Oid			oid = DatumGetObjectId(value);

	for (int i = 0; i < e->nlabels; i++)
		if (e->oids[i] == oid)
			return i;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("value %u is not a label workitem knows for type workitem.%s",
					oid, e->typname),
			 errhint("Labels added to the extension's types by hand are not supported.")));
	return -1;					/* keep compiler quiet */
}

Datum
wi_enum_datum(WiEnumType t, int index)
{
	WiEnumInfo *e = info(t);

	Assert(index >= 0 && index < e->nlabels);
	return ObjectIdGetDatum(e->oids[index]);
}

const char *
wi_enum_label(WiEnumType t, int index)
{
	if (index < 0 || index >= enums[t].nlabels)
		return "(none)";
	return enums[t].labels[index];
}

int
wi_enum_count(WiEnumType t)
{
	return enums[t].nlabels;
}

/* Any other enum of the extension, by type and label name (uncached: rare). */
Datum
wi_enum_datum_by_name(const char *typname, const char *label)
{
	Oid			typoid = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid,
										 CStringGetDatum(typname),
										 ObjectIdGetDatum(wi_namespace()));
	Oid			oid = GetSysCacheOid2(ENUMTYPOIDNAME, Anum_pg_enum_oid,
									  ObjectIdGetDatum(typoid),
									  CStringGetDatum(label));

	if (!OidIsValid(oid))
		elog(ERROR, "label \"%s\" of type workitem.%s does not exist", label, typname);
	return ObjectIdGetDatum(oid);
}

/* "a ticket", "a case", "an action": for messages. */
const char *
wi_a_kind(int kind)
{
	static const char *const names[] = {"a ticket", "a case", "an action"};

	return (kind >= 0 && kind < WI_NKINDS) ? names[kind] : "an item";
}

Oid
wi_enum_typoid_by_name(const char *typname)
{
	return GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(typname),
						   ObjectIdGetDatum(wi_namespace()));
}
