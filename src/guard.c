/*
 * guard.c: who may write what the engine owns (issue 18).
 *
 * - Ids: a new row of workitem.item, message or time_entry carries the id
 *   its column's identity sequence drew in this session (currval). An id
 *   given by hand far ahead of the sequence would make everybody's inserts
 *   fail with 23505 once the sequence reaches it. The tables' owner gives
 *   any id (migrations; pg_restore's COPY does not even reach the check).
 * - The administrator: a member of workitem_admin, or the table's owner.
 *
 * Everything here runs in the BEFORE ROW triggers: no SQL, only caches.
 */
#include "postgres.h"

#include "catalog/dependency.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "workitem.h"

/* The identity sequence of each of our tables' id column, per backend. */
#define NSEQ_CACHE 4
typedef struct SeqCache
{
	Oid			relid;
	Oid			seqid;
} SeqCache;
static SeqCache seq_cache[NSEQ_CACHE];
static bool seq_callback_set = false;

static void
seq_invalidate(Datum arg, Oid relid)
{
	for (int i = 0; i < NSEQ_CACHE; i++)
		if (relid == InvalidOid || seq_cache[i].relid == relid)
			seq_cache[i].relid = InvalidOid;
}

static Oid
identity_sequence(Relation rel, int idcol)
{
	Oid			relid = RelationGetRelid(rel);
	int			free_slot = 0;
	Oid			seqid;

	for (int i = 0; i < NSEQ_CACHE; i++)
	{
		if (seq_cache[i].relid == relid)
			return seq_cache[i].seqid;
		if (!OidIsValid(seq_cache[i].relid))
			free_slot = i;
	}
	if (!seq_callback_set)
	{
		wi_on_relcache(seq_invalidate);
		seq_callback_set = true;
	}
#if PG_VERSION_NUM >= 170000
	seqid = getIdentitySequence(rel, idcol + 1, false);
#else
	seqid = getIdentitySequence(relid, idcol + 1, false);
#endif
	seq_cache[free_slot].relid = relid;
	seq_cache[free_slot].seqid = seqid;
	return seqid;
}

/* The current user owns the table (or is a member of its owner, or superuser). */
bool
wi_owns_table(Relation rel)
{
	return has_privs_of_role(GetUserId(), rel->rd_rel->relowner);
}

/* What README calls the administrator: workitem_admin, or the table's owner. */
bool
wi_is_admin(Relation rel)
{
	Oid			admin;

	if (wi_owns_table(rel))
		return true;
	admin = get_role_oid("workitem_admin", true);
	return OidIsValid(admin) && has_privs_of_role(GetUserId(), admin);
}

static void
refuse_id(Relation rel, Oid seqid, int64 id, const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s %lld: the id of a new %s is drawn from %s.%s; only the owner of %s.%s gives one",
					what, (long long) id, what,
					get_namespace_name(get_rel_namespace(seqid)), get_rel_name(seqid),
					get_namespace_name(RelationGetNamespace(rel)), RelationGetRelationName(rel)),
			 errdetail("An id ahead of the sequence would make every later insert fail once the sequence reaches it."),
			 errhint("Leave the id column out: its default draws the next id.")));
}

/*
 * The id the sequence last drew in this session. With no draw yet (or no
 * right to read the sequence) the id was not drawn: refused at once, as
 * the error must not be swallowed without a subtransaction.
 */
static int64
session_currval(Relation rel, Oid seqid, int64 id, const char *what)
{
	MemoryContext cxt = CurrentMemoryContext;
	volatile int64 last = 0;

	PG_TRY();
	{
		last = DatumGetInt64(DirectFunctionCall1(currval_oid, ObjectIdGetDatum(seqid)));
	}
	PG_CATCH();
	{
		ErrorData  *e;

		MemoryContextSwitchTo(cxt);
		e = CopyErrorData();
		if (e->sqlerrcode != ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE &&
			e->sqlerrcode != ERRCODE_INSUFFICIENT_PRIVILEGE)
			PG_RE_THROW();
		FlushErrorState();
		refuse_id(rel, seqid, id, what);
	}
	PG_END_TRY();
	return last;
}

/*
 * A non-owner's new row must carry the id the sequence last drew in this
 * session: what the column's default gives (it is evaluated just before
 * the BEFORE ROW trigger of the same row), or an explicit nextval().
 * Cost per row: a membership test from the role cache and currval's
 * lookup in the session's sequence table.
 */
void
wi_check_drawn_id(Relation rel, int idcol, Datum id, bool isnull, const char *what)
{
	Oid			seqid;

	if (isnull || wi_owns_table(rel))
		return;					/* NULL: the NOT NULL constraint refuses it */
	seqid = identity_sequence(rel, idcol);
	if (session_currval(rel, seqid, DatumGetInt64(id), what) != DatumGetInt64(id))
		refuse_id(rel, seqid, DatumGetInt64(id), what);
}
