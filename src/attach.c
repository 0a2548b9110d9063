/*
 * attach.c: workitem.enforce_attached(), the lifecycle trigger for a table
 * that is not ours (installed by workitem.attach()). It checks what the
 * table can express: the status graph always; wait type, resolution and
 * assignee rules when those columns are mapped. Its arguments name the
 * columns and carry the label map; they are parsed once per trigger and
 * cached, so a row costs two attribute reads and a table lookup.
 *
 * Arguments: status column, kind, label map (JSON object or ''), log
 * events ('t'/'f'), wait type column, resolution column, assignee column
 * ('' when not mapped).
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/partition.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "workitem.h"

/* One column the trigger reads: its position and whether it holds our enum. */
typedef struct Col
{
	int			attno;			/* 0-based; -1: not mapped */
	bool		is_enum;		/* workitem enum type, else text */
} Col;

/* What the trigger knows of one attached table: built once, then read only. */
typedef struct Attached
{
	Oid			relid;			/* the attached table (a partition's root) */
	char	   *table;
	WiKind		kind;
	bool		log_events;
	Col			status,
				wait_type,
				resolution,
				assignee;
	int			nlabels;		/* the table's labels and our statuses: as many as the map has */
	char	  **labels;
	int		   *label_len;
	WiStatus   *label_status;
	char	   *status_label[WI_NSTATUSES]; /* ours -> the table's, for moves we make */
	int			npk;
	AttrNumber	pk[INDEX_MAX_KEYS];
	FmgrInfo	pk_out[INDEX_MAX_KEYS]; /* their output functions */
} Attached;

/*
 * The cache, by trigger OID, as PostgreSQL's own caches do it: the
 * invalidation callback only marks entries invalid and never frees, since
 * it runs wherever invalidations are accepted, in the middle of a load
 * too. A load builds into a context of its own, then checks that nothing
 * invalidated the entry meanwhile (else builds again) and puts it in;
 * contexts of invalid entries are deleted only at the start of a load,
 * when none is being read. All of it lives under one context, so a reload
 * replaces memory instead of adding to CacheMemoryContext.
 */
typedef struct AttachedEntry
{
	Oid			tgoid;			/* hash key */
	Oid			trigrel;		/* the table the trigger is on */
	Oid			root;			/* the attached table; InvalidOid while loading */
	bool		valid;
	Attached   *a;				/* NULL until loaded */
	MemoryContext cxt;			/* holds *a */
} AttachedEntry;

static HTAB *attached = NULL;
static MemoryContext attached_cxt = NULL;

static void
invalidate_attached(Datum arg, Oid relid)
{
	HASH_SEQ_STATUS seq;
	AttachedEntry *e;

	if (attached == NULL)
		return;
	hash_seq_init(&seq, attached);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (relid == InvalidOid || relid == e->trigrel || relid == e->root ||
			e->root == InvalidOid)
			e->valid = false;
}

/* Frees what invalidated entries hold; only where no entry is being read. */
static void
sweep_attached(void)
{
	HASH_SEQ_STATUS seq;
	AttachedEntry *e;

	hash_seq_init(&seq, attached);
	while ((e = hash_seq_search(&seq)) != NULL)
		if (!e->valid)
		{
			if (e->cxt != NULL)
				MemoryContextDelete(e->cxt);
			hash_search(attached, &e->tgoid, HASH_REMOVE, NULL);
		}
}

static Col
find_col(TupleDesc d, const char *name, Oid enumtype, const char *table)
{
	Col			c = {-1, false};

	if (name == NULL || name[0] == '\0')
		return c;
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(d, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			c.attno = i;
			c.is_enum = att->atttypid == enumtype;
			if (!c.is_enum && att->atttypid != TEXTOID && att->atttypid != VARCHAROID)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of %s must be text or a workitem enum type", name, table)));
			return c;
		}
	}
	ereport(ERROR,
			(errcode(ERRCODE_UNDEFINED_COLUMN),
			 errmsg("column \"%s\" of %s does not exist", name, table)));
	return c;
}

static WiStatus
status_of_name(const char *label)
{
	for (int s = 0; s < WI_NSTATUSES; s++)
		if (strcmp(wi_enum_label(WI_ENUM_STATUS, s), label) == 0)
			return s;
	return -1;
}

