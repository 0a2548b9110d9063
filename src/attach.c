/*
 * attach.c: workitem.enforce_attached(), the lifecycle trigger for a table
 * that is not ours (installed by workitem.attach()). It checks what the
 * table can express: the status graph always; wait type, resolution and
 * assignee rules when those columns are mapped. Its arguments name the
 * columns and carry the label map; they are parsed once per trigger and
 * cached, so a row costs two attribute reads and a table lookup.
 *
 * Arguments: status column, kind, label map (JSON object of
 * {status, wait_type, resolution} or ''), log events ('t'/'f'), wait type
 * column, resolution column, assignee column ('' when not mapped); since
 * issue 15 also the mode ('e' enforce, 'o' observe, 'p' enforce only the
 * rules and moves of the next argument), those rules ("transition",
 * "wait_type", ..., "from->to", comma-separated), the row filter, the
 * actor column and the assignee's "nobody" value; since issue 15's
 * feedback window a 13th, the window ('' none); since issue 14's attached
 * tables on Citus a 14th to 16th: the tenant column, the tenant of the
 * rows' log and clocks without one, and the table's OID on the coordinator
 * (none on plain PostgreSQL: the writer's setting, the table's own OID;
 * PostgreSQL copies a trigger's arguments for every statement). A trigger
 * from before (7 arguments) enforces everything.
 *
 * Observing never writes the row and never refuses: what enforcing would
 * refuse is logged as a 'violation' event whose reason starts with the
 * rule's name.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/xact.h"
#include "catalog/partition.h"
#include "catalog/pg_index.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "commands/trigger.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/hsearch.h"
#include "utils/inval.h"
#include "utils/jsonb.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"

#include "workitem.h"

/* One column the trigger reads: its position and whether it holds our enum. */
typedef struct Col
{
	int			attno;			/* 0-based; -1: not mapped */
	bool		is_enum;		/* workitem enum type */
	bool		is_text;		/* text or varchar; else read through out, written through in */
	FmgrInfo	out;
	Oid			typinput;
	Oid			typioparam;
} Col;

/* One label of the table: what it means to us. */
typedef struct Label
{
	char	   *name;
	int			len;
	WiStatus	status;
	int			wait_type;		/* -1: none given */
	int			resolution;		/* -1: none given */
} Label;

/* The rules enforce_only can name (R_DELETE: only there, the contract is silent on deleting). */
#define R_TRANSITION	0x01
#define R_WAIT_TYPE		0x02
#define R_RESOLUTION	0x04
#define R_LABEL			0x08
#define R_ASSIGNEE		0x10
#define R_DELETE		0x20
#define R_FEEDBACK		0x40

/* What the trigger knows of one attached table: built once, then read only. */
typedef struct Attached
{
	Oid			relid;			/* the attached table (a partition's root) */
	Oid			source;			/* what its log and clocks name it by: relid, on Citus the coordinator's OID */
	char	   *table;
	WiKind		kind;
	bool		log_events;
	char		mode;			/* 'e', 'o' or 'p' */
	int			rules;			/* R_*: enforced in mode 'p' */
	bool		moves[WI_NSTATUSES][WI_NSTATUSES];	/* enforced in mode 'p' */
	bool		has_map;		/* the table has labels of its own: logged */
	Col			status,
				wait_type,
				resolution,
				assignee,
				actor;
	char	   *nobody;			/* the assignee value that means nobody, or NULL */
	char	   *filter;			/* NULL: every row */
	bool		has_window;		/* a reopen after resolved + window is refused */
	Interval	window;
	Oid			rowtype;
	SPIPlanPtr	filter_plan[2];	/* one row, and an UPDATE's two: prepared at first use, kept */
	/*
	 * Citus: the trigger fires on a shard (or on each placement of a
	 * reference table); a row's log and clocks are written on the node of
	 * its tenant's shards only, the tenant from its column or the one
	 * attach() gave.
	 */
	bool		citus;
	bool		reference;		/* a reference table: a copy on every node, each with its trigger */
	Col			tenant_col;
	char	   *tenant;			/* without a tenant column */
	int			here;			/* ... whether its shards are on this node: -1 not known yet */
	int			nlabels;		/* the table's labels: as many as the map has */
	Label	   *labels;
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
	Oid			log_rel;		/* Citus: workitem.event, whose shards may move */
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
			e->root == InvalidOid || (relid == e->log_rel && OidIsValid(relid)))
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
			for (int i = 0; i < 2 && e->a != NULL; i++)
				if (e->a->filter_plan[i] != NULL)
					SPI_freeplan(e->a->filter_plan[i]);
			if (e->cxt != NULL)
				MemoryContextDelete(e->cxt);
			hash_search(attached, &e->tgoid, HASH_REMOVE, NULL);
		}
}

