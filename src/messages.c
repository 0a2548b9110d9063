/*
 * messages.c: what a message does to its item (spec section 2), in the
 * trigger workitem.on_message() on workitem.message, so that a mail
 * gateway's plain INSERT and workitem.record_message() behave alike:
 *   - inbound on a waiting item wakes it (highlighted);
 *   - inbound on a resolved item reopens it within its feedback window;
 *     after the window it closes it and starts a follow-up ticket;
 *   - inbound on a closed item starts a follow-up ticket (follows_id) that
 *     copies category and contacts, and the message is stored there;
 *   - the first message of a draft with no title and description fills them.
 * The item row is locked first, so a reply and a resolve of the same item
 * serialise: either order leaves a valid item and the message stored.
 */
#include "postgres.h"

#include "access/htup_details.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "moves.h"
#include "workitem.h"

/* The item a message is for, as locked. */
typedef struct MsgItem
{
	int64		id;
	WiKind		kind;
	WiStatus	status;
	int			wait_type;		/* -1 when not waiting */
	Datum		tenant;			/* text, in the caller's memory; 0 before 1.2.0 */
	bool		feedback_over;
	bool		blank_draft;	/* no title and no description */
} MsgItem;

static MsgItem
lock_item(int64 id, Datum tenant)
{
	Oid			types[3] = {INT8OID, TEXTOID, TIMESTAMPTZOID};
	Datum		values[3] = {Int64GetDatum(id), tenant, TimestampTzGetDatum(wi_now())};
	char		nulls[3] = {' ', tenant ? ' ' : 'n', ' '};
	MsgItem		it = {0};
	HeapTuple	t;
	TupleDesc	d;
	bool		isnull;
	Datum		v;

	if (wi_execute("SELECT kind, status, wait_type, "
							  " feedback_until OPERATOR(pg_catalog.<) $3, "
							  " pg_catalog.btrim(COALESCE(title, '')) OPERATOR(pg_catalog.=) '' "
							  " AND pg_catalog.btrim(COALESCE(description, '')) OPERATOR(pg_catalog.=) '' "
							  "[[, tenant]] "
							  "FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1"
							  "{{ AND tenant OPERATOR(pg_catalog.=) $2}} FOR UPDATE",
							  3, types, values, nulls, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem: locking item %lld failed", (long long) id);
	if (SPI_processed == 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld does not exist", (long long) id)));
	t = SPI_tuptable->vals[0];
	d = SPI_tuptable->tupdesc;
	it.id = id;
	it.kind = wi_enum_index(WI_ENUM_KIND, SPI_getbinval(t, d, 1, &isnull));
	it.status = wi_enum_index(WI_ENUM_STATUS, SPI_getbinval(t, d, 2, &isnull));
	v = SPI_getbinval(t, d, 3, &isnull);
	it.wait_type = isnull ? -1 : wi_enum_index(WI_ENUM_WAIT_TYPE, v);
	v = SPI_getbinval(t, d, 4, &isnull);
	it.feedback_over = !isnull && DatumGetBool(v);
	it.blank_draft = it.status == WI_DRAFT && DatumGetBool(SPI_getbinval(t, d, 5, &isnull));
	if (d->natts >= 6)
		it.tenant = SPI_datumTransfer(SPI_getbinval(t, d, 6, &isnull), false, -1);
	return it;
}

/* An engine move of the item, with a reason for the log. */
static void
move_item(MsgItem *it, const char *set, const char *reason, int nextra, Datum *extra)
{
	Oid			types[5] = {INT8OID, TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	Assert(nextra <= 2);
	values[0] = Int64GetDatum(it->id);
	values[1] = CStringGetTextDatum(reason);
	for (int i = 0; i < nextra; i++)
		values[2 + i] = extra[i];
	/* Citus: routed by the item's tenant, the last argument */
	values[2 + nextra] = it->tenant;
	nulls[2 + nextra] = it->tenant ? ' ' : 'n';
	wi_engine_exec(psprintf("UPDATE workitem.item SET %s, change_reason = $2 "
							"WHERE id OPERATOR(pg_catalog.=) $1{{ AND tenant OPERATOR(pg_catalog.=) $%d}}",
							set, 3 + nextra),
				   3 + nextra, types, values, nulls);
}

/* A new ticket that follows a closed item; returns its id. */
static int64
follow_up_ticket(int64 closed_id, Datum tenant, Datum subject, bool subject_null,
				 Datum body, bool body_null)
{
	Oid			types[3] = {INT8OID, TEXTOID, TEXTOID};
	Datum		values[3] = {Int64GetDatum(closed_id), subject, body};
	char		nulls[3] = {' ', subject_null ? 'n' : ' ', body_null ? 'n' : ' '};
	bool		isnull;
	const char *sql;

	/*
	 * Submitted at once when it has what a submission needs. On Citus the
	 * trigger runs on the shard, where Citus refuses this INSERT ... SELECT
	 * (a distributed query nested in a shard's): it runs on this node's
	 * shard of the tenant, plain PostgreSQL there (src/citus.c), its id
	 * drawn here (a shard has no identity default) from the node's range.
	 */
	sql = "INSERT INTO workitem.item ({{id, }}kind, status, follows_id, title, description, "
		" category, primary_contact, requester, priority, highlighted[[, tenant]]) "
		"SELECT {{pg_catalog.nextval('workitem.item_id_seq'::pg_catalog.regclass), }}'ticket', CASE WHEN pg_catalog.btrim(COALESCE($2, '')) OPERATOR(pg_catalog.<>) '' "
					 "  AND pg_catalog.btrim(COALESCE($3, '')) OPERATOR(pg_catalog.<>) '' "
					 "  AND pg_catalog.btrim(COALESCE(category, '')) OPERATOR(pg_catalog.<>) '' "
					 "  AND pg_catalog.btrim(COALESCE(primary_contact, '')) OPERATOR(pg_catalog.<>) '' "
					 "  AND pg_catalog.btrim(COALESCE(requester, '')) OPERATOR(pg_catalog.<>) '' "
					 "  THEN 'to_do'::workitem.status ELSE 'draft'::workitem.status END, "
					 " id, $2, $3, category, primary_contact, requester, priority, true[[, tenant]] "
					 "FROM workitem.item WHERE id OPERATOR(pg_catalog.=) $1 RETURNING id";
	if (tenant != (Datum) 0 && wi_citus())
		sql = wi_local_sql(sql, TextDatumGetCString(tenant));
	wi_engine_exec(sql, 3, types, values, nulls);
	return DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
}

/*
 * What a message says about itself is the engine's: the resolution-note
 * and description marks, and when it was recorded (a note dated in the
 * future would count as "since the last status change" for ever). A
 * row from anybody but the table's owner leaves them at their defaults.
 */
static void
check_provenance(Relation rel, TupleDesc d, Datum *v, bool *n, bool *repl, int64 item_id)
{
	static const char *const flags[2] = {"is_resolution", "is_description"};
	int			c_at = wi_attno(d, "at", "workitem.on_message");
	/* on Citus the coordinator's now(), the default evaluated there (src/engine.c) */
	TimestampTz now = n[c_at] ? wi_now() : wi_carried_now(DatumGetTimestampTz(v[c_at]));
	bool		forged_at = !n[c_at] && DatumGetTimestampTz(v[c_at]) != now;
	int			forged_flag = -1;
	char	   *recorded;
	char	   *given;

	for (int i = 0; i < 2; i++)
	{
		int			col = wi_attno(d, flags[i], "workitem.on_message");

		if (forged_flag < 0 && !n[col] && DatumGetBool(v[col]))
			forged_flag = i;
	}
	if ((forged_flag < 0 && !forged_at) || wi_owns_table(rel))
		return;
	if (forged_flag >= 0)
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("message for item %lld: %s is set only by the engine",
						(long long) item_id, flags[forged_flag]),
				 errhint(forged_flag == 0
						 ? "Resolving the item marks its resolution note: pass the note to workitem.resolve(), or record an outbound message or note first."
						 : "Submitting the item makes its description the first note.")));
	/*
	 * Citus: a time after this node's now(), or other than the one this
	 * transaction already got from the coordinator, is replaced by it.
	 */
	if (wi_citus_internal() && wi_citus())
	{
		v[c_at] = TimestampTzGetDatum(now);
		repl[c_at] = true;
		return;
	}
	/* timestamptz_to_str() returns a static buffer: one copy per value */
	recorded = pstrdup(timestamptz_to_str(now));
	given = pstrdup(timestamptz_to_str(DatumGetTimestampTz(v[c_at])));
	ereport(ERROR,
			(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
			 errmsg("message for item %lld: at is the time the message is recorded (%s), not %s",
					(long long) item_id, recorded, given),
			 errhint("Leave at out; a date the message carries belongs in its subject or body.")));
}

PG_FUNCTION_INFO_V1(workitem_on_message);
Datum
workitem_on_message(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	TupleDesc	d;
	HeapTuple	tup;
	Datum	   *v;
	bool	   *n;
	bool	   *repl;
	int			c_item, c_dir, c_subject, c_body, c_author, c_id, c_channel, c_tenant;
	char	   *tenant;
	MsgItem		it;
	bool		inbound;
	char	   *actor = wi_actor();
	int64		item_id;
	WiEvent		ev = {0};

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BEFORE(td->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.on_message() must be a BEFORE INSERT ROW trigger")));
	if (wi_restoring_dump(td))
		return PointerGetDatum(td->tg_trigtuple);

	d = RelationGetDescr(td->tg_relation);
	tup = td->tg_trigtuple;
	v = palloc(sizeof(Datum) * d->natts);
	n = palloc(sizeof(bool) * d->natts);
	repl = palloc0(sizeof(bool) * d->natts);
	heap_deform_tuple(tup, d, v, n);
	c_id = wi_attno(d, "id", "workitem.on_message");
	c_item = wi_attno(d, "item_id", "workitem.on_message");
	c_dir = wi_attno(d, "direction", "workitem.on_message");
	c_channel = wi_attno(d, "channel", "workitem.on_message");
	c_subject = wi_attno(d, "subject", "workitem.on_message");
	c_body = wi_attno(d, "body", "workitem.on_message");
	c_author = wi_attno(d, "author", "workitem.on_message");
	c_tenant = wi_attno_opt(d, "tenant");

	if (n[c_item] || n[c_dir] || n[c_channel])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("a message needs an item, a direction and a channel")));
	item_id = DatumGetInt64(v[c_item]);
	wi_check_drawn_id(td->tg_relation, c_id, v[c_id], n[c_id], "message");
	check_provenance(td->tg_relation, d, v, n, repl, item_id);
	inbound = v[c_dir] == wi_enum_datum_by_name("direction", "inbound");
	if (n[c_author])
	{
		v[c_author] = CStringGetTextDatum(actor);
		n[c_author] = false;
		repl[c_author] = true;
	}

	SPI_connect();
	it = lock_item(item_id, c_tenant >= 0 && !n[c_tenant] ? v[c_tenant] : (Datum) 0);
	/* a message belongs to its item's tenant (a follow-up keeps it) */
	if (c_tenant >= 0 && it.tenant != (Datum) 0)
	{
		v[c_tenant] = it.tenant;
		n[c_tenant] = false;
		repl[c_tenant] = true;
	}
	if (it.status == WI_RESOLVED && inbound && it.feedback_over)
	{
		/* The window is over but no timer closed it yet: close it now. */
		move_item(&it, "status = 'closed'::workitem.status",
				  "feedback window over", 0, NULL);
		it.status = WI_CLOSED;
	}
	if (it.status == WI_CLOSED)
	{
		if (!inbound)
			ereport(ERROR,
					(errcode(ERRCODE_WI_ITEM_CLOSED),
					 errmsg("item %lld is closed: no message can be added to it",
							(long long) it.id),
					 errhint("Only an inbound message is taken: it starts a follow-up ticket.")));
		item_id = wi_citus() && it.tenant
			? wi_follow_up_routed(it.id, TextDatumGetCString(it.tenant), v[c_subject], n[c_subject],
								  v[c_body], n[c_body], actor)
			: follow_up_ticket(it.id, it.tenant, v[c_subject], n[c_subject], v[c_body], n[c_body]);
		v[c_item] = Int64GetDatum(item_id);
		repl[c_item] = true;
		ev.item_id = it.id;
		ev.tenant = it.tenant ? TextDatumGetCString(it.tenant) : NULL;
		ev.actor = actor;
		ev.what = "followed_by";
		ev.new_value = psprintf("%lld", (long long) item_id);
		wi_log_event(&ev);
	}
	else if (it.status == WI_WAITING && inbound &&
			 it.wait_type != WI_SPLIT && it.wait_type != WI_CASE_LAUNCHED)
		move_item(&it, WI_WAKE_SET, "reply received", 0, NULL);
	else if (it.status == WI_RESOLVED && inbound)
		move_item(&it, WI_WAKE_SET, "reply received within the feedback window", 0, NULL);
	else if (it.blank_draft && it.kind == WI_TICKET)
	{
		Datum		extra[2] = {v[c_subject], v[c_body]};

		if (!n[c_subject] && !n[c_body])
			move_item(&it, "title = $3, description = $4", "filled from the first message",
					  2, extra);
	}
	SPI_finish();
	tenant = it.tenant ? TextDatumGetCString(it.tenant) : NULL;

	/* The first outbound message meets the first_response target. */
	if (v[c_dir] == wi_enum_datum_by_name("direction", "outbound"))
		wi_sla_first_response(item_id, tenant);

	wi_log_message(item_id, tenant, actor,
				   DatumGetCString(DirectFunctionCall1(enum_out, v[c_dir])),
				   DatumGetCString(DirectFunctionCall1(enum_out, v[c_channel])),
				   n[c_id] ? 0 : DatumGetInt64(v[c_id]));

	return PointerGetDatum(heap_modify_tuple(tup, d, v, n, repl));
}

/* workitem.record_message(id, direction, channel, subject, body, author) */
PG_FUNCTION_INFO_V1(workitem_record_message);
Datum
workitem_record_message(PG_FUNCTION_ARGS)
{
	Oid			types[7] = {INT8OID, wi_enum_typoid_by_name("direction"),
		wi_enum_typoid_by_name("channel"), TEXTOID, TEXTOID, TEXTOID, TEXTOID};
	Datum		values[7];
	char		nulls[7];
	bool		isnull;
	int64		id;
	static const char *const names[3] = {"item id", "direction", "channel"};

	for (int i = 0; i < 6; i++)
	{
		if (i < 3 && PG_ARGISNULL(i))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("%s must not be NULL", names[i])));
		values[i] = PG_ARGISNULL(i) ? (Datum) 0 : PG_GETARG_DATUM(i);
		nulls[i] = PG_ARGISNULL(i) ? 'n' : ' ';
	}
	SPI_connect();
	/* Citus: the item's tenant routes the row (the trigger sets it anyway) */
	values[6] = wi_item_tenant(DatumGetInt64(values[0]));
	nulls[6] = values[6] ? ' ' : 'n';
	if (wi_citus() && values[6] == (Datum) 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_ITEM_NOT_FOUND),
				 errmsg("item %lld does not exist", (long long) DatumGetInt64(values[0]))));
	if (wi_execute("INSERT INTO workitem.message "
							  "(item_id, direction, channel, subject, body, author{{, tenant}}) "
							  "VALUES ($1, $2, $3, $4, $5, $6{{, $7}}) RETURNING id",
							  7, types, values, nulls, false, 1) != SPI_OK_INSERT_RETURNING)
		elog(ERROR, "workitem: recording a message failed");
	id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (wi_citus())
		wi_notify_worker_moves(values[6]);	/* its item woken, a follow-up ticket */
	SPI_finish();
	PG_RETURN_INT64(id);
}
