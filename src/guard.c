/*
 * guard.c: who may write what the engine owns (issue 18).
 *
 * - Ids: a new row of workitem.item, message or time_entry carries the id
 *   its column's identity sequence drew in this session (currval). An id
 *   given by hand far ahead of the sequence would make everybody's inserts
 *   fail with 23505 once the sequence reaches it. The tables' owner gives
 *   any id (migrations; pg_restore's COPY does not even reach the check).
 *   On Citus the trigger runs on a shard, which has no identity: the
 *   sequence is the distributed table's (each node's copy has its own
 *   range, workitem.distribute_nodes()). An id of another node's range
 *   arriving on Citus's own connection was drawn in the session that sent
 *   the statement (the coordinator's), whose currval this node cannot see:
 *   that one is not checked here (README, "Scale out with Citus").
 * - The administrator: a member of workitem_admin, or the table's owner.
 *
 * Everything here runs in the BEFORE ROW triggers: no SQL, only caches.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/relation.h"
#include "catalog/dependency.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/syscache.h"

#include "workitem.h"

/* The identity sequence of each of our tables' id column, per backend. */
#define NSEQ_CACHE 4
typedef struct SeqCache
{
	Oid			relid;
	Oid			seqid;
	int64		seqmin;			/* the range this node draws from */
	int64		seqmax;
} SeqCache;
static SeqCache seq_cache[NSEQ_CACHE];
static bool seq_callback_set = false;

static void
seq_invalidate(Datum arg, Oid relid)
{
	/* the sequence's too: distribute_nodes() gives it its node's range */
	for (int i = 0; i < NSEQ_CACHE; i++)
		if (relid == InvalidOid || seq_cache[i].relid == relid || seq_cache[i].seqid == relid)
			seq_cache[i].relid = InvalidOid;
}

/*
 * The table whose identity rel's id column draws from: rel itself, or on
 * Citus the distributed table of which rel is a shard ("<name>_<shardid>",
 * no identity of its own).
 */
static Oid
identity_table(Relation rel, AttrNumber *attnum, int idcol)
{
	char	   *name;
	char	   *p;

	*attnum = idcol + 1;
	if (!wi_citus())
		return RelationGetRelid(rel);
#if PG_VERSION_NUM >= 170000
	if (OidIsValid(getIdentitySequence(rel, idcol + 1, true)))
		return RelationGetRelid(rel);
#else
	if (OidIsValid(getIdentitySequence(RelationGetRelid(rel), idcol + 1, true)))
		return RelationGetRelid(rel);
#endif
	name = pstrdup(RelationGetRelationName(rel));
	p = strrchr(name, '_');
	if (p != NULL && p[1] != '\0' && strspn(p + 1, "0123456789") == strlen(p + 1))
	{
		Oid			logical;

		*p = '\0';
		logical = get_relname_relid(name, RelationGetNamespace(rel));
		if (OidIsValid(logical))
		{
			*attnum = get_attnum(logical, NameStr(TupleDescAttr(RelationGetDescr(rel), idcol)->attname));
			return logical;
		}
	}
	return RelationGetRelid(rel);	/* getIdentitySequence() then says what is wrong */
}

static SeqCache *
identity_sequence(Relation rel, int idcol)
{
	Oid			relid = RelationGetRelid(rel);
	int			free_slot = 0;
	Oid			table;
	AttrNumber	attnum;
	Oid			seqid;
	HeapTuple	tup;

	for (int i = 0; i < NSEQ_CACHE; i++)
	{
		if (seq_cache[i].relid == relid)
			return &seq_cache[i];
		if (!OidIsValid(seq_cache[i].relid))
			free_slot = i;
	}
	if (!seq_callback_set)
	{
		wi_on_relcache(seq_invalidate);
		seq_callback_set = true;
	}
	table = identity_table(rel, &attnum, idcol);
#if PG_VERSION_NUM >= 170000
	if (table == relid)
		seqid = getIdentitySequence(rel, attnum, false);
	else
	{
		Relation	t = relation_open(table, AccessShareLock);

		seqid = getIdentitySequence(t, attnum, false);
		relation_close(t, AccessShareLock);
	}
#else
	seqid = getIdentitySequence(table, attnum, false);
#endif
	tup = SearchSysCache1(SEQRELID, ObjectIdGetDatum(seqid));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for sequence %u", seqid);
	seq_cache[free_slot].seqmin = ((Form_pg_sequence) GETSTRUCT(tup))->seqmin;
	seq_cache[free_slot].seqmax = ((Form_pg_sequence) GETSTRUCT(tup))->seqmax;
	ReleaseSysCache(tup);
	seq_cache[free_slot].relid = relid;
	seq_cache[free_slot].seqid = seqid;
	return &seq_cache[free_slot];
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
	SeqCache   *seq;
	int64		v = DatumGetInt64(id);

	if (isnull || wi_owns_table(rel))
		return;					/* NULL: the NOT NULL constraint refuses it */
	seq = identity_sequence(rel, idcol);
	/* Citus: drawn by the node that sent it, not checkable here (see above) */
	if ((v < seq->seqmin || v > seq->seqmax) && wi_citus_internal() && wi_citus())
		return;
	if (session_currval(rel, seq->seqid, v, what) != v)
		refuse_id(rel, seq->seqid, v, what);
}