/* Builds what the trigger needs, all in the current memory context. */
static Attached *
build_attached(TriggerData *td, AttachedEntry *e)
{
	Trigger    *tg = td->tg_trigger;
	Relation	rel = td->tg_relation;
	char	   *table = RelationGetRelationName(rel);
	Attached   *a;
	List	   *indexes;
	ListCell   *lc;

	if (tg->tgnargs != 7)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_attached() on %s needs 7 arguments; use workitem.attach()", table)));

	a = palloc0(sizeof(Attached));
	/* A partition's rows are logged and named under the attached table. */
	a->relid = rel->rd_rel->relispartition
		? llast_oid(get_partition_ancestors(RelationGetRelid(rel)))
		: RelationGetRelid(rel);
	e->root = a->relid;
	a->table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(a->relid)),
										  get_rel_name(a->relid));
	a->kind = wi_enum_index(WI_ENUM_KIND,
							DirectFunctionCall2(enum_in, CStringGetDatum(tg->tgargs[1]),
												ObjectIdGetDatum(wi_enum_typoid(WI_ENUM_KIND))));
	a->log_events = tg->tgargs[3][0] == 't';
	a->status = find_col(RelationGetDescr(rel), tg->tgargs[0], wi_enum_typoid(WI_ENUM_STATUS), table);
	a->wait_type = find_col(RelationGetDescr(rel), tg->tgargs[4], wi_enum_typoid(WI_ENUM_WAIT_TYPE), table);
	a->resolution = find_col(RelationGetDescr(rel), tg->tgargs[5], wi_enum_typoid(WI_ENUM_RESOLUTION), table);
	a->assignee = find_col(RelationGetDescr(rel), tg->tgargs[6], InvalidOid, table);

	/* The table's labels: from the map (every one of them), else ours as they are. */
	for (int s = 0; s < WI_NSTATUSES; s++)
		a->status_label[s] = NULL;
	if (tg->tgargs[2][0] != '\0')
	{
		/* parsed in scratch memory: only the labels are kept */
		MemoryContext keep = CurrentMemoryContext;
		MemoryContext scratch = AllocSetContextCreate(keep, "workitem label map",
													  ALLOCSET_DEFAULT_SIZES);
		Jsonb	   *map;
		JsonbIterator *it;
		JsonbValue	v;
		JsonbIteratorToken tok;
		char	   *key = NULL;
		int			room;

		MemoryContextSwitchTo(scratch);
		map = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(tg->tgargs[2])));
		it = JsonbIteratorInit(&map->root);
		room = JB_ROOT_IS_OBJECT(map) ? Max(JB_ROOT_COUNT(map), 1) : 1;
		a->labels = MemoryContextAlloc(keep, sizeof(char *) * room);
		a->label_status = MemoryContextAlloc(keep, sizeof(WiStatus) * room);
		while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		{
			if (tok == WJB_KEY)
				key = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE && key != NULL && v.type == jbvString)
			{
				char	   *ours = pnstrdup(v.val.string.val, v.val.string.len);
				WiStatus	s = status_of_name(ours);

				if ((int) s < 0)
					ereport(ERROR,
							(errcode(ERRCODE_WI_UNKNOWN_LABEL),
							 errmsg("the label map of %s maps \"%s\" to \"%s\", which is not a status", table, key, ours)));
				if (a->nlabels == room)
				{
					room *= 2;
					a->labels = repalloc(a->labels, sizeof(char *) * room);
					a->label_status = repalloc(a->label_status, sizeof(WiStatus) * room);
				}
				a->labels[a->nlabels] = MemoryContextStrdup(keep, key);
				a->label_status[a->nlabels] = s;
				if (a->status_label[s] == NULL)
					a->status_label[s] = a->labels[a->nlabels];
				a->nlabels++;
			}
		}
		MemoryContextSwitchTo(keep);
		MemoryContextDelete(scratch);
	}
	else
	{
		a->labels = palloc(sizeof(char *) * WI_NSTATUSES);
		a->label_status = palloc(sizeof(WiStatus) * WI_NSTATUSES);
		for (int s = 0; s < WI_NSTATUSES; s++)
		{
			a->labels[a->nlabels] = pstrdup(wi_enum_label(WI_ENUM_STATUS, s));
			a->label_status[a->nlabels++] = s;
			a->status_label[s] = a->labels[s];
		}
	}
	a->label_len = palloc(sizeof(int) * Max(a->nlabels, 1));
	for (int i = 0; i < a->nlabels; i++)
		a->label_len[i] = strlen(a->labels[i]);

	/* The primary key names the row in the activity log. */
	indexes = RelationGetIndexList(rel);
	foreach(lc, indexes)
	{
		HeapTuple	ituple = SearchSysCache1(INDEXRELID, ObjectIdGetDatum(lfirst_oid(lc)));
		Form_pg_index idx;

		if (!HeapTupleIsValid(ituple))
			continue;
		idx = (Form_pg_index) GETSTRUCT(ituple);
		if (idx->indisprimary)
		{
			a->npk = idx->indnkeyatts;
			for (int i = 0; i < a->npk; i++)
				a->pk[i] = idx->indkey.values[i];
		}
		ReleaseSysCache(ituple);
	}
	/* looked up once: the key is printed for every logged row */
	for (int i = 0; i < a->npk; i++)
	{
		Oid			typoutput;
		bool		varlena;

		getTypeOutputInfo(TupleDescAttr(RelationGetDescr(rel), a->pk[i] - 1)->atttypid,
						  &typoutput, &varlena);
		fmgr_info(typoutput, &a->pk_out[i]);
	}
	return a;
}

