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
 *   the statement, whose currval this node cannot see: it must be of the
 *   sending node's range (the node in the global pid Citus puts in
 *   application_name), and within it is not checked further (README,
 *   "Scale out with Citus").
 * - The administrator: a member of workitem_admin, or the table's owner.
 *
 * Everything here runs in the BEFORE ROW triggers: no SQL, only caches.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "access/genam.h"
#include "access/relation.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "catalog/dependency.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_sequence.h"
#include "commands/sequence.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
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

/*
 * Citus: the group (pg_dist_node) of the node that sent this session's
 * statements, per backend; Citus invalidates pg_dist_node's relcache entry
 * when the nodes change.
 */
static int	sender_node = -1;
static int	sender_group_of = -1;
static Oid	dist_node = InvalidOid;

static void
seq_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == dist_node)
		sender_node = -1;
	/* the sequence's too: distribute_nodes() gives it its node's range */
	for (int i = 0; i < NSEQ_CACHE; i++)
		if (relid == InvalidOid || seq_cache[i].relid == relid || seq_cache[i].seqid == relid)
			seq_cache[i].relid = InvalidOid;
}

/*
 * The table whose identity rel's id column draws from: rel itself, or on
 * Citus the distributed table of which rel is a shard (no identity of its
 * own).
 */
static Oid
identity_table(Relation rel, AttrNumber *attnum, int idcol)
{
	Oid			logical;

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
	logical = wi_citus_table_of_shard(RelationGetRelid(rel));
	if (OidIsValid(logical))
	{
		*attnum = get_attnum(logical, NameStr(TupleDescAttr(RelationGetDescr(rel), idcol)->attname));
		return logical;
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

/*
 * The group of node id node in pg_dist_node, -1 when it is not there
 * (Citus gives a node missing from its metadata 99999999). No SQL: the
 * BEFORE ROW trigger runs this; cached.
 */
static int
group_of_node(int node)
{
	Relation	r;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tup;
	int			group = -1;

	if (node == sender_node)
		return sender_group_of;
	dist_node = get_relname_relid("pg_dist_node", PG_CATALOG_NAMESPACE);
	if (!OidIsValid(dist_node))
		return -1;
	r = table_open(dist_node, AccessShareLock);
	ScanKeyInit(&key, 1 /* nodeid */, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(node));
	scan = systable_beginscan(r, InvalidOid, false, NULL, 1, &key);
	if (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		bool		isnull;
		Datum		d = heap_getattr(tup, 2 /* groupid */, RelationGetDescr(r), &isnull);

		if (!isnull)
			group = DatumGetInt32(d);
	}
	systable_endscan(scan);
	table_close(r, AccessShareLock);
	sender_node = node;
	sender_group_of = group;
	return group;
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
	/* a shard named by its distributed table, which its owner owns */
	Oid			table = wi_citus() ? wi_citus_table_of_shard(RelationGetRelid(rel)) : InvalidOid;

	if (!OidIsValid(table))
		table = RelationGetRelid(rel);
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("%s %lld: the id of a new %s is drawn from %s.%s; only the owner of %s.%s gives one",
					what, (long long) id, what,
					get_namespace_name(get_rel_namespace(seqid)), get_rel_name(seqid),
					get_namespace_name(get_rel_namespace(table)), get_rel_name(table)),
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
	if ((v < seq->seqmin || v > seq->seqmax) && wi_citus_internal() && wi_citus())
	{
		/*
		 * Citus: drawn in the session of the node that sent it, whose
		 * currval this node cannot see; but from that node's range, which
		 * distribute_nodes() gives by group: g << 48 + 1 to (g + 1) << 48,
		 * the coordinator (group 0) below. A node missing from the
		 * metadata: not known, not checked.
		 */
		int			group = group_of_node(wi_citus_sender_node());
		Oid			table;

		if (group < 0 || (v > ((int64) group << 48) && v <= ((int64) (group + 1) << 48)))
			return;
		table = wi_citus_table_of_shard(RelationGetRelid(rel));
		if (!OidIsValid(table))
			table = RelationGetRelid(rel);
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("%s %lld: the id of a new %s is drawn from %s.%s; only the owner of %s.%s gives one",
						what, (long long) v, what,
						get_namespace_name(get_rel_namespace(seq->seqid)), get_rel_name(seq->seqid),
						get_namespace_name(get_rel_namespace(table)), get_rel_name(table)),
				 errdetail("It came from the node of group %d, which draws ids from %lld to %lld.",
						   group, (long long) (((int64) group << 48) + 1), (long long) ((int64) (group + 1) << 48)),
				 errhint("Leave the id column out: its default draws the next id.")));
	}
	if (session_currval(rel, seq->seqid, v, what) != v)
		refuse_id(rel, seq->seqid, v, what);
}
