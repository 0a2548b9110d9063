/*
 * eventlog.c: appends to workitem.event and workitem.message.
 *
 * Rows go straight into the heap and its indexes, not through SPI: it is
 * several times cheaper per row, and it needs no INSERT privilege, so the
 * activity log can be written by the trigger for any user while nobody but
 * its owner may write to it by hand (spec section 5). What the executor
 * would add to such a row is done here too: defaults of columns the owner
 * added, NOT NULL, CHECK and exclusion constraints, and indexes only once
 * they are ready for inserts.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "executor/spi.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "rewrite/rewriteHandler.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "workitem.h"

/*
 * What an append needs to know about a target table, kept per backend:
 * the relation, its id sequence, its indexes with their IndexInfo, and what
 * the executor would apply to a row it does not fill in itself: column
 * defaults, NOT NULL and CHECK constraints (a column the owner added).
 * A row is appended per logged change, so everything that can be worked out
 * once is kept here: only the locks are taken per row.
 *
 * An invalidation of the relation (or of all, InvalidOid) only marks it;
 * it is checked after the table's lock is taken, since taking the lock is
 * where pending invalidations are accepted (a new index, a column), and
 * rebuilt then, in the target's own context, reset each time.
 */
typedef struct LogTable
{
	const char *relname;
	const char *seqname;
	Oid			relid;			/* what the cache below describes */
	bool		valid;			/* cleared by an invalidation of relid */
	bool		built;			/* the last build completed */
	Oid			seqid;
	MemoryContext cxt;			/* all of the below */
	int			nindexes;
	Oid		   *indexes;
	IndexInfo **info;
	ExprState **pred;			/* partial indexes: their predicate, prepared once */
	Node	  **default_exprs;	/* per column: its default (NULL: none) */
	ExprState **defaults;		/* ... prepared at its first use (NULL: not yet) */
	int			nchecks;
	ExprState **checks;			/* CHECK constraints, and their names */
	char	  **check_names;
	EState	   *estate;			/* long-lived, for expressions and predicates */
	TupleTableSlot *slot;		/* reused by every row for its index entries */
	/* Citus: the shard on this node of the last tenant written */
	char	   *shard_tenant;
	Oid			shard_relid;
} LogTable;

static LogTable event_target = {"event", "event_id_seq"};
static LogTable message_target = {"message", "message_id_seq"};
static bool callback_set = false;

static void
target_invalidate(Datum arg, Oid relid)
{
	LogTable	   *targets[2] = {&event_target, &message_target};

	for (int i = 0; i < 2; i++)
	{
		if (relid == InvalidOid || relid == targets[i]->relid)
			targets[i]->valid = false;

		/*
		 * One of its indexes: an index AM's state in our IndexInfo (BRIN's
		 * BrinDesc in ii_AmCache, before PG17) points into the index's
		 * relcache entry, which is freed and rebuilt now (a VACUUM or
		 * ANALYZE updates its pg_class row): a backend crashed in
		 * brin_memtuple_initialize() on the next row. Rebuilt at the next row.
		 */
		else if (targets[i]->valid && targets[i]->built)
			for (int k = 0; k < targets[i]->nindexes; k++)
				if (targets[i]->indexes[k] == relid)
					targets[i]->valid = false;
		if (relid == InvalidOid || relid == targets[i]->shard_relid)
			targets[i]->shard_relid = InvalidOid;	/* moved, dropped */
	}
}

/*
 * On Citus the trigger runs on a shard of workitem.item, and
 * workitem.event and workitem.message here are the node's empty shells: a
 * row of an item goes into the shard of its tenant, colocated with the
 * item's on this node (doc/citus-findings.md, section 5). Its id comes from
 * this node's range of the sequence (workitem.distribute()).
 */