/* any_type: a column read as text through its output function (the assignee, the actor, a host enum) */
static Col
find_col(TupleDesc d, const char *name, Oid enumtype, bool any_type, const char *table)
{
	Col			c = {-1, false, false};

	if (name == NULL || name[0] == '\0')
		return c;
	for (int i = 0; i < d->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(d, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), name) == 0)
		{
			Oid			typoutput;
			bool		varlena;

			c.attno = i;
			c.is_enum = att->atttypid == enumtype;
			c.is_text = att->atttypid == TEXTOID || att->atttypid == VARCHAROID;
			if (!c.is_enum && !c.is_text && !any_type)
				ereport(ERROR,
						(errcode(ERRCODE_DATATYPE_MISMATCH),
						 errmsg("column \"%s\" of %s must be text or a workitem enum type", name, table)));
			getTypeOutputInfo(att->atttypid, &typoutput, &varlena);
			fmgr_info(typoutput, &c.out);
			getTypeInputInfo(att->atttypid, &c.typinput, &c.typioparam);
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
	Oid			relid = RelationGetRelid(rel);

	if (tg->tgnargs != 7 && tg->tgnargs != 12 && tg->tgnargs != 13 && tg->tgnargs != 16)
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_attached() on %s needs 16 arguments; use workitem.attach()", table)));

	a = palloc0(sizeof(Attached));
	a->here = -1;
	a->tenant_col.attno = -1;
	/*
	 * Citus: a shard's rows are logged and named under its table (the name
	 * in messages: this node's; the OID in the log: below).
	 */
	if (wi_citus())
	{
		Oid			logical = wi_citus_table_of_shard(relid);

		a->citus = true;
		e->log_rel = get_relname_relid("event", wi_namespace());
		if (OidIsValid(logical))
		{
			relid = logical;
			a->reference = wi_citus_reference_table(logical);
		}
	}
	/* A partition's rows are logged and named under the attached table. */
	a->relid = get_rel_relispartition(relid) ? llast_oid(get_partition_ancestors(relid)) : relid;
	a->source = a->relid;
	e->root = a->relid;
	a->table = quote_qualified_identifier(get_namespace_name(get_rel_namespace(a->relid)),
										  get_rel_name(a->relid));
	a->kind = wi_enum_index(WI_ENUM_KIND,
							DirectFunctionCall2(enum_in, CStringGetDatum(tg->tgargs[1]),
												ObjectIdGetDatum(wi_enum_typoid(WI_ENUM_KIND))));
	a->log_events = tg->tgargs[3][0] == 't';
	a->status = find_col(RelationGetDescr(rel), tg->tgargs[0], wi_enum_typoid(WI_ENUM_STATUS), true, table);
	a->wait_type = find_col(RelationGetDescr(rel), tg->tgargs[4], wi_enum_typoid(WI_ENUM_WAIT_TYPE), false, table);
	a->resolution = find_col(RelationGetDescr(rel), tg->tgargs[5], wi_enum_typoid(WI_ENUM_RESOLUTION), false, table);
	a->assignee = find_col(RelationGetDescr(rel), tg->tgargs[6], InvalidOid, true, table);
	a->mode = 'e';
	a->actor.attno = -1;
	a->rowtype = rel->rd_rel->reltype;
	if (tg->tgnargs >= 12)
	{
		char	   *rules = pstrdup(tg->tgargs[8]);
		char	   *tok;
		char	   *save = NULL;

		a->mode = tg->tgargs[7][0];
		for (tok = strtok_r(rules, ",", &save); tok != NULL; tok = strtok_r(NULL, ",", &save))
		{
			char	   *arrow = strstr(tok, "->");

			if (arrow != NULL)
			{
				WiStatus	f,
							t;

				*arrow = '\0';
				f = status_of_name(tok);
				t = status_of_name(arrow + 2);
				if ((int) f >= 0 && (int) t >= 0)
					a->moves[f][t] = true;
			}
			else if (strcmp(tok, "transition") == 0)
				a->rules |= R_TRANSITION;
			else if (strcmp(tok, "wait_type") == 0)
				a->rules |= R_WAIT_TYPE;
			else if (strcmp(tok, "resolution") == 0)
				a->rules |= R_RESOLUTION;
			else if (strcmp(tok, "label") == 0)
				a->rules |= R_LABEL;
			else if (strcmp(tok, "assignee") == 0)
				a->rules |= R_ASSIGNEE;
			else if (strcmp(tok, "delete") == 0)
				a->rules |= R_DELETE;
			else if (strcmp(tok, "feedback_window") == 0)
				a->rules |= R_FEEDBACK;
		}
		if (tg->tgargs[9][0] != '\0')
			a->filter = pstrdup(tg->tgargs[9]);
		a->actor = find_col(RelationGetDescr(rel), tg->tgargs[10], InvalidOid, true, table);
		if (tg->tgargs[11][0] != '\0')
			a->nobody = pstrdup(tg->tgargs[11]);
	}
	if (tg->tgnargs >= 16 && a->citus)
	{
		a->tenant_col = find_col(RelationGetDescr(rel), tg->tgargs[13], InvalidOid, true, table);
		if (tg->tgargs[14][0] != '\0')
			a->tenant = pstrdup(tg->tgargs[14]);
		/*
		 * The table's OID on the node that attached it (the coordinator), the
		 * same in the log of every node: Citus sends an OID, not a name,
		 * both when it reads a regclass back and in most queries' filters.
		 */
		if (tg->tgargs[15][0] != '\0')
			a->source = DatumGetObjectId(DirectFunctionCall1(oidin, CStringGetDatum(tg->tgargs[15])));
	}
	if (tg->tgnargs >= 13 && tg->tgargs[12][0] != '\0')
	{
		a->has_window = true;
		a->window = *DatumGetIntervalP(DirectFunctionCall3(interval_in, CStringGetDatum(tg->tgargs[12]),
														   ObjectIdGetDatum(InvalidOid), Int32GetDatum(-1)));
	}

	/* The table's labels: from the map (every one of them), else ours as they are. */
	for (int s = 0; s < WI_NSTATUSES; s++)
		a->status_label[s] = NULL;
	a->has_map = tg->tgargs[2][0] != '\0';
	if (a->has_map)
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
		char	   *field = NULL;
		int			depth = 0;
		int			room;
		Label	   *cur = NULL;

		MemoryContextSwitchTo(scratch);
		map = DatumGetJsonbP(DirectFunctionCall1(jsonb_in, CStringGetDatum(tg->tgargs[2])));
		it = JsonbIteratorInit(&map->root);
		room = JB_ROOT_IS_OBJECT(map) ? Max(JB_ROOT_COUNT(map), 1) : 1;
		a->labels = MemoryContextAllocZero(keep, sizeof(Label) * room);
		while ((tok = JsonbIteratorNext(&it, &v, false)) != WJB_DONE)
		{
			if (tok == WJB_BEGIN_OBJECT)
				depth++;
			else if (tok == WJB_END_OBJECT)
			{
				if (--depth == 1 && cur != NULL)
				{
					/* a label's object is complete: it has a status (attach() checked) */
					if ((int) cur->status < 0)
						ereport(ERROR,
								(errcode(ERRCODE_WI_UNKNOWN_LABEL),
								 errmsg("the label map of %s gives \"%s\" no status", table, cur->name)));
					if (a->status_label[cur->status] == NULL)
						a->status_label[cur->status] = cur->name;
					a->nlabels++;
					cur = NULL;
				}
			}
			else if (tok == WJB_KEY && depth == 1)
				key = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_KEY && depth == 2)
				field = pnstrdup(v.val.string.val, v.val.string.len);
			else if (tok == WJB_VALUE && v.type == jbvString && (depth == 1 || depth == 2))
			{
				char	   *ours = pnstrdup(v.val.string.val, v.val.string.len);

				if (cur == NULL)
				{
					/* the first value of a label: "status" or the label's plain string */
					if (a->nlabels == room)
					{
						room *= 2;
						a->labels = repalloc(a->labels, sizeof(Label) * room);
					}
					cur = &a->labels[a->nlabels];
					cur->name = MemoryContextStrdup(keep, key);
					cur->len = strlen(key);
					cur->status = -1;
					cur->wait_type = -1;
					cur->resolution = -1;
				}
				if (depth == 1 || strcmp(field, "status") == 0)
				{
					cur->status = status_of_name(ours);
					if ((int) cur->status < 0)
						ereport(ERROR,
								(errcode(ERRCODE_WI_UNKNOWN_LABEL),
								 errmsg("the label map of %s maps \"%s\" to \"%s\", which is not a status",
										table, key, ours)));
				}
				else
				{
					WiEnumType t = strcmp(field, "wait_type") == 0 ? WI_ENUM_WAIT_TYPE : WI_ENUM_RESOLUTION;
					int			found = -1;

					for (int i = 0; i < wi_enum_count(t); i++)
						if (strcmp(wi_enum_label(t, i), ours) == 0)
							found = i;
					if (found < 0)
						ereport(ERROR,
								(errcode(ERRCODE_WI_UNKNOWN_LABEL),
								 errmsg("the label map of %s maps \"%s\" to the %s \"%s\", which does not exist",
										table, key, field, ours)));
					if (t == WI_ENUM_WAIT_TYPE)
						cur->wait_type = found;
					else
						cur->resolution = found;
				}
				if (depth == 1)
				{
					if (a->status_label[cur->status] == NULL)
						a->status_label[cur->status] = cur->name;
					a->nlabels++;
					cur = NULL;
				}
			}
		}
		MemoryContextSwitchTo(keep);
		MemoryContextDelete(scratch);
	}
	else
	{
		a->labels = palloc0(sizeof(Label) * WI_NSTATUSES);
		for (int s = 0; s < WI_NSTATUSES; s++)
		{
			Label	   *l = &a->labels[a->nlabels++];

			l->name = pstrdup(wi_enum_label(WI_ENUM_STATUS, s));
			l->len = strlen(l->name);
			l->status = s;
			l->wait_type = -1;
			l->resolution = -1;
			a->status_label[s] = l->name;
		}
	}

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
		wi_on_relcache(invalidate_attached);
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
		e->log_rel = InvalidOid;
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

