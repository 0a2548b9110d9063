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
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "workitem.h"

/* Insert one tuple into rel's heap and every one of its indexes. */
static void
insert_tuple(Relation rel, HeapTuple tup)
{
	List	   *indexoids = RelationGetIndexList(rel);
	ListCell   *lc;
	EState	   *estate = NULL;
	TupleTableSlot *slot;

	simple_heap_insert(rel, tup);

	slot = MakeSingleTupleTableSlot(RelationGetDescr(rel), &TTSOpsHeapTuple);
	ExecStoreHeapTuple(tup, slot, false);

	foreach(lc, indexoids)
	{
		Relation	idx = index_open(lfirst_oid(lc), RowExclusiveLock);
		IndexInfo  *ii = BuildIndexInfo(idx);
		Datum		values[INDEX_MAX_KEYS];
		bool		isnull[INDEX_MAX_KEYS];

		/* Expression or partial indexes a DBA added need an executor state. */
		if (ii->ii_Expressions != NIL || ii->ii_Predicate != NIL)
		{
			ExprContext *econtext;

			if (estate == NULL)
				estate = CreateExecutorState();
			econtext = GetPerTupleExprContext(estate);
			econtext->ecxt_scantuple = slot;
			if (ii->ii_Predicate != NIL)
			{
				ExprState  *pred = ExecPrepareQual(ii->ii_Predicate, estate);

				if (!ExecQual(pred, econtext))
				{
					index_close(idx, NoLock);
					continue;
				}
			}
		}
		FormIndexDatum(ii, slot, estate, values, isnull);
		index_insert(idx, values, isnull, &tup->t_self, rel,
					 idx->rd_index->indisunique ? UNIQUE_CHECK_YES : UNIQUE_CHECK_NO,
#if PG_VERSION_NUM >= 140000
					 false,
#endif
					 ii);
		index_close(idx, NoLock);
	}
	ExecDropSingleTupleTableSlot(slot);
	if (estate != NULL)
		FreeExecutorState(estate);
	list_free(indexoids);
}

/* A row under construction: values by column name, the rest NULL. */
typedef struct RowBuilder
{
	Relation	rel;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
} RowBuilder;

static void
row_begin(RowBuilder *rb, const char *relname)
{
	Oid			relid = get_relname_relid(relname, wi_namespace());

	if (!OidIsValid(relid))
		elog(ERROR, "relation workitem.%s does not exist", relname);
	rb->rel = table_open(relid, RowExclusiveLock);
	rb->desc = RelationGetDescr(rb->rel);
	rb->values = palloc0(sizeof(Datum) * rb->desc->natts);
	rb->nulls = palloc(sizeof(bool) * rb->desc->natts);
	memset(rb->nulls, true, sizeof(bool) * rb->desc->natts);
}

static void
row_set(RowBuilder *rb, const char *column, Datum value, bool isnull)
{
	for (int i = 0; i < rb->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(rb->desc, i);

		if (!att->attisdropped && strcmp(NameStr(att->attname), column) == 0)
		{
			rb->values[i] = value;
			rb->nulls[i] = isnull;
			return;
		}
	}
	elog(ERROR, "column \"%s\" of workitem.%s does not exist",
		 column, RelationGetRelationName(rb->rel));
}

static void
row_set_text(RowBuilder *rb, const char *column, const char *s)
{
	row_set(rb, column, s ? CStringGetTextDatum(s) : (Datum) 0, s == NULL);
}

static int64
row_set_id(RowBuilder *rb, const char *seqname)
{
	Oid			seqid = get_relname_relid(seqname, wi_namespace());
	int64		id;

	if (!OidIsValid(seqid))
		elog(ERROR, "sequence workitem.%s does not exist", seqname);
	id = nextval_internal(seqid, false);
	row_set(rb, "id", Int64GetDatum(id), false);
	return id;
}

static void
row_finish(RowBuilder *rb)
{
	HeapTuple	tup = heap_form_tuple(rb->desc, rb->values, rb->nulls);

	insert_tuple(rb->rel, tup);
	heap_freetuple(tup);
	table_close(rb->rel, NoLock);
	pfree(rb->values);
	pfree(rb->nulls);
}

void
wi_log_event(const WiEvent *ev)
{
	RowBuilder	rb;

	row_begin(&rb, "event");
	row_set_id(&rb, "event_id_seq");
	row_set(&rb, "item_id", Int64GetDatum(ev->item_id), false);
	row_set(&rb, "source", ObjectIdGetDatum(ev->source), !OidIsValid(ev->source));
	row_set_text(&rb, "row_key", ev->row_key);
	row_set(&rb, "at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	row_set_text(&rb, "actor", ev->actor);
	row_set_text(&rb, "what", ev->what);
	row_set_text(&rb, "old_value", ev->old_value);
	row_set_text(&rb, "new_value", ev->new_value);
	row_set_text(&rb, "reason", ev->reason);
	row_finish(&rb);
}

/* An internal note on an item (the submission note, a resolution note). */
int64
wi_insert_note(int64 item_id, const char *subject, const char *body,
			   const char *author, bool is_resolution, bool is_description)
{
	RowBuilder	rb;
	int64		id;

	row_begin(&rb, "message");
	id = row_set_id(&rb, "message_id_seq");
	row_set(&rb, "item_id", Int64GetDatum(item_id), false);
	row_set(&rb, "direction", wi_enum_datum_by_name("direction", "internal"), false);
	row_set(&rb, "channel", wi_enum_datum_by_name("channel", "note"), false);
	row_set_text(&rb, "subject", subject);
	row_set_text(&rb, "body", body);
	row_set_text(&rb, "author", author);
	row_set(&rb, "at", TimestampTzGetDatum(GetCurrentTransactionStartTimestamp()), false);
	row_set(&rb, "is_resolution", BoolGetDatum(is_resolution), false);
	row_set(&rb, "is_description", BoolGetDatum(is_description), false);
	row_finish(&rb);
	return id;
}