static Oid
citus_shard(LogTable *t, const char *tenant)
{
	Oid			types[2] = {TEXTOID, TEXTOID};
	Datum		values[2];
	bool		isnull;
	Datum		d;
	WiSavedUser user;

	if (OidIsValid(t->shard_relid) && strcmp(t->shard_tenant, tenant) == 0)
		return t->shard_relid;
	values[0] = CStringGetTextDatum(psprintf("workitem.%s", t->relname));
	values[1] = CStringGetTextDatum(tenant);
	/* as the schema's owner: Citus checks the caller's rights on the table (none on event) */
	wi_become_owner(&user);
	SPI_connect();
	if (wi_execute("SELECT pg_catalog.to_regclass(pg_catalog.shard_name($1::pg_catalog.regclass,"
				   " pg_catalog.get_shard_id_for_distribution_column($1::pg_catalog.regclass, $2)))::pg_catalog.oid",
				   2, types, values, NULL, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "workitem: finding the shard of workitem.%s for tenant \"%s\" failed",
			 t->relname, tenant);
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	SPI_finish();
	wi_restore_user(&user);
	if (isnull)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("workitem: the shard of workitem.%s for tenant \"%s\" is not on this node",
						t->relname, tenant),
				 errhint("Rows of an item are written on the node of the item's shard.")));
	if (t->shard_tenant)
		pfree(t->shard_tenant);
	t->shard_tenant = MemoryContextStrdup(TopMemoryContext, tenant);
	t->shard_relid = DatumGetObjectId(d);
	return t->shard_relid;
}

/* (Re)builds the cache of t from rel, opened and locked by the caller. */
static void
target_build(LogTable *t, Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	List	   *indexoids = RelationGetIndexList(rel);
	ListCell   *lc;
	MemoryContext old;
	int			i = 0;

	t->seqid = get_relname_relid(t->seqname, wi_namespace());
	if (!OidIsValid(t->seqid))
		elog(ERROR, "sequence workitem.%s does not exist", t->seqname);

	/* the previous build: nothing points into it any more */
	if (t->slot)
		ExecDropSingleTupleTableSlot(t->slot);
	if (t->estate)
		FreeExecutorState(t->estate);
	t->slot = NULL;
	t->estate = NULL;
	if (t->cxt == NULL)
		t->cxt = AllocSetContextCreate(CacheMemoryContext, "workitem log target",
									   ALLOCSET_SMALL_SIZES);
	else
		MemoryContextReset(t->cxt);

	old = MemoryContextSwitchTo(t->cxt);
	t->estate = CreateExecutorState();
	/* a copy: the slot outlives this relcache entry's descriptor */
	t->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(desc), &TTSOpsHeapTuple);
	t->nindexes = list_length(indexoids);
	t->indexes = palloc(sizeof(Oid) * (t->nindexes + 1));
	t->info = palloc(sizeof(IndexInfo *) * (t->nindexes + 1));
	t->pred = palloc0(sizeof(ExprState *) * (t->nindexes + 1));
	foreach(lc, indexoids)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);

		t->indexes[i] = lfirst_oid(lc);
		t->info[i] = BuildIndexInfo(idx);
		if (t->info[i]->ii_Predicate != NIL)
			t->pred[i] = ExecPrepareQual(t->info[i]->ii_Predicate, t->estate);
		index_close(idx, NoLock);
		i++;
	}

	/* What INSERT would add or check on its own */
	t->default_exprs = palloc0(sizeof(Node *) * Max(desc->natts, 1));
	t->defaults = palloc0(sizeof(ExprState *) * Max(desc->natts, 1));
	for (int c = 0; c < desc->natts; c++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, c);

		if (att->attisdropped)
			continue;
		if (att->attgenerated)
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("workitem.%s has a generated column \"%s\", which the activity log cannot fill",
							t->relname, NameStr(att->attname)),
					 errhint("Drop the column, or make it a plain column with a default.")));
		/*
		 * Prepared only when a row needs it: preparing checks the right to
		 * call its functions, and the columns the engine sets itself (the
		 * tenant's default calls workitem.current_tenant()) must not need
		 * that right from whoever writes an attached table.
		 */
		t->default_exprs[c] = build_column_default(rel, c + 1);
	}
	t->nchecks = desc->constr ? desc->constr->num_check : 0;
	t->checks = palloc(sizeof(ExprState *) * Max(t->nchecks, 1));
	t->check_names = palloc(sizeof(char *) * Max(t->nchecks, 1));
	for (int c = 0; c < t->nchecks; c++)
	{
		ConstrCheck *check = &desc->constr->check[c];

		t->checks[c] = ExecPrepareExpr((Expr *) stringToNode(check->ccbin), t->estate);
		t->check_names[c] = pstrdup(check->ccname);
	}
	MemoryContextSwitchTo(old);
}