/* A column's value as text (NULL when null), through its output function unless it is text. */
static char *
col_text(Col *c, TupleDesc d, HeapTuple t)
{
	bool		isnull;
	Datum		v;

	if (c->attno < 0)
		return NULL;
	v = heap_getattr(t, c->attno + 1, d, &isnull);
	if (isnull)
		return NULL;
	if (c->is_text)
		return TextDatumGetCString(v);
	return OutputFunctionCall(&c->out, v);
}

/*
 * One move of one row, as the trigger sees it: the row, its labels, and
 * what it means to us.
 */
typedef struct Move
{
	Attached   *a;
	Relation	rel;
	TupleDesc	d;
	HeapTuple	row;			/* the row that names the move (new, or old on DELETE) */
	char	   *key;			/* computed once, when first needed */
	const char *actor;
	char	   *old_label,
			   *new_label;		/* the table's own labels (NULL: none) */
	Label	   *old_l,
			   *new_l;			/* their meaning; NULL when unmapped or ours */
	WiStatus	from,
				to;				/* -1: unknown label, observed */
	const char *tenant;			/* Citus: the row's tenant; NULL: the writer's setting */
	bool		here;			/* the row's log and clocks are kept on this node */
} Move;

/*
 * Citus: what the trigger writes into a reference table's row must be the
 * same on every placement, each of which runs the trigger in a session of
 * its own (the one running the statement for its node's placement, Citus's
 * connections for the others). The actor it assigns when the row's actor
 * column gives none is the same everywhere only when it is workitem.actor
 * set with SET LOCAL in this transaction while citus.propagate_set_commands
 * = 'local': Citus sends that to every placement's session, and never a
 * session's SET, a default, set_config() or a function's SET clause (the
 * session user may not be the user Citus connects as either). The session
 * running the statement checks that it set it so; each of Citus's sessions
 * that it got it in this transaction (on them only Citus sets anything),
 * so that a SET LOCAL that was not sent is refused there. A refusal
 * aborts the statement on every placement: no copy changes.
 */
