/*
 * eventlog.c: appends to workitem.event and workitem.message.
 *
 * Rows go straight into the heap and its indexes, not through SPI: it is
 * several times cheaper per row, and it needs no INSERT privilege, so the
 * activity log can be written by the trigger for any user while nobody but
 * its owner may write to it by hand (spec section 5).
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/heapam.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "commands/sequence.h"
#include "executor/executor.h"
#include "nodes/execnodes.h"
#include "utils/builtins.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"

#include "workitem.h"

/*
 * What an append needs to know about a target table, kept per backend:
 * the relation, its id sequence, and its indexes with their IndexInfo.
 * Dropped whenever the relation (or anything, InvalidOid) is invalidated.
 * A row is appended per logged change, so everything that can be worked out
 * once is kept here: only the locks are taken per row.
 */
typedef struct Target
{
	const char *relname;
	const char *seqname;
	Oid			relid;
	Oid			seqid;
	int			nindexes;
	Oid		   *indexes;
	IndexInfo **info;
	ExprState **pred;			/* partial indexes: their predicate, prepared once */
	EState	   *estate;			/* long-lived, for expressions and predicates */
	TupleTableSlot *slot;		/* reused by every row for its index entries */
} Target;

static Target event_target = {"event", "event_id_seq"};
static Target message_target = {"message", "message_id_seq"};
static bool callback_set = false;

static void
target_invalidate(Datum arg, Oid relid)
{
	Target	   *targets[2] = {&event_target, &message_target};

	for (int i = 0; i < 2; i++)
		if (relid == InvalidOid || relid == targets[i]->relid)
			targets[i]->relid = InvalidOid;
}

static Relation
target_open(Target *t)
{
	Relation	rel;

	if (!callback_set)
	{
		CacheRegisterRelcacheCallback(target_invalidate, (Datum) 0);
		callback_set = true;
	}
	if (!OidIsValid(t->relid))
	{
		Oid			relid = get_relname_relid(t->relname, wi_namespace());
		List	   *indexoids;
		ListCell   *lc;
		MemoryContext old;
		int			i = 0;

		if (!OidIsValid(relid))
			elog(ERROR, "relation workitem.%s does not exist", t->relname);
		t->seqid = get_relname_relid(t->seqname, wi_namespace());
		if (!OidIsValid(t->seqid))
			elog(ERROR, "sequence workitem.%s does not exist", t->seqname);
		rel = table_open(relid, RowExclusiveLock);
		indexoids = RelationGetIndexList(rel);
		old = MemoryContextSwitchTo(CacheMemoryContext);
		if (t->estate)
			FreeExecutorState(t->estate);
		t->estate = CreateExecutorState();
		if (t->slot)
		{
			TupleDesc	desc = t->slot->tts_tupleDescriptor;

			ExecDropSingleTupleTableSlot(t->slot);
			FreeTupleDesc(desc);
		}
		/* a copy: the slot outlives this relcache entry's descriptor */
		t->slot = MakeSingleTupleTableSlot(CreateTupleDescCopy(RelationGetDescr(rel)),
										   &TTSOpsHeapTuple);
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
		MemoryContextSwitchTo(old);
		t->relid = relid;
		return rel;
	}
	return table_open(t->relid, RowExclusiveLock);
}

/* Insert one tuple into the heap and every index of the target. */
static void
insert_tuple(Target *t, Relation rel, HeapTuple tup)
{
	ExprContext *econtext = GetPerTupleExprContext(t->estate);
	TupleTableSlot *slot = t->slot;

	simple_heap_insert(rel, tup);

	ExecStoreHeapTuple(tup, slot, false);
	econtext->ecxt_scantuple = slot;
	for (int i = 0; i < t->nindexes; i++)
	{
		Relation	idx;
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

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
		index_close(idx, NoLock);
	}
	econtext->ecxt_scantuple = NULL;
	ResetExprContext(econtext);
	ExecClearTuple(slot);
}

/* A row under construction: values by column name, the rest NULL. */
typedef struct RowBuilder
{
	Target	   *target;
	Relation	rel;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} RowBuilder;

static void
row_begin(RowBuilder *rb, Target *t)
{
	rb->target = t;
	rb->rel = target_open(t);
	rb->desc = RelationGetDescr(rb->rel);
	rb->values = palloc0(sizeof(Datum) * rb->desc->natts);
	rb->nulls = palloc(sizeof(bool) * rb->desc->natts);
	memset(rb->nulls, true, sizeof(bool) * rb->desc->natts);
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
	HeapTuple	tup = heap_form_tuple(rb->desc, rb->values, rb->nulls);

	insert_tuple(rb->target, rb->rel, tup);
	heap_freetuple(tup);
	table_close(rb->rel, NoLock);
	pfree(rb->values);
	pfree(rb->nulls);
}

void
wi_log_event(const WiEvent *ev)
{
	RowBuilder	rb;

	row_begin(&rb, &event_target);
	row_set_id(&rb);
	row_set(&rb, 1, "item_id", Int64GetDatum(ev->item_id), ev->item_id == 0);
	row_set(&rb, 2, "source", ObjectIdGetDatum(ev->source), !OidIsValid(ev->source));
	row_set_text(&rb, 3, "row_key", ev->row_key);
	row_set(&rb, 4, "at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	row_set_text(&rb, 5, "actor", ev->actor);
	row_set_text(&rb, 6, "what", ev->what);
	row_set_text(&rb, 7, "old_value", ev->old_value);
	row_set_text(&rb, 8, "new_value", ev->new_value);
	row_set_text(&rb, 9, "reason", ev->reason);
	row_finish(&rb);
}

/* An internal note on an item (the submission note, a resolution note). */
int64
wi_insert_note(int64 item_id, const char *subject, const char *body,
			   const char *author, bool is_resolution, bool is_description)
{
	RowBuilder	rb;
	int64		id;

	row_begin(&rb, &message_target);
	id = row_set_id(&rb);
	row_set(&rb, 1, "item_id", Int64GetDatum(item_id), false);
	row_set(&rb, 2, "direction", wi_enum_datum_by_name("direction", "internal"), false);
	row_set(&rb, 3, "channel", wi_enum_datum_by_name("channel", "note"), false);
	row_set_text(&rb, 4, "subject", subject);
	row_set_text(&rb, 5, "body", body);
	row_set_text(&rb, 6, "author", author);
	row_set(&rb, 7, "at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	row_set(&rb, 8, "is_resolution", BoolGetDatum(is_resolution), false);
	row_set(&rb, 9, "is_description", BoolGetDatum(is_description), false);
	row_finish(&rb);

	/*
	 * A note is a change to the item like any message (spec section 5); this
	 * row does not pass through the message trigger, so it is logged here.
	 */
	wi_log_message(item_id, author, "internal", "note", id);
	return id;
}

/* The log row of a message or note: what = message, "inbound email #12". */
void
wi_log_message(int64 item_id, const char *actor, const char *direction,
			   const char *channel, int64 message_id)
{
	WiEvent		ev = {0};

	ev.item_id = item_id;
	ev.actor = actor;
	ev.what = "message";
	ev.new_value = psprintf("%s %s #%lld", direction, channel, (long long) message_id);
	wi_log_event(&ev);
}