static Attached *
load_attached(TriggerData *td)
{
	Oid			tgoid = td->tg_trigger->tgoid;
	AttachedEntry *e;

	if (attached == NULL)
	{
		HASHCTL		ctl = {0};

		attached_cxt = AllocSetContextCreate(CacheMemoryContext, "workitem attached tables",
											 ALLOCSET_SMALL_SIZES);
		ctl.keysize = sizeof(Oid);
		ctl.entrysize = sizeof(AttachedEntry);
		ctl.hcxt = attached_cxt;
		attached = hash_create("workitem attached tables", 16, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
		CacheRegisterRelcacheCallback(invalidate_attached, (Datum) 0);
	}
	e = hash_search(attached, &tgoid, HASH_FIND, NULL);
	if (e != NULL && e->valid && e->a != NULL)
		return e->a;

	/* Nothing reads the cache here: free what invalidations left behind. */
	sweep_attached();
	for (;;)
	{
		/*
		 * Built under the caller's context, so that an error frees it; moved
		 * under the cache's once it is complete and still valid.
		 */
		MemoryContext cxt = AllocSetContextCreate(CurrentMemoryContext, "workitem attached table",
												  ALLOCSET_SMALL_SIZES);
		MemoryContext old;
		Attached   *a;
		bool		found;

		e = hash_search(attached, &tgoid, HASH_ENTER, &found);
		if (!found)
		{
			e->a = NULL;
			e->cxt = NULL;
		}
		e->trigrel = RelationGetRelid(td->tg_relation);
		e->root = InvalidOid;	/* any invalidation counts until it is known */
		e->valid = true;		/* cleared by an invalidation during the build */
		old = MemoryContextSwitchTo(cxt);
		a = build_attached(td, e);
		MemoryContextSwitchTo(old);
		if (e->valid)
		{
			MemoryContextSetParent(cxt, attached_cxt);
			e->cxt = cxt;
			e->a = a;
			return a;
		}
		MemoryContextDelete(cxt);
	}
}

/* The row's primary key as text, for the log. */
static char *
row_key(Attached *a, TupleDesc d, HeapTuple t)
{
	StringInfoData buf;
	bool		isnull;
	Datum		v;

	/* the usual one-column key needs no buffer */
	if (a->npk == 1)
	{
		v = heap_getattr(t, a->pk[0], d, &isnull);
		return isnull ? pstrdup("") : OutputFunctionCall(&a->pk_out[0], v);
	}
	initStringInfo(&buf);
	for (int i = 0; i < a->npk; i++)
	{
		if (i > 0)
			appendStringInfoChar(&buf, ',');
		v = heap_getattr(t, a->pk[i], d, &isnull);
		if (!isnull)
			appendStringInfoString(&buf, OutputFunctionCall(&a->pk_out[i], v));
	}
	return buf.data;
}

/* The status of a row: our enum, or the table's label through the map. */
static WiStatus
read_status(Attached *a, TupleDesc d, HeapTuple t, const char *table)
{
	bool		isnull;
	Datum		v = heap_getattr(t, a->status.attno + 1, d, &isnull);
	char	   *label;

	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("%s: the status of a work item cannot be NULL", table)));
	if (a->status.is_enum)
		return wi_enum_index(WI_ENUM_STATUS, v);
	{
		/* compare in place: no copy of the label per row */
		struct varlena *t = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(v));
		const char *p = VARDATA_ANY(t);
		int			len = VARSIZE_ANY_EXHDR(t);

		for (int i = 0; i < a->nlabels; i++)
			if (a->label_len[i] == len && memcmp(a->labels[i], p, len) == 0)
				return a->label_status[i];
		label = pnstrdup(p, len);
	}
	{
		StringInfoData known;

		initStringInfo(&known);
		for (int i = 0; i < a->nlabels; i++)
			appendStringInfo(&known, "%s\"%s\"", i ? ", " : "", a->labels[i]);
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_LABEL),
				 errmsg("%s: \"%s\" is not a status label of this table", table, label),
				 errhint("Labels it takes: %s.", known.data)));
	}
	return -1;
}