static const char *move_key(Move *m);

static void
check_actor_everywhere(Move *m)
{
	bool		citus_session = wi_citus_internal();

	if (wi_actor_set_local(!citus_session))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("%s row %s: starting unassigned work would assign it to the actor \"%s\", "
					"which not every copy of the reference table would get",
					m->a->table, move_key(m), m->actor),
			 citus_session
			 ? errdetail("Citus runs the trigger on each copy in a session of its own; this copy's session "
						 "got no SET LOCAL workitem.actor in this transaction.")
			 : errdetail("Citus runs the trigger on each copy in a session of its own; only workitem.actor "
						 "set with SET LOCAL while citus.propagate_set_commands = 'local' reaches them all, "
						 "not a session's SET, a default, set_config() or the session user."),
			 errhint("SET LOCAL workitem.actor in the transaction with citus.propagate_set_commands = 'local', "
					 "or attach(..., actor_column => ...) and fill that column.")));
}

/*
 * Citus: the row's tenant, and whether its log and clocks are kept on this
 * node: a reference table's trigger fires on every placement, and only
 * the node of the tenant's shards of the log keeps them (a table
 * distributed by tenant, colocated with item, has its rows there).
 */
static void
row_tenant(Move *m, HeapTuple t)
{
	Attached   *a = m->a;

	if (a->tenant_col.attno >= 0)
	{
		m->tenant = col_text(&a->tenant_col, m->d, t);
		return;
	}
	m->tenant = a->tenant ? a->tenant : wi_current_tenant();
	if (a->here < 0 || a->tenant == NULL)
		a->here = wi_local_table("event", m->tenant) != NULL;
	m->here = a->here;
}

static const char *
move_key(Move *m)
{
	if (m->key == NULL)
		m->key = row_key(m->a, m->d, m->row);
	return m->key;
}

static void
log_attached(Move *m, const char *what, const char *oldv, const char *newv, const char *reason)
{
	WiEvent		ev = {0};

	if (!m->a->log_events || !m->here)
		return;
	ev.source = m->a->source;
	ev.tenant = m->tenant;
	ev.row_key = move_key(m);
	ev.actor = m->actor;
	ev.what = what;
	ev.old_value = oldv;
	ev.new_value = newv;
	ev.reason = reason;
	wi_log_event(&ev);
}

/* Is the rule enforced here (else observed)? */
static bool
enforced(Attached *a, int rule)
{
	return a->mode == 'e' || (a->mode == 'p' && (a->rules & rule));
}

/*
 * A rule the move breaks: refused when enforced, else logged as a
 * 'violation' event (reason "rule: message") and let through.
 */
static void
breach(Move *m, int rule, const char *rule_name, int sqlstate, bool enforce,
	   const char *msg, const char *hint)
{
	if (enforce)
		ereport(ERROR,
				(errcode(sqlstate),
				 errmsg("%s row %s: %s", m->a->table, move_key(m), msg),
				 hint ? errhint("%s", hint) : 0));
	log_attached(m, "violation",
				 (int) m->from >= 0 ? wi_enum_label(WI_ENUM_STATUS, m->from) : m->old_label,
				 (int) m->to >= 0 ? wi_enum_label(WI_ENUM_STATUS, m->to) : m->new_label,
				 psprintf("%s: %s", rule_name, msg));
}