/* The table (or on Citus the tenant's shard), locked, with its cache built. */
static Relation
target_open(LogTable *t, const char *tenant)
{
	Relation	rel;
	Oid			relid = t->valid && t->built ? t->relid : InvalidOid;

	if (!callback_set)
	{
		wi_on_relcache(target_invalidate);
		callback_set = true;
	}
	if (wi_citus())
		relid = citus_shard(t, tenant ? tenant : wi_current_tenant());
	if (!OidIsValid(relid))
	{
		relid = get_relname_relid(t->relname, wi_namespace());
		if (!OidIsValid(relid))
			elog(ERROR, "relation workitem.%s does not exist", t->relname);
	}
	/* Lock first: this accepts pending invalidations, seen by the check below. */
	rel = table_open(relid, RowExclusiveLock);
	while (!t->valid || !t->built || t->relid != relid)
	{
		t->relid = relid;
		t->valid = true;		/* an invalidation during the build clears it */
		t->built = false;		/* an error during the build leaves it unset */
		target_build(t, rel);
		t->built = true;
	}
	return rel;
}

/* NOT NULL and CHECK, as the executor tests a row it inserts. */
static void
check_constraints(LogTable *t, Relation rel, TupleTableSlot *slot, ExprContext *econtext)
{
	TupleDesc	desc = RelationGetDescr(rel);

	if (desc->constr == NULL)
		return;
	if (desc->constr->has_not_null)
	{
		slot_getallattrs(slot);
		for (int c = 0; c < desc->natts; c++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, c);

			if (att->attnotnull && !att->attisdropped && slot->tts_isnull[c])
				ereport(ERROR,
						(errcode(ERRCODE_NOT_NULL_VIOLATION),
						 errmsg("null value in column \"%s\" of relation \"%s\" violates not-null constraint",
								NameStr(att->attname), RelationGetRelationName(rel)),
						 errtablecol(rel, c + 1)));
		}
	}
	for (int c = 0; c < t->nchecks; c++)
		if (!ExecCheck(t->checks[c], econtext))
			ereport(ERROR,
					(errcode(ERRCODE_CHECK_VIOLATION),
					 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
							RelationGetRelationName(rel), t->check_names[c]),
					 errtableconstraint(rel, t->check_names[c])));
}

/* Insert one tuple into the heap and every index of the target. */
static void
insert_tuple(LogTable *t, Relation rel, HeapTuple tup)
{
	ExprContext *econtext = GetPerTupleExprContext(t->estate);
	TupleTableSlot *slot = t->slot;

	ExecStoreHeapTuple(tup, slot, false);
	econtext->ecxt_scantuple = slot;
	check_constraints(t, rel, slot, econtext);
	simple_heap_insert(rel, tup);

	for (int i = 0; i < t->nindexes; i++)
	{
		Relation	idx;
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		/* as ExecInsertIndexTuples: not an index still being built concurrently */
		if (!t->info[i]->ii_ReadyForInserts)
			continue;
		if (t->pred[i] != NULL && !ExecQual(t->pred[i], econtext))
			continue;
		idx = index_open(t->indexes[i], RowExclusiveLock);
		FormIndexDatum(t->info[i], slot, t->estate, values, isnull);
#if PG_VERSION_NUM >= 170000

		/*
		 * PG17 lets an index AM keep state in ii_AmCache from one
		 * index_insert() to the next until index_insert_cleanup(); BRIN
		 * (event_at_idx) keeps buffer pins there. Our IndexInfo outlives the
		 * transaction, so the state is this row's alone: built in per-tuple
		 * memory (reset below) and cleaned up right after the insert.
		 */
		t->info[i]->ii_AmCache = NULL;	/* left over by an error: stale */
		t->info[i]->ii_Context = econtext->ecxt_per_tuple_memory;
#endif
		index_insert(idx, values, isnull, &tup->t_self, rel,
					 idx->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
#if PG_VERSION_NUM >= 140000
					 false,
#endif
					 t->info[i]);
#if PG_VERSION_NUM >= 170000
		index_insert_cleanup(idx, t->info[i]);
		t->info[i]->ii_AmCache = NULL;	/* a cleanup need not reset it */
#endif
		if (t->info[i]->ii_ExclusionOps != NULL)
			check_exclusion_constraint(rel, idx, t->info[i], &tup->t_self, values, isnull,
									   t->estate, false);
		index_close(idx, NoLock);
	}
	econtext->ecxt_scantuple = NULL;
	ResetExprContext(econtext);
	ExecClearTuple(slot);
}