static int
read_enum(Col c, WiEnumType t, TupleDesc d, HeapTuple tup)
{
	bool		isnull;
	Datum		v;

	if (c.attno < 0)
		return -1;
	v = heap_getattr(tup, c.attno + 1, d, &isnull);
	if (isnull)
		return -1;
	if (c.is_enum)
		return wi_enum_index(t, v);
	{
		char	   *label = TextDatumGetCString(v);

		for (int i = 0; i < wi_enum_count(t); i++)
			if (strcmp(wi_enum_label(t, i), label) == 0)
				return i;
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_LABEL),
				 errmsg("\"%s\" is not a %s", label, t == WI_ENUM_WAIT_TYPE ? "wait type" : "resolution")));
	}
	return -1;
}

static bool
col_changed(Col c, TupleDesc d, HeapTuple o, HeapTuple n)
{
	bool		on,
				nn;
	Datum		ov,
				nv;

	if (c.attno < 0)
		return false;
	ov = heap_getattr(o, c.attno + 1, d, &on);
	nv = heap_getattr(n, c.attno + 1, d, &nn);
	if (on || nn)
		return on != nn;
	return !datumIsEqual(ov, nv, TupleDescAttr(d, c.attno)->attbyval, TupleDescAttr(d, c.attno)->attlen) &&
		strcmp(TextDatumGetCString(ov), TextDatumGetCString(nv)) != 0;
}

static Datum
label_datum(Attached *a, WiStatus s, const char *table)
{
	if (a->status.is_enum)
		return wi_enum_datum(WI_ENUM_STATUS, s);
	if (a->status_label[s] == NULL)
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_LABEL),
				 errmsg("%s: the row moves to %s, which its label map has no label for", table,
						wi_enum_label(WI_ENUM_STATUS, s))));
	return CStringGetTextDatum(a->status_label[s]);
}

static void
log_attached(Attached *a, Relation rel, HeapTuple t, const char *what,
			 const char *oldv, const char *newv)
{
	WiEvent		ev = {0};

	ev.source = a->relid;
	ev.row_key = row_key(a, RelationGetDescr(rel), t);
	ev.actor = wi_actor();
	ev.what = what;
	ev.old_value = oldv;
	ev.new_value = newv;
	wi_log_event(&ev);
}