/*
 * The status of a row: our enum, or the table's label through the map.
 * An unknown label is refused when the rule "label" is enforced, else
 * logged as a violation and -1 returned.
 */
static WiStatus
read_status(Move *m, HeapTuple t, char **label_out, Label **l_out)
{
	Attached   *a = m->a;
	bool		isnull;
	Datum		v = heap_getattr(t, a->status.attno + 1, m->d, &isnull);
	char	   *label;
	int			len;
	StringInfoData known;

	*label_out = NULL;
	*l_out = NULL;
	if (isnull)
	{
		if (enforced(a, R_LABEL))
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("%s: the status of a work item cannot be NULL", a->table)));
		breach(m, R_LABEL, "label", 0, false, "the status is NULL", NULL);
		return -1;
	}
	if (a->status.is_enum)
		return wi_enum_index(WI_ENUM_STATUS, v);
	if (a->status.is_text)
	{
		/* compare in place: no copy of the label per row */
		struct varlena *tx = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(v));
		const char *p = VARDATA_ANY(tx);

		len = VARSIZE_ANY_EXHDR(tx);
		for (int i = 0; i < a->nlabels; i++)
			if (a->labels[i].len == len && memcmp(a->labels[i].name, p, len) == 0)
			{
				*label_out = a->labels[i].name;
				*l_out = &a->labels[i];
				return a->labels[i].status;
			}
		label = pnstrdup(p, len);
	}
	else
	{
		label = OutputFunctionCall(&a->status.out, v);
		len = strlen(label);
		for (int i = 0; i < a->nlabels; i++)
			if (a->labels[i].len == len && memcmp(a->labels[i].name, label, len) == 0)
			{
				*label_out = a->labels[i].name;
				*l_out = &a->labels[i];
				return a->labels[i].status;
			}
	}
	*label_out = label;
	initStringInfo(&known);
	for (int i = 0; i < a->nlabels; i++)
		appendStringInfo(&known, "%s\"%s\"", i ? ", " : "", a->labels[i].name);
	if (enforced(a, R_LABEL))
		ereport(ERROR,
				(errcode(ERRCODE_WI_UNKNOWN_LABEL),
				 errmsg("%s: \"%s\" is not a status label of this table", a->table, label),
				 errhint("Labels it takes: %s.", known.data)));
	breach(m, R_LABEL, "label", 0, false,
		   psprintf("\"%s\" is not a status label of this table", label), NULL);
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

/* Is the assignee "nobody": NULL, or the value given as nobody? */
static bool
unassigned(Attached *a, TupleDesc d, HeapTuple t)
{
	char	   *v = col_text(&a->assignee, d, t);

	return v == NULL || (a->nobody != NULL && strcmp(v, a->nobody) == 0);
}

static bool
assignee_changed(Attached *a, TupleDesc d, HeapTuple o, HeapTuple n)
{
	char	   *ov = col_text(&a->assignee, d, o);
	char	   *nv = col_text(&a->assignee, d, n);

	if (ov == NULL || nv == NULL)
		return (ov == NULL) != (nv == NULL);
	return strcmp(ov, nv) != 0;
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
	if (a->status.is_text)
		return CStringGetTextDatum(a->status_label[s]);
	return OidInputFunctionCall(a->status.typinput, a->status_label[s], a->status.typioparam, -1);
}

/*
 * Does the filter hold for each row? The n rows (1, or an UPDATE's old
 * and new) are one statement: one SPI connection, one search_path
 * switch, one executor run.
 */
static void
in_filter_rows(Attached *a, TupleDesc d, int n, HeapTuple *rows, bool *yes)
{
	int			nest;
	Datum		args[2];
	Oid			types[2] = {a->rowtype, a->rowtype};
	int			rc;

	Assert(a->filter != NULL && n >= 1 && n <= 2);
	/*
	 * Under a fixed search_path, as attach() checked it: the caller's path
	 * must not choose the operators and functions the filter calls.
	 */
	nest = NewGUCNestLevel();
	(void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (a->filter_plan[n - 1] == NULL)
	{
		/* the filter names the row's columns: they are the subquery's */
		const char *one = "(SELECT (%s)::pg_catalog.bool FROM (SELECT ($%d).*) AS row_)";
		char	   *sql = n == 1 ? psprintf("SELECT %s", psprintf(one, a->filter, 1))
			: psprintf("SELECT %s, %s", psprintf(one, a->filter, 1), psprintf(one, a->filter, 2));
		SPIPlanPtr	plan = SPI_prepare(sql, n, types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare of the filter of %s failed: %s", a->table,
				 SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		a->filter_plan[n - 1] = plan;
	}
	for (int i = 0; i < n; i++)
		args[i] = heap_copy_tuple_as_datum(rows[i], d);
	rc = SPI_execute_plan(a->filter_plan[n - 1], args, NULL, true, 1);
	if (rc != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "the filter of %s did not return a row", a->table);
	for (int i = 0; i < n; i++)
	{
		bool		isnull;

		yes[i] = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, i + 1, &isnull));
		yes[i] = yes[i] && !isnull;
	}
	SPI_finish();
	AtEOXact_GUC(true, nest);
}