/* A row under construction: values by column name, the rest NULL. */
typedef struct RowBuilder
{
	LogTable	   *target;
	Relation	rel;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	bool	   *set;			/* given by the caller; the others get their default */
} RowBuilder;

static void
row_begin(RowBuilder *rb, LogTable *t, const char *tenant)
{
	rb->target = t;
	rb->rel = target_open(t, tenant);
	rb->desc = RelationGetDescr(rb->rel);
	rb->values = palloc0(sizeof(Datum) * rb->desc->natts);
	rb->nulls = palloc(sizeof(bool) * rb->desc->natts);
	memset(rb->nulls, true, sizeof(bool) * rb->desc->natts);
	rb->set = palloc0(sizeof(bool) * rb->desc->natts);
}

/* Our columns come first and in order; a search is the fallback. */
static void
row_set(RowBuilder *rb, int guess, const char *column, Datum value, bool isnull)
{
	int			i = guess;

	if (i >= rb->desc->natts || TupleDescAttr(rb->desc, i)->attisdropped ||
		strcmp(NameStr(TupleDescAttr(rb->desc, i)->attname), column) != 0)
	{
		for (i = 0; i < rb->desc->natts; i++)
			if (!TupleDescAttr(rb->desc, i)->attisdropped &&
				strcmp(NameStr(TupleDescAttr(rb->desc, i)->attname), column) == 0)
				break;
		if (i == rb->desc->natts)
			elog(ERROR, "column \"%s\" of workitem.%s does not exist",
				 column, RelationGetRelationName(rb->rel));
	}
	rb->values[i] = value;
	rb->nulls[i] = isnull;
	rb->set[i] = true;
}

/* Whether the table has the column (guess: its usual index). */
static bool
row_has(RowBuilder *rb, int guess, const char *column)
{
	if (guess < rb->desc->natts && !TupleDescAttr(rb->desc, guess)->attisdropped &&
		strcmp(NameStr(TupleDescAttr(rb->desc, guess)->attname), column) == 0)
		return true;
	for (int i = 0; i < rb->desc->natts; i++)
		if (!TupleDescAttr(rb->desc, i)->attisdropped &&
			strcmp(NameStr(TupleDescAttr(rb->desc, i)->attname), column) == 0)
			return true;
	return false;
}

static void
row_set_text(RowBuilder *rb, int guess, const char *column, const char *s)
{
	row_set(rb, guess, column, s ? CStringGetTextDatum(s) : (Datum) 0, s == NULL);
}

static int64
row_set_id(RowBuilder *rb)
{
	int64		id = nextval_internal(rb->target->seqid, false);

	row_set(rb, 0, "id", Int64GetDatum(id), false);
	return id;
}