PG_FUNCTION_INFO_V1(workitem_enforce_attached);
Datum
workitem_enforce_attached(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	d;
	Attached   *a;
	HeapTuple	oldt = NULL,
				newt;
	const char *table;
	WiStatus	from,
				to;
	int			ncols = 0;
	int			cols[4];
	Datum		vals[4];
	bool		nulls[4] = {false, false, false, false};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event) || TRIGGER_FIRED_BY_DELETE(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_attached() must be a BEFORE INSERT OR UPDATE ROW trigger")));
	rel = td->tg_relation;
	d = RelationGetDescr(rel);
	a = load_attached(td);
	table = a->table;

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldt = td->tg_trigtuple;
		newt = td->tg_newtuple;
		from = read_status(a, d, oldt, table);
	}
	else
	{
		newt = td->tg_trigtuple;
		from = a->kind == WI_ACTION ? WI_TO_DO : WI_DRAFT;
	}
	to = read_status(a, d, newt, table);

	/* Reassigning or unassigning work in progress puts it back to to_do. */
	if (oldt && a->assignee.attno >= 0 && from == WI_IN_PROGRESS && to == WI_IN_PROGRESS &&
		col_changed(a->assignee, d, oldt, newt))
	{
		to = WI_TO_DO;
		cols[ncols] = a->status.attno + 1;
		vals[ncols++] = label_datum(a, WI_TO_DO, table);
	}
	/* Starting unassigned work assigns it to the actor. */
	if (to == WI_IN_PROGRESS && a->assignee.attno >= 0)
	{
		bool		isnull;

		(void) heap_getattr(newt, a->assignee.attno + 1, d, &isnull);
		if (isnull)
		{
			cols[ncols] = a->assignee.attno + 1;
			vals[ncols++] = CStringGetTextDatum(wi_actor());
		}
	}

	if (from != to && !wi_transition_allowed(a->kind, from, to))
	{
		char	   *key = row_key(a, d, oldt ? oldt : newt);

		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_TRANSITION),
				 errmsg("%s row %s: %s cannot move from %s to %s", table, key,
						wi_a_kind(a->kind), wi_enum_label(WI_ENUM_STATUS, from),
						wi_enum_label(WI_ENUM_STATUS, to)),
				 errhint("Valid next statuses for %s in %s: %s.", wi_a_kind(a->kind),
						 wi_enum_label(WI_ENUM_STATUS, from), wi_next_statuses_text(a->kind, from))));
	}

	/* Wait type, when mapped: set exactly while waiting, and of the kind. */
	if (a->wait_type.attno >= 0)
	{
		int			w = read_enum(a->wait_type, WI_ENUM_WAIT_TYPE, d, newt);

		if (to == WI_WAITING && (w < 0 || !wi_wait_type_allowed(a->kind, w)))
			ereport(ERROR,
					(errcode(w < 0 ? ERRCODE_WI_INVALID_WAIT : ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED),
					 errmsg("%s row %s: %s", table, row_key(a, d, newt),
							w < 0 ? "waiting needs a wait type" : "wait type not allowed for the kind"),
					 errhint("Wait types %s may use: %s.", wi_a_kind(a->kind),
							 wi_allowed_wait_types_text(a->kind))));
		if (to != WI_WAITING && w >= 0)
		{
			cols[ncols] = a->wait_type.attno + 1;
			nulls[ncols] = true;
			vals[ncols++] = (Datum) 0;
		}
	}
	/* Resolution, when mapped: set exactly when resolved or closed. */
	if (a->resolution.attno >= 0)
	{
		int			r = read_enum(a->resolution, WI_ENUM_RESOLUTION, d, newt);
		bool		done = to == WI_RESOLVED || to == WI_CLOSED;
		bool		entering = done && from != WI_RESOLVED && from != WI_CLOSED;

		if (done && (r < 0 || !wi_resolution_allowed(a->kind, r) ||
					 (entering && to == WI_CLOSED && !wi_close_resolution_allowed(a->kind, from, r))))
			ereport(ERROR,
					(errcode(ERRCODE_WI_RESOLUTION_NOT_ALLOWED),
					 errmsg("%s row %s: %s", table, row_key(a, d, newt),
							r < 0 ? "resolving needs a resolution" :
							"resolution not allowed for the kind or for a direct close"),
					 errhint("Resolutions for %s: %s.", wi_a_kind(a->kind),
							 wi_allowed_resolutions_text(a->kind))));
		if (!done && r >= 0)
		{
			cols[ncols] = a->resolution.attno + 1;
			nulls[ncols] = true;
			vals[ncols++] = (Datum) 0;
		}
	}

	if (a->log_events)
	{
		if (oldt == NULL)
			log_attached(a, rel, newt, "created", NULL, wi_enum_label(WI_ENUM_STATUS, to));
		else if (from != to)
			log_attached(a, rel, newt, "status", wi_enum_label(WI_ENUM_STATUS, from),
						 wi_enum_label(WI_ENUM_STATUS, to));
	}

	if (ncols == 0)
		return PointerGetDatum(newt);
	return PointerGetDatum(heap_modify_tuple_by_cols(newt, d, ncols, cols, vals, nulls));
}