/* Does the row belong to us: no filter, or the filter holds for it? */
static bool
in_filter(Attached *a, TupleDesc d, HeapTuple t)
{
	bool		yes;

	if (a->filter == NULL)
		return true;
	in_filter_rows(a, d, 1, &t, &yes);
	return yes;
}

static const char *
status_text(WiStatus s)
{
	return (int) s >= 0 ? wi_enum_label(WI_ENUM_STATUS, s) : NULL;
}

/* Has the row an assignee: the column not nobody, or without one, work in progress? */
static bool
row_assigned(Attached *a, TupleDesc d, HeapTuple t, WiStatus s)
{
	if (a->assignee.attno >= 0)
		return !unassigned(a, d, t);
	return s == WI_IN_PROGRESS;
}

/*
 * The enabled SLA policy matching the table's kind (one lookup in the
 * policy cache), 0 when none. Citus: only on the node that keeps the
 * row's clocks (row_tenant()).
 */
static int64
clock_policy(Move *m)
{
	return m->here ? wi_config_match_policy(m->a->kind, NULL, NULL) : 0;
}

/* The row's SLA clocks under policy (attached_sla.c); nothing when it is 0. */
static void
keep_clocks(Move *m, int64 policy, HeapTuple oldt, WiStatus from, WiStatus to, int old_wait,
			int new_wait, bool was_assigned, bool assigned, const char *gone)
{
	WiAttachedMove am = {0};

	if (policy == 0 || ((int) to < 0 && gone == NULL))
		return;
	am.policy = policy;
	am.source = m->a->source;
	am.row_key = move_key(m);
	am.now = wi_now();
	am.from = from;
	am.to = to;
	am.created = oldt == NULL;
	am.gone = gone;
	am.old_wait = old_wait;
	am.new_wait = new_wait;
	am.was_assigned = was_assigned;
	am.assigned = assigned;
	am.tenant = m->tenant;
	wi_attached_sla_move(&am);
}

/* The wait type of a row: its column when mapped, else its label's (-1: none). */
static int
row_wait(Attached *a, TupleDesc d, HeapTuple t, Label *l)
{
	if (a->wait_type.attno >= 0)
		return read_enum(a->wait_type, WI_ENUM_WAIT_TYPE, d, t);
	return l != NULL ? l->wait_type : -1;
}

/*
 * A reopen (resolved -> an open status) after the table's feedback window:
 * refused, WI007 as for items, or a violation when observed. When the row
 * was resolved is read from its log (attached_sla.c), on this move only.
 * The engine never closes a host's row when the window is over: the host
 * does, or leaves it resolved.
 */
static void
check_feedback_window(Move *m)
{
	Attached   *a = m->a;
	TimestampTz now = wi_now();
	TimestampTz resolved_at;
	TimestampTz until;

	/* Citus: read on the node that keeps the row's log (which refuses for all) */
	if (!m->here)
		return;
	if (!wi_attached_resolved_at(a->source, move_key(m), m->tenant, &resolved_at))
		return;
	until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													TimestampTzGetDatum(resolved_at),
													PointerGetDatum(&a->window)));
	if (now <= until)
		return;
	breach(m, R_FEEDBACK, "feedback_window", ERRCODE_WI_FEEDBACK_WINDOW_OVER,
		   enforced(a, R_FEEDBACK) || (a->mode == 'p' && a->moves[m->from][m->to]),
		   psprintf("\"%s\" -> \"%s\": the feedback window of this %s closed at %s (resolved at %s, window %s)",
					m->old_label ? m->old_label : status_text(m->from),
					m->new_label ? m->new_label : status_text(m->to),
					wi_enum_label(WI_ENUM_KIND, a->kind),
					/* a static buffer: copied, since it is called twice */
					pstrdup(timestamptz_to_str(until)), pstrdup(timestamptz_to_str(resolved_at)),
					DatumGetCString(DirectFunctionCall1(interval_out, PointerGetDatum(&a->window)))),
		   "Leave it resolved or close it; a request that comes back is a new row.");
}