static void
row_finish(RowBuilder *rb)
{
	LogTable	   *t = rb->target;
	HeapTuple	tup;

	/* columns the caller does not know of (added later) get their default */
	for (int i = 0; i < rb->desc->natts; i++)
		if (!rb->set[i] && t->default_exprs[i] != NULL)
		{
			if (t->defaults[i] == NULL)
			{
				MemoryContext old = MemoryContextSwitchTo(t->cxt);

				t->defaults[i] = ExecPrepareExpr((Expr *) t->default_exprs[i], t->estate);
				MemoryContextSwitchTo(old);
			}
			rb->values[i] = ExecEvalExprSwitchContext(t->defaults[i], GetPerTupleExprContext(t->estate),
													  &rb->nulls[i]);
		}
	tup = heap_form_tuple(rb->desc, rb->values, rb->nulls);
	insert_tuple(t, rb->rel, tup);
	heap_freetuple(tup);
	table_close(rb->rel, NoLock);
	pfree(rb->values);
	pfree(rb->nulls);
	pfree(rb->set);
}

void
wi_log_event(const WiEvent *ev)
{
	RowBuilder	rb;

	row_begin(&rb, &event_target, ev->tenant);
	row_set_id(&rb);
	row_set(&rb, 1, "item_id", Int64GetDatum(ev->item_id), ev->item_id == 0);
	row_set(&rb, 2, "source", ObjectIdGetDatum(ev->source), !OidIsValid(ev->source));
	row_set_text(&rb, 3, "row_key", ev->row_key);
	row_set(&rb, 4, "at", TimestampTzGetDatum(wi_now()), false);
	row_set_text(&rb, 5, "actor", ev->actor);
	row_set_text(&rb, 6, "what", ev->what);
	row_set_text(&rb, 7, "old_value", ev->old_value);
	row_set_text(&rb, 8, "new_value", ev->new_value);
	row_set_text(&rb, 9, "reason", ev->reason);
	/*
	 * The item's tenant, else (a row of an attached table) the setting's,
	 * read here rather than through the column's default: whoever writes an
	 * attached table may have no right to call workitem.current_tenant().
	 * A schema from before 1.2.0 has no tenant column.
	 */
	if (ev->tenant != NULL)
		row_set_text(&rb, 10, "tenant", ev->tenant);
	else if (row_has(&rb, 10, "tenant"))
		row_set_text(&rb, 10, "tenant", wi_current_tenant());
	row_finish(&rb);
}

/* An internal note on an item (the submission note, a resolution note). */
int64
wi_insert_note(int64 item_id, const char *tenant, const char *subject, const char *body,
			   const char *author, bool is_resolution, bool is_description)
{
	RowBuilder	rb;
	int64		id;

	row_begin(&rb, &message_target, tenant);
	id = row_set_id(&rb);
	row_set(&rb, 1, "item_id", Int64GetDatum(item_id), false);
	row_set(&rb, 2, "direction", wi_enum_datum_by_name("direction", "internal"), false);
	row_set(&rb, 3, "channel", wi_enum_datum_by_name("channel", "note"), false);
	row_set_text(&rb, 4, "subject", subject);
	row_set_text(&rb, 5, "body", body);
	row_set_text(&rb, 6, "author", author);
	row_set(&rb, 7, "at", TimestampTzGetDatum(wi_now()), false);
	row_set(&rb, 8, "is_resolution", BoolGetDatum(is_resolution), false);
	row_set(&rb, 9, "is_description", BoolGetDatum(is_description), false);
	if (tenant != NULL)			/* NULL: a schema before 1.2.0 */
		row_set_text(&rb, 10, "tenant", tenant);
	row_finish(&rb);

	/*
	 * A note is a change to the item like any message (spec section 5); this
	 * row does not pass through the message trigger, so it is logged here.
	 */
	wi_log_message(item_id, tenant, author, "internal", "note", id);
	return id;
}

/* The log row of a message or note: what = message, "inbound email #12". */
void
wi_log_message(int64 item_id, const char *tenant, const char *actor, const char *direction,
			   const char *channel, int64 message_id)
{
	WiEvent		ev = {0};

	ev.item_id = item_id;
	ev.tenant = tenant;
	ev.actor = actor;
	ev.what = "message";
	ev.new_value = psprintf("%s %s #%lld", direction, channel, (long long) message_id);
	wi_log_event(&ev);
}