PG_FUNCTION_INFO_V1(workitem_enforce_attached);
Datum
workitem_enforce_attached(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Attached   *a;
	HeapTuple	oldt = NULL,
				newt;
	const char *table;
	Move		m = {0};
	bool		writes;			/* the trigger may change the row: only when enforcing */
	int			ncols = 0;
	int			cols[4];
	int64		policy;			/* the SLA policy of the table's kind, 0: none */
	Datum		vals[4];
	bool		nulls[4] = {false, false, false, false};
	int			w = -1,
				r = -1;
	bool		assigns = false;	/* the trigger writes the actor as assignee */
	bool		row_actor;		/* the actor is the row's actor column */

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_attached() must be a BEFORE ROW trigger")));
	m.rel = td->tg_relation;
	m.here = true;
	m.d = RelationGetDescr(m.rel);
	a = m.a = load_attached(td);
	table = a->table;
	m.from = m.to = -1;
	writes = a->mode == 'e';

	if (TRIGGER_FIRED_BY_DELETE(td->tg_event))
	{
		/*
		 * A deleted row: logged with its last status and label. The contract
		 * says nothing of deleting, so it is refused only when asked for
		 * (enforce_only naming "delete"): then, as for items, drafts only.
		 */
		oldt = td->tg_trigtuple;
		if (!in_filter(a, m.d, oldt))
			return PointerGetDatum(oldt);
		m.row = oldt;
		if (a->citus)
			row_tenant(&m, oldt);
		m.actor = col_text(&a->actor, m.d, oldt);
		if (m.actor == NULL)
			m.actor = wi_actor();
		m.from = read_status(&m, oldt, &m.old_label, &m.old_l);
		if ((int) m.from >= 0 && m.from != WI_DRAFT && a->mode == 'p' && (a->rules & R_DELETE))
			ereport(ERROR,
					(errcode(ERRCODE_WI_DELETE_REFUSED),
					 errmsg("%s row %s: %s in %s cannot be deleted", table, move_key(&m),
							wi_a_kind(a->kind), status_text(m.from)),
					 errdetail("Only drafts can be deleted: enforce_only names \"delete\"."),
					 errhint("Move it to a closed label instead.")));
		keep_clocks(&m, clock_policy(&m), oldt, m.from, m.from, -1, -1, false, false, "row deleted");
		log_attached(&m, "deleted", status_text(m.from), NULL, NULL);
		if (a->has_map)
			log_attached(&m, "label", m.old_label, NULL, NULL);
		if (a->log_events)
			wi_notify_move(InvalidOid, table, move_key(&m), status_text(m.from), NULL,
						   m.old_label, NULL, m.actor);
		return PointerGetDatum(oldt);
	}

	if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		HeapTuple	rows[2] = {td->tg_trigtuple, td->tg_newtuple};
		bool		in[2] = {true, true};
		bool		in_old,
					in_new;

		if (a->filter != NULL)
			in_filter_rows(a, m.d, 2, rows, in);
		in_old = in[0];
		in_new = in[1];

		newt = td->tg_newtuple;
		if (!in_old && !in_new)
			return PointerGetDatum(newt);
		/* a row that enters the filter is new to us; one that leaves it is logged, not checked */
		if (in_old)
			oldt = td->tg_trigtuple;
		if (!in_new)
		{
			m.row = newt;
			if (a->citus)
				row_tenant(&m, newt);
			m.actor = col_text(&a->actor, m.d, newt);
			if (m.actor == NULL)
				m.actor = wi_actor();
			keep_clocks(&m, clock_policy(&m), td->tg_trigtuple, -1, -1, -1, -1, false, false,
						"out of the filter");
			log_attached(&m, "filtered_out", NULL, NULL, a->filter);
			return PointerGetDatum(newt);
		}
	}
	else
	{
		newt = td->tg_trigtuple;
		if (!in_filter(a, m.d, newt))
			return PointerGetDatum(newt);
	}
	m.row = newt;
	if (a->citus)
		row_tenant(&m, newt);
	m.actor = col_text(&a->actor, m.d, newt);
	row_actor = m.actor != NULL;
	if (m.actor == NULL)
		m.actor = wi_actor();
	m.from = a->kind == WI_ACTION ? WI_TO_DO : WI_DRAFT;
	if (oldt)
		m.from = read_status(&m, oldt, &m.old_label, &m.old_l);
	m.to = read_status(&m, newt, &m.new_label, &m.new_l);

	/* Reassigning or unassigning work in progress puts it back to to_do. */
	if (oldt && writes && a->assignee.attno >= 0 && m.from == WI_IN_PROGRESS && m.to == WI_IN_PROGRESS &&
		assignee_changed(a, m.d, oldt, newt))
	{
		m.to = WI_TO_DO;
		cols[ncols] = a->status.attno + 1;
		vals[ncols++] = label_datum(a, WI_TO_DO, table);
		m.new_label = a->status_label[WI_TO_DO];
	}
	/* Starting unassigned work assigns it to the actor (a text assignee only). */
	if (writes && m.to == WI_IN_PROGRESS && a->assignee.attno >= 0 && a->assignee.is_text &&
		unassigned(a, m.d, newt))
	{
		if (a->reference && !row_actor)
			check_actor_everywhere(&m);
		cols[ncols] = a->assignee.attno + 1;
		vals[ncols++] = CStringGetTextDatum(m.actor);
		assigns = true;
	}

	if ((int) m.from >= 0 && (int) m.to >= 0 && m.from != m.to &&
		!wi_transition_allowed(a->kind, m.from, m.to))
		breach(&m, R_TRANSITION, "transition", ERRCODE_WI_INVALID_TRANSITION,
			   enforced(a, R_TRANSITION) || (a->mode == 'p' && a->moves[m.from][m.to]),
			   psprintf("%s cannot move from %s to %s", wi_a_kind(a->kind),
						status_text(m.from), status_text(m.to)),
			   psprintf("Valid next statuses for %s in %s: %s.", wi_a_kind(a->kind),
						status_text(m.from), wi_next_statuses_text(a->kind, m.from)));

	/* Wait type: from its column when mapped, else from the label. */
	if (a->wait_type.attno >= 0)
	{
		w = read_enum(a->wait_type, WI_ENUM_WAIT_TYPE, m.d, newt);
		if (m.to == WI_WAITING && (w < 0 || !wi_wait_type_allowed(a->kind, w)))
			breach(&m, R_WAIT_TYPE, "wait_type",
				   w < 0 ? ERRCODE_WI_INVALID_WAIT : ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED,
				   enforced(a, R_WAIT_TYPE),
				   w < 0 ? "waiting needs a wait type" : "wait type not allowed for the kind",
				   psprintf("Wait types %s may use: %s.", wi_a_kind(a->kind),
							wi_allowed_wait_types_text(a->kind)));
		if (m.to != WI_WAITING && w >= 0 && writes)
		{
			cols[ncols] = a->wait_type.attno + 1;
			nulls[ncols] = true;
			vals[ncols++] = (Datum) 0;
		}
	}
	else if (m.new_l != NULL)
		w = m.new_l->wait_type;
	/* Resolution: from its column when mapped, else from the label (checked by attach()). */
	if (a->resolution.attno >= 0)
		r = read_enum(a->resolution, WI_ENUM_RESOLUTION, m.d, newt);
	else if (m.new_l != NULL)
		r = m.new_l->resolution;
	if (a->resolution.attno >= 0 || r >= 0)
	{
		bool		done = m.to == WI_RESOLVED || m.to == WI_CLOSED;
		bool		entering = done && m.from != WI_RESOLVED && m.from != WI_CLOSED && (int) m.from >= 0;

		if (done && (r < 0 || !wi_resolution_allowed(a->kind, r) ||
					 (entering && m.to == WI_CLOSED && !wi_close_resolution_allowed(a->kind, m.from, r))))
			breach(&m, R_RESOLUTION, "resolution", ERRCODE_WI_RESOLUTION_NOT_ALLOWED,
				   enforced(a, R_RESOLUTION),
				   r < 0 ? "resolving needs a resolution" :
				   psprintf("resolution %s not allowed for the kind or for a direct close from %s",
							wi_enum_label(WI_ENUM_RESOLUTION, r), status_text(m.from)),
				   psprintf("Resolutions for %s: %s.", wi_a_kind(a->kind),
							wi_allowed_resolutions_text(a->kind)));
		if (!done && r >= 0 && a->resolution.attno >= 0 && writes)
		{
			cols[ncols] = a->resolution.attno + 1;
			nulls[ncols] = true;
			vals[ncols++] = (Datum) 0;
		}
	}

	/* only a reopen reads when the row was resolved */
	if (oldt != NULL && a->has_window && m.from == WI_RESOLVED && (int) m.to >= 0 &&
		m.to != WI_RESOLVED && m.to != WI_CLOSED)
		check_feedback_window(&m);

	/* the clocks' arguments are read only for a table under a policy */
	if ((int) m.to >= 0 && (policy = clock_policy(&m)) != 0)
		keep_clocks(&m, policy, oldt, m.from, m.to,
					oldt != NULL && m.from == WI_WAITING ? row_wait(a, m.d, oldt, m.old_l) : -1,
					m.to == WI_WAITING ? w : -1,
					oldt != NULL && row_assigned(a, m.d, oldt, m.from),
					assigns || row_assigned(a, m.d, newt, m.to), NULL);

	if (oldt == NULL)
	{
		log_attached(&m, "created", NULL, status_text(m.to), NULL);
		if (a->has_map)
			log_attached(&m, "label", NULL, m.new_label, NULL);
	}
	else
	{
		bool		label_moved = a->has_map &&
			(m.old_label == NULL || m.new_label == NULL ? m.old_label != m.new_label
			 : strcmp(m.old_label, m.new_label) != 0);

		if (m.from != m.to && (int) m.from >= 0 && (int) m.to >= 0)
			log_attached(&m, "status", status_text(m.from), status_text(m.to), NULL);
		if (label_moved)
			log_attached(&m, "label", m.old_label, m.new_label, NULL);
		if (m.from == m.to && !label_moved)
			goto done;
	}
	/* log_events => false: the table only wants the rules, at the cost of a bare UPDATE */
	if (a->log_events)
		wi_notify_move(InvalidOid, table, move_key(&m), oldt ? status_text(m.from) : NULL,
					   status_text(m.to), m.old_label, m.new_label, m.actor);

done:
	if (ncols == 0)
		return PointerGetDatum(newt);
	return PointerGetDatum(heap_modify_tuple_by_cols(newt, m.d, ncols, cols, vals, nulls));
}
