/*
 * transition.c: workitem.enforce_transition(), the BEFORE ROW trigger that
 * holds the lifecycle contract (spec sections 1, 2 and 5) for every INSERT,
 * UPDATE and DELETE of workitem.item, whoever issues it.
 *
 * The checks read only the compiled tables of rules.c: no query runs for
 * them. Queries run only where the contract needs other rows: the category
 * config read at submit, and the resolution note.
 */
#include "postgres.h"

#include <ctype.h>

#include "access/htup_details.h"
#include "access/xact.h"
#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "lib/stringinfo.h"
#include "utils/builtins.h"
#include "port/pg_bitutils.h"
#include "utils/datum.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"
#include "utils/timestamp.h"

#include "workitem.h"

/* The columns the trigger reads or writes, as 0-based attribute indexes. */
typedef struct ItemCols
{
	int			id, kind, status, wait_type, wait_reason, wait_until,
				close_if_no_reply, resolution, resolution_note, title,
				description, category, primary_contact, requester, assignee,
				case_id, parent_id, priority, sla_policy_id, merged_into, needs_attention, attention_reason,
				highlighted, feedback_window, feedback_until,
				require_resolution_note, days_to_wait, created_at,
				submitted_at, status_changed_at, first_resolved_at,
				first_resolved_by, resolved_at, resolved_by, closed_at,
				change_reason, follows_id, tenant, change_actor, change_at;
} ItemCols;

/* Columns whose changes are logged, besides status (spec section 5). */
static const char *const logged_columns[] = {
	"wait_type", "wait_until", "close_if_no_reply", "resolution", "assignee",
	"priority", "impact", "type", "category", "title", "description",
	"primary_contact", "requester", "queue", "case_id", "parent_id",
	"merged_into", "follows_id", "needs_attention", "feedback_window",
};
#define NLOGGED lengthof(logged_columns)

static Oid	cols_relid = InvalidOid;
static ItemCols cols;
static int	logged_attno[NLOGGED];
static bool relcache_callback_set = false;

static void
cols_invalidate(Datum arg, Oid relid)
{
	if (relid == InvalidOid || relid == cols_relid)
		cols_relid = InvalidOid;
}

static void
load_cols(Relation rel)
{
	TupleDesc	d = RelationGetDescr(rel);

	if (cols_relid == RelationGetRelid(rel))
		return;
	if (!relcache_callback_set)
	{
		wi_on_relcache(cols_invalidate);
		relcache_callback_set = true;
	}
#define COL(f) cols.f = wi_attno(d, #f, "workitem.enforce_transition")
	COL(id); COL(kind); COL(status); COL(wait_type); COL(wait_reason);
	COL(wait_until); COL(close_if_no_reply); COL(resolution);
	COL(resolution_note); COL(title); COL(description); COL(category);
	COL(primary_contact); COL(requester); COL(assignee); COL(case_id); COL(parent_id); COL(priority); COL(sla_policy_id);
	COL(merged_into); COL(needs_attention); COL(attention_reason);
	COL(highlighted); COL(feedback_window); COL(feedback_until);
	COL(require_resolution_note); COL(days_to_wait); COL(created_at);
	COL(submitted_at); COL(status_changed_at); COL(first_resolved_at);
	COL(first_resolved_by); COL(resolved_at); COL(resolved_by);
	COL(closed_at); COL(change_reason); COL(follows_id);
	cols.tenant = wi_attno_opt(d, "tenant");	/* -1: a schema before 1.2.0 */
	cols.change_actor = wi_attno_opt(d, "change_actor");
	cols.change_at = wi_attno_opt(d, "change_at");
#undef COL
	for (int i = 0; i < (int) NLOGGED; i++)
		logged_attno[i] = wi_attno(d, logged_columns[i], "workitem.enforce_transition");
	cols_relid = RelationGetRelid(rel);
}

/* One row as deformed arrays; "new" is written back by the trigger. */
typedef struct Row
{
	Datum	   *v;
	bool	   *n;
} Row;

/* One call of the trigger: the change it checks, the rows before and after. */
typedef struct ItemChange
{
	TupleDesc	desc;
	Row			old;			/* valid only when has_old */
	Row			new;
	bool		has_old;
	int64		id;
	WiKind		kind;
	WiStatus	from;
	WiStatus	to;
	char	   *actor;
	char	   *reason;
	char	   *tenant;			/* the item's: every row written for it takes it */
	TimestampTz now;
	bool		by_engine;
	uint8		rules_set;		/* rule columns set by this statement (by an admin) */
} ItemChange;

static Row
deform(TupleDesc desc, HeapTuple tup)
{
	Row			r;

	r.v = palloc(sizeof(Datum) * desc->natts);
	r.n = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(tup, desc, r.v, r.n);
	return r;
}

static void
set_null(ItemChange *c, int col)
{
	c->new.n[col] = true;
	c->new.v[col] = (Datum) 0;
}

static void
set_value(ItemChange *c, int col, Datum v)
{
	c->new.n[col] = false;
	c->new.v[col] = v;
}

static void
set_ts(ItemChange *c, int col, TimestampTz t)
{
	set_value(c, col, TimestampTzGetDatum(t));
}

static void
set_text(ItemChange *c, int col, const char *s)
{
	if (s == NULL)
		set_null(c, col);
	else
		set_value(c, col, CStringGetTextDatum(s));
}

static void
keep_old(ItemChange *c, int col)
{
	if (c->has_old)
	{
		c->new.v[col] = c->old.v[col];
		c->new.n[col] = c->old.n[col];
	}
	else
		set_null(c, col);
}

/* A text column that is NULL or only white space counts as missing. */
static bool
blank(ItemChange *c, int col)
{
	char	   *s;

	if (c->new.n[col])
		return true;
	s = TextDatumGetCString(c->new.v[col]);
	for (; *s; s++)
		if (!isspace((unsigned char) *s))
			return false;
	return true;
}

static char *
text_or_null(Row *r, int col)
{
	return r->n[col] ? NULL : TextDatumGetCString(r->v[col]);
}

static bool
same_value(Form_pg_attribute att, Datum a, bool an, Datum b, bool bn)
{
	if (an || bn)
		return an == bn;
	if (att->attlen == -1)
	{
		struct varlena *x = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(a));
		struct varlena *y = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(b));

		return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(y) &&
			memcmp(VARDATA_ANY(x), VARDATA_ANY(y), VARSIZE_ANY_EXHDR(x)) == 0;
	}
	return datumIsEqual(a, b, att->attbyval, att->attlen);
}

/* Did this statement change the column? (Always "yes" on INSERT.) */
static bool
changed(ItemChange *c, int col)
{
	if (!c->has_old)
		return true;
	return !same_value(TupleDescAttr(c->desc, col), c->old.v[col], c->old.n[col],
					   c->new.v[col], c->new.n[col]);
}

static char *
value_text(ItemChange *c, Row *r, int col)
{
	Oid			typoutput;
	bool		isvarlena;

	if (r->n[col])
		return NULL;
	getTypeOutputInfo(TupleDescAttr(c->desc, col)->atttypid, &typoutput, &isvarlena);
	return OidOutputFunctionCall(typoutput, r->v[col]);
}

static const char *
kind_name(WiKind k)
{
	return wi_enum_label(WI_ENUM_KIND, k);
}

static const char *
status_name(WiStatus s)
{
	return wi_enum_label(WI_ENUM_STATUS, s);
}

static void
log_event(ItemChange *c, const char *what, const char *oldv, const char *newv)
{
	WiEvent		ev = {0};

	ev.item_id = c->id;
	ev.tenant = c->tenant;
	ev.actor = c->actor;
	ev.what = what;
	ev.old_value = oldv;
	ev.new_value = newv;
	ev.reason = c->reason;
	wi_log_event(&ev);
}

static TimestampTz
ts_plus(TimestampTz t, Interval *iv)
{
	return DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
												   TimestampTzGetDatum(t),
												   PointerGetDatum(iv)));
}

static bool
interval_is_zero(Interval *iv)
{
	return iv->month == 0 && iv->day == 0 && iv->time == 0;
}

/* ----------------------------------------------------------------------
 * Refusals
 * ---------------------------------------------------------------------- */

void
wi_refuse_move(int64 id, WiKind kind, WiStatus from, WiStatus to, const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_INVALID_TRANSITION),
			 errmsg("item %lld: %s cannot move from %s to %s",
					(long long) id, wi_a_kind(kind), status_name(from), status_name(to)),
			 detail ? errdetail("%s", detail) : 0,
			 errhint("Valid next statuses for %s in %s: %s.",
					 wi_a_kind(kind), status_name(from),
					 wi_next_statuses_text(kind, from))));
}

static void
refuse_transition(ItemChange *c, const char *detail)
{
	wi_refuse_move(c->id, c->kind, c->from, c->to, detail);
}

/* ----------------------------------------------------------------------
 * Submission: leaving draft for real work
 * ---------------------------------------------------------------------- */

static void
check_required_fields(ItemChange *c)
{
	StringInfoData missing;
	int			nmissing = 0;

#define REQUIRE(col, label) \
	do { if (blank(c, cols.col)) { \
		appendStringInfo(&missing, "%s%s", nmissing++ ? ", " : "", label); } } while (0)

	initStringInfo(&missing);
	REQUIRE(title, "title");
	if (c->kind == WI_TICKET)
	{
		REQUIRE(description, "description");
		REQUIRE(category, "category");
		REQUIRE(primary_contact, "primary_contact");
		REQUIRE(requester, "requester");
	}
#undef REQUIRE
	if (nmissing > 0)
		ereport(ERROR,
				(errcode(ERRCODE_WI_MISSING_FIELDS),
				 errmsg("item %lld: %s cannot be submitted with %d required field%s missing",
						(long long) c->id, wi_a_kind(c->kind), nmissing,
						nmissing == 1 ? "" : "s"),
				 errdetail("Missing: %s.", missing.data),
				 errhint("A ticket needs title, description, category, primary_contact and requester; a case needs a title.")));
}

/* Copy the category's defaults onto the item, where the item has none (src/config.c). */
static void
apply_category_config(ItemChange *c)
{
	WiCategoryDefaults d;

	if (c->new.n[cols.category])
		return;
	if (!wi_config_category(c->kind, text_or_null(&c->new, cols.category), &d))
		return;
	if (!d.feedback_window_null && c->new.n[cols.feedback_window])
	{
		Interval   *iv = palloc(sizeof(Interval));

		*iv = d.feedback_window;
		set_value(c, cols.feedback_window, IntervalPGetDatum(iv));
	}
	if (!d.require_note_null && c->new.n[cols.require_resolution_note])
		set_value(c, cols.require_resolution_note, BoolGetDatum(d.require_note));
	if (!d.days_to_wait_null && c->new.n[cols.days_to_wait])
		set_value(c, cols.days_to_wait, Int32GetDatum(d.days_to_wait));
}

static void
submit(ItemChange *c)
{
	check_required_fields(c);
	set_ts(c, cols.submitted_at, c->now);
	apply_category_config(c);
	/* The description becomes the item's first note (spec section 2). */
	if (!blank(c, cols.description))
		wi_insert_note(c->id, c->tenant, text_or_null(&c->new, cols.title),
					   text_or_null(&c->new, cols.description), c->actor, false, true);
}

/* ----------------------------------------------------------------------
 * Waiting
 * ---------------------------------------------------------------------- */

static bool
reserved_wait(WiWaitType w)
{
	return w == WI_SPLIT || w == WI_CASE_LAUNCHED;
}

static void
check_wait(ItemChange *c)
{
	WiWaitType	w;
	bool		entering;

	if (c->new.n[cols.wait_type])
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_WAIT),
				 errmsg("item %lld: waiting needs a wait type", (long long) c->id),
				 errhint("Wait types %s may use: %s.", wi_a_kind(c->kind),
						 wi_allowed_wait_types_text(c->kind))));
	w = wi_enum_index(WI_ENUM_WAIT_TYPE, c->new.v[cols.wait_type]);
	if (!wi_wait_type_allowed(c->kind, w))
		ereport(ERROR,
				(errcode(ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED),
				 errmsg("item %lld: wait type %s is not allowed for %s",
						(long long) c->id, wi_enum_label(WI_ENUM_WAIT_TYPE, w),
						wi_a_kind(c->kind)),
				 errhint("Wait types %s may use: %s.", wi_a_kind(c->kind),
						 wi_allowed_wait_types_text(c->kind))));

	entering = c->from != WI_WAITING || changed(c, cols.wait_type);
	/*
	 * Citus: split() and launch_case() make this move through the
	 * coordinator, in another process than this trigger's, which does not
	 * see their engine flag; they make the children first, which are
	 * checked instead (a query only for this move, only on Citus).
	 */
	if (entering && reserved_wait(w) && !c->by_engine &&
		!(c->tenant != NULL && wi_citus() &&
		  wi_has_open_child(c->id, c->tenant, w == WI_SPLIT ? WI_TICKET : WI_CASE)))
		ereport(ERROR,
				(errcode(ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED),
				 errmsg("item %lld: wait type %s is set only by %s",
						(long long) c->id, wi_enum_label(WI_ENUM_WAIT_TYPE, w),
						w == WI_SPLIT ? "workitem.split()" : "workitem.launch_case()")));

	/* more_info: the days to wait default to the category's. */
	if (w == WI_MORE_INFO && entering && c->new.n[cols.wait_until] &&
		!c->new.n[cols.days_to_wait])
	{
		Interval	days = {0};

		days.day = DatumGetInt32(c->new.v[cols.days_to_wait]);
		set_ts(c, cols.wait_until, ts_plus(c->now, &days));
	}
	if (w == WI_FOLLOW_UP && c->new.n[cols.wait_until])
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_WAIT),
				 errmsg("item %lld: a follow_up wait needs a date and time (wait_until)",
						(long long) c->id)));
	if (!c->new.n[cols.wait_until] && (entering || changed(c, cols.wait_until)))
	{
		TimestampTz until = DatumGetTimestampTz(c->new.v[cols.wait_until]);

		if (TIMESTAMP_NOT_FINITE(until) || until <= c->now)
			ereport(ERROR,
					(errcode(ERRCODE_WI_INVALID_WAIT),
					 errmsg("item %lld: wait_until %s is not a time in the future",
							(long long) c->id, timestamptz_to_str(until)),
					 errhint("Give a finite time after now().")));
	}
	if (!c->new.n[cols.wait_until] && w != WI_MORE_INFO && w != WI_FOLLOW_UP)
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_WAIT),
				 errmsg("item %lld: a %s wait takes no wait_until",
						(long long) c->id, wi_enum_label(WI_ENUM_WAIT_TYPE, w))));
	if (DatumGetBool(c->new.v[cols.close_if_no_reply]) &&
		(w != WI_MORE_INFO || c->new.n[cols.wait_until]))
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_WAIT),
				 errmsg("item %lld: close_if_no_reply needs a more_info wait with days to wait",
						(long long) c->id)));
}

static void
clear_wait(ItemChange *c)
{
	set_null(c, cols.wait_type);
	set_null(c, cols.wait_reason);
	set_null(c, cols.wait_until);
	set_value(c, cols.close_if_no_reply, BoolGetDatum(false));
}

/* ----------------------------------------------------------------------
 * Resolving and closing
 * ---------------------------------------------------------------------- */

/*
 * The mark of the resolution communication. On Citus the trigger runs on
 * the item's shard, where a query of workitem.message would be a
 * distributed query nested in the shard's: it names this node's shard of
 * the tenant instead (src/citus.c).
 */
static const char *
note_sql(const char *tenant)
{
	const char *sql = "UPDATE workitem.message SET is_resolution = true "
		   "WHERE id OPERATOR(pg_catalog.=) ("
		   " SELECT m.id FROM workitem.message m"
		   " WHERE m.item_id OPERATOR(pg_catalog.=) $1"
		    " AND m.direction OPERATOR(pg_catalog.<>) 'inbound'::workitem.direction"
		   " AND NOT m.is_description"
		   " AND m.at OPERATOR(pg_catalog.>=) $2"
		   " ORDER BY m.at DESC, m.id DESC LIMIT 1)";

	return tenant != NULL && wi_citus() ? wi_local_sql(sql, tenant) : sql;
}

/*
 * The resolution-note rule: a note passed with the resolution, or an
 * outbound message or internal note since the last status change (which
 * includes this transaction), marked as the resolution communication.
 */
static void
resolution_note(ItemChange *c, bool required)
{
	Oid			argtypes[2] = {INT8OID, TIMESTAMPTZOID};
	Datum		args[2];
	int			ret;
	bool		found;
	WiSavedUser user;

	if (!c->new.n[cols.resolution_note] && changed(c, cols.resolution_note) &&
		!blank(c, cols.resolution_note))
	{
		wi_insert_note(c->id, c->tenant, "Resolution", text_or_null(&c->new, cols.resolution_note),
					   c->actor, true, false);
		return;
	}
	if (!required)
		return;

	args[0] = Int64GetDatum(c->id);
	args[1] = c->has_old ? c->old.v[cols.status_changed_at] : TimestampTzGetDatum(c->now);
	SPI_connect();
	wi_become_owner(&user);
	ret = wi_execute(note_sql(c->tenant),
								2, argtypes, args, NULL, false, 0);
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "workitem: marking the resolution message failed: %s",
			 SPI_result_code_string(ret));
	found = SPI_processed > 0;
	wi_restore_user(&user);
	SPI_finish();
	if (!found)
		ereport(ERROR,
				(errcode(ERRCODE_WI_RESOLUTION_NOTE_REQUIRED),
				 errmsg("item %lld: resolving this %s needs a resolution note",
						(long long) c->id, kind_name(c->kind)),
				 errdetail("Its category requires a resolution communication, and no outbound message or note was recorded since its last status change."),
				 errhint("Pass a note: workitem.resolve(%lld, ..., note => '...'), or record an outbound message first.",
						 (long long) c->id)));
}

static void
refuse_resolution(ItemChange *c, WiResolution r, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_RESOLUTION_NOT_ALLOWED),
			 errmsg("item %lld: resolution %s is not allowed for %s in %s",
					(long long) c->id, wi_enum_label(WI_ENUM_RESOLUTION, r),
					wi_a_kind(c->kind), status_name(c->from)),
			 errdetail("%s", why),
			 errhint("Resolutions for %s: %s.", wi_a_kind(c->kind),
					 wi_choosable_resolutions_text(c->kind))));
}

static void
enter_done(ItemChange *c)
{
	WiResolution r;
	bool		needs_note;

	if (c->new.n[cols.resolution])
		ereport(ERROR,
				(errcode(ERRCODE_WI_RESOLUTION_NOT_ALLOWED),
				 errmsg("item %lld: moving %s to %s needs a resolution",
						(long long) c->id, wi_a_kind(c->kind), status_name(c->to)),
				 errhint("Resolutions for %s: %s.", wi_a_kind(c->kind),
						 wi_choosable_resolutions_text(c->kind))));
	r = wi_enum_index(WI_ENUM_RESOLUTION, c->new.v[cols.resolution]);
	if (!wi_resolution_allowed(c->kind, r))
		refuse_resolution(c, r, "The resolution does not belong to this kind of item.");
	if (r == WI_MERGED && c->new.n[cols.merged_into])
		refuse_resolution(c, r, "A merged item names the item it was merged into (merged_into); use workitem.merge().");
	if (r == WI_SPLIT_COMPLETED && !c->by_engine)
		refuse_resolution(c, r, "A split ticket resolves itself when its last child is done.");
	if (c->to == WI_CLOSED && !wi_close_resolution_allowed(c->kind, c->from, r))
		refuse_resolution(c, r, "Only spam, unknown_sender, cancelled and merged close an item directly (no_customer_response from waiting); resolve it first.");
	if (r == WI_UNABLE_TO_COMPLETE)
	{
		if (c->reason == NULL && blank(c, cols.resolution_note))
			ereport(ERROR,
					(errcode(ERRCODE_WI_REASON_REQUIRED),
					 errmsg("item %lld: unable_to_complete needs a reason", (long long) c->id),
					 errhint("Pass the reason as the note of workitem.resolve() or as change_reason.")));
		if (blank(c, cols.resolution_note))
			set_text(c, cols.resolution_note, c->reason);
	}

	/* Some resolutions, every action, and no feedback window: closed at once. */
	if (c->to == WI_RESOLVED &&
		(wi_resolution_closes(c->kind, r) || c->new.n[cols.feedback_window] ||
		 interval_is_zero((Interval *) DatumGetPointer(c->new.v[cols.feedback_window]))))
	{
		c->to = WI_CLOSED;
		set_value(c, cols.status, wi_enum_datum(WI_ENUM_STATUS, WI_CLOSED));
	}

	needs_note = c->kind != WI_ACTION &&
		!c->new.n[cols.require_resolution_note] &&
		DatumGetBool(c->new.v[cols.require_resolution_note]) &&
		!wi_resolution_closes(c->kind, r) && !c->by_engine;
	resolution_note(c, needs_note);

	set_ts(c, cols.resolved_at, c->now);
	set_text(c, cols.resolved_by, c->actor);
	if (c->new.n[cols.first_resolved_at])
	{
		set_ts(c, cols.first_resolved_at, c->now);
		set_text(c, cols.first_resolved_by, c->actor);
	}
	if (c->to == WI_RESOLVED)
		set_ts(c, cols.feedback_until,
			   ts_plus(c->now, (Interval *) DatumGetPointer(c->new.v[cols.feedback_window])));
	else
		set_ts(c, cols.closed_at, c->now);
}

static void
reopen(ItemChange *c)
{
	if (!c->old.n[cols.feedback_until] &&
		c->now > DatumGetTimestampTz(c->old.v[cols.feedback_until]))
		ereport(ERROR,
				(errcode(ERRCODE_WI_FEEDBACK_WINDOW_OVER),
				 errmsg("item %lld: the feedback window of this %s closed at %s",
						(long long) c->id, kind_name(c->kind),
						timestamptz_to_str(DatumGetTimestampTz(c->old.v[cols.feedback_until]))),
				 errhint("Close it; a new message for it starts a follow-up item.")));
	set_null(c, cols.resolution);
	set_null(c, cols.resolution_note);
	set_null(c, cols.resolved_at);
	set_null(c, cols.resolved_by);
	set_null(c, cols.feedback_until);
}

/* ----------------------------------------------------------------------
 * Rule columns: copied from category_config at submission, then the
 * engine's. Only an administrator sets them (issue 18), and it is logged.
 * ---------------------------------------------------------------------- */

#define NRULECOLS 3

static int
rule_col(int i)
{
	return i == 0 ? cols.feedback_window : i == 1 ? cols.require_resolution_note : cols.days_to_wait;
}

/*
 * Which rule columns this statement sets (an INSERT giving a value, an
 * UPDATE changing it); refused unless the user is an administrator. Three
 * datum comparisons for every other row: no query, no catalog lookup.
 */
static uint8
guard_rule_columns(ItemChange *c, Relation rel)
{
	uint8		set = 0;

	for (int i = 0; i < NRULECOLS; i++)
		if (c->has_old ? changed(c, rule_col(i)) : !c->new.n[rule_col(i)])
			set |= 1 << i;
	if (set != 0 && !wi_is_admin(rel))
	{
		int			col = rule_col(pg_rightmost_one_pos32(set));
		char	   *v = value_text(c, &c->new, col);

		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("item %lld: %s is copied from workitem.category_config at submission; only workitem_admin may set it",
						(long long) c->id, NameStr(TupleDescAttr(c->desc, col)->attname)),
				 errdetail("Value given: %s.", v ? v : "NULL"),
				 errhint("Ask an administrator: such a change is logged.")));
	}
	return set;
}

/* The administrator's changes, after the move's rows (feedback_window is in logged_columns). */
static void
log_rule_columns(ItemChange *c)
{
	for (int i = 0; i < NRULECOLS; i++)
	{
		int			col = rule_col(i);

		if (!(c->rules_set & (1 << i)) || (c->has_old && col == cols.feedback_window))
			continue;
		log_event(c, NameStr(TupleDescAttr(c->desc, col)->attname),
				  c->has_old ? value_text(c, &c->old, col) : NULL, value_text(c, &c->new, col));
	}
}

/* ----------------------------------------------------------------------
 * The trigger
 * ---------------------------------------------------------------------- */

/* Columns only the trigger writes: a caller's value is ignored. */
static void
restore_owned_columns(ItemChange *c)
{
	keep_old(c, cols.submitted_at);
	keep_old(c, cols.first_resolved_at);
	keep_old(c, cols.first_resolved_by);
	keep_old(c, cols.resolved_at);
	keep_old(c, cols.resolved_by);
	keep_old(c, cols.closed_at);
	keep_old(c, cols.feedback_until);
	keep_old(c, cols.sla_policy_id);
	if (c->has_old)
	{
		keep_old(c, cols.created_at);
		keep_old(c, cols.status_changed_at);
	}
	else
	{
		set_ts(c, cols.created_at, c->now);
		set_ts(c, cols.status_changed_at, c->now);
	}
}

/* A change of a closed item that came with a reason (the operations give one). */
void
wi_refuse_closed(int64 id, WiKind kind, const char *reason)
{
	ereport(ERROR,
			(errcode(ERRCODE_WI_ITEM_CLOSED),
			 errmsg("item %lld: a closed %s never changes", (long long) id, kind_name(kind)),
			 errdetail("The change came with the reason \"%s\".", reason),
			 errhint("A new message for a closed item starts a follow-up item.")));
}

static void
refuse_closed_change(ItemChange *c)
{
	/* A reason changes no column, but it asks for a change, and would be lost. */
	if (c->reason != NULL)
		wi_refuse_closed(c->id, c->kind, c->reason);
	for (int i = 0; i < c->desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(c->desc, i);

		if (att->attisdropped || i == cols.change_reason || i == cols.change_actor ||
			i == cols.change_at)
			continue;
		if (!same_value(att, c->old.v[i], c->old.n[i], c->new.v[i], c->new.n[i]))
			ereport(ERROR,
					(errcode(ERRCODE_WI_ITEM_CLOSED),
					 errmsg("item %lld: a closed %s never changes (column %s)",
							(long long) c->id, kind_name(c->kind), NameStr(att->attname)),
					 errhint("A new message for a closed item starts a follow-up item.")));
	}
}

static void
check_immutable(ItemChange *c, int col, const char *name)
{
	if (changed(c, col))
		ereport(ERROR,
				(errcode(ERRCODE_WI_IMMUTABLE_FIELD),
				 errmsg("item %lld: %s cannot be changed", (long long) c->id, name)));
}

static void
log_changes(ItemChange *c)
{
	if (!c->has_old)
	{
		log_event(c, "created", NULL,
				  psprintf("%s %s", kind_name(c->kind), status_name(c->to)));
		return;
	}
	if (c->from != c->to)
		log_event(c, "status", status_name(c->from), status_name(c->to));
	for (int i = 0; i < (int) NLOGGED; i++)
	{
		int			col = logged_attno[i];

		if (changed(c, col))
			log_event(c, logged_columns[i], value_text(c, &c->old, col),
					  value_text(c, &c->new, col));
	}
}

static HeapTuple
enforce_delete(ItemChange *c, HeapTuple oldtuple)
{
	if (c->from != WI_DRAFT)
		ereport(ERROR,
				(errcode(ERRCODE_WI_DELETE_REFUSED),
				 errmsg("item %lld: %s in %s cannot be deleted",
						(long long) c->id, wi_a_kind(c->kind), status_name(c->from)),
				 errdetail("Only drafts can be deleted; the history of submitted work is kept."),
				 errhint("Cancel or close it instead.")));
	log_event(c, "deleted", status_name(c->from), NULL);
	return oldtuple;
}

/* Keep the item's SLA clocks in step with this move (src/sla.c). */
static void
update_sla(ItemChange *c)
{
	WiSlaChange ch = {0};
	bool		wait_changed;
	int64		policy;

	ch.id = c->id;
	ch.tenant = c->tenant;
	ch.now = c->now;
	ch.from = c->from;
	ch.to = c->to;
	ch.old_wait = (c->has_old && !c->old.n[cols.wait_type])
		? wi_enum_index(WI_ENUM_WAIT_TYPE, c->old.v[cols.wait_type]) : -1;
	ch.new_wait = !c->new.n[cols.wait_type]
		? wi_enum_index(WI_ENUM_WAIT_TYPE, c->new.v[cols.wait_type]) : -1;
	ch.submitted = (c->from == WI_DRAFT && c->to != WI_DRAFT && c->to != WI_CLOSED) ||
		(!c->has_old && c->kind == WI_ACTION);
	ch.reclassified = c->has_old && (changed(c, cols.category) || changed(c, cols.priority));
	ch.was_assigned = c->has_old && !c->old.n[cols.assignee];
	ch.assigned = !c->new.n[cols.assignee];
	ch.policy_id = c->new.n[cols.sla_policy_id] ? 0 : DatumGetInt64(c->new.v[cols.sla_policy_id]);
	wait_changed = ch.old_wait != ch.new_wait;
	ch.kind = c->kind;
	ch.category = text_or_null(&c->new, cols.category);
	ch.priority = text_or_null(&c->new, cols.priority);

	/* Most updates touch no clock: no query for them. */
	if (!ch.submitted && !ch.reclassified &&
		(ch.policy_id == 0 ||
		 (c->from == c->to && !wait_changed && (ch.was_assigned || !ch.assigned))))
		return;
	policy = wi_sla_on_change(&ch);
	if (policy == 0)
		set_null(c, cols.sla_policy_id);
	else
		set_value(c, cols.sla_policy_id, Int64GetDatum(policy));
}

static void
enforce(ItemChange *c)
{
	bool		status_changed;

	if (c->new.n[cols.status])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("item %lld: status cannot be NULL", (long long) c->id)));
	c->to = wi_enum_index(WI_ENUM_STATUS, c->new.v[cols.status]);

	if (c->has_old)
	{
		if (c->from == WI_CLOSED)
		{
			refuse_closed_change(c);
			return;
		}
		check_immutable(c, cols.id, "id");
		check_immutable(c, cols.kind, "kind");
		if (cols.tenant >= 0)
			check_immutable(c, cols.tenant, "tenant");
		if (c->kind == WI_ACTION)
			check_immutable(c, cols.case_id, "the case of an action");
		check_immutable(c, cols.parent_id, "parent_id");
	}
	if (!c->new.n[cols.merged_into] && changed(c, cols.merged_into))
		wi_check_merge_target(c->id, c->tenant, DatumGetInt64(c->new.v[cols.merged_into]));
	/* An action's case is checked with the case below. */
	if (c->tenant != NULL)
	{
		if (!c->new.n[cols.case_id] && changed(c, cols.case_id) && c->kind != WI_ACTION)
			wi_check_same_tenant(c->id, c->tenant, DatumGetInt64(c->new.v[cols.case_id]), "case_id");
		if (!c->new.n[cols.parent_id] && changed(c, cols.parent_id))
			wi_check_same_tenant(c->id, c->tenant, DatumGetInt64(c->new.v[cols.parent_id]), "parent_id");
		if (!c->new.n[cols.follows_id] && changed(c, cols.follows_id))
			wi_check_same_tenant(c->id, c->tenant, DatumGetInt64(c->new.v[cols.follows_id]), "follows_id");
	}

	restore_owned_columns(c);

	if (!c->has_old && c->kind == WI_ACTION)
	{
		/* An action has no draft: it is created in to_do, submitted. */
		if (c->to == WI_DRAFT)
		{
			c->to = WI_TO_DO;
			set_value(c, cols.status, wi_enum_datum(WI_ENUM_STATUS, WI_TO_DO));
		}
		if (c->to != WI_TO_DO)
			ereport(ERROR,
					(errcode(ERRCODE_WI_INVALID_TRANSITION),
					 errmsg("a new action is created in to_do, not in %s", status_name(c->to))));
		c->from = WI_TO_DO;
		check_required_fields(c);
		set_ts(c, cols.submitted_at, c->now);
		if (!c->new.n[cols.case_id])
			wi_check_case_open(c->id, c->tenant, DatumGetInt64(c->new.v[cols.case_id]));
	}

	/* Reassigning or unassigning work in progress puts it back to to_do. */
	if (c->from == WI_IN_PROGRESS && c->to == WI_IN_PROGRESS &&
		changed(c, cols.assignee))
	{
		c->to = WI_TO_DO;
		set_value(c, cols.status, wi_enum_datum(WI_ENUM_STATUS, WI_TO_DO));
	}
	/* Starting unassigned work assigns it to the acting resource. */
	if (c->to == WI_IN_PROGRESS && c->new.n[cols.assignee])
		set_text(c, cols.assignee, c->actor);
	/* Spam and the like close at once: they are never submitted. */
	if (c->to == WI_RESOLVED && !c->new.n[cols.resolution] &&
		wi_resolution_closes(c->kind, wi_enum_index(WI_ENUM_RESOLUTION, c->new.v[cols.resolution])))
	{
		c->to = WI_CLOSED;
		set_value(c, cols.status, wi_enum_datum(WI_ENUM_STATUS, WI_CLOSED));
	}

	status_changed = c->from != c->to || !c->has_old;
	if (c->from != c->to && !wi_transition_allowed(c->kind, c->from, c->to))
		refuse_transition(c, NULL);

	/* Leaving a wait that only the engine may end. */
	if (c->from == WI_WAITING && !c->by_engine &&
		reserved_wait(wi_enum_index(WI_ENUM_WAIT_TYPE, c->old.v[cols.wait_type])) &&
		(c->to != WI_WAITING || changed(c, cols.wait_type)))
		refuse_transition(c, c->old.v[cols.wait_type] ==
						  wi_enum_datum(WI_ENUM_WAIT_TYPE, WI_SPLIT)
						  ? "A split ticket waits until all its children are done."
						  : "A ticket that launched a case waits until the case is done.");

	if (c->from == WI_DRAFT && c->to != WI_DRAFT && c->to != WI_CLOSED)
		submit(c);

	/* Waiting */
	if (c->to == WI_WAITING)
		check_wait(c);
	else if (c->from == WI_WAITING)
		clear_wait(c);
	else if (!c->new.n[cols.wait_type] || !c->new.n[cols.wait_until] ||
			 DatumGetBool(c->new.v[cols.close_if_no_reply]))
		ereport(ERROR,
				(errcode(ERRCODE_WI_INVALID_WAIT),
				 errmsg("item %lld: wait_type, wait_until and close_if_no_reply are set only on a waiting item (this %s is %s)",
						(long long) c->id, kind_name(c->kind), status_name(c->to))));

	/* Resolved and closed */
	if ((c->to == WI_RESOLVED || c->to == WI_CLOSED) &&
		c->from != WI_RESOLVED && (c->from != c->to || !c->has_old))
		enter_done(c);
	else if (c->from == WI_RESOLVED && (c->to == WI_RESOLVED || c->to == WI_CLOSED))
	{
		if (changed(c, cols.resolution))
			ereport(ERROR,
					(errcode(ERRCODE_WI_RESOLUTION_NOT_ALLOWED),
					 errmsg("item %lld: the resolution of a resolved %s cannot be changed",
							(long long) c->id, kind_name(c->kind)),
					 errhint("Reopen it and resolve it again.")));
		if (c->to == WI_CLOSED)
			set_ts(c, cols.closed_at, c->now);
	}
	else if (c->from == WI_RESOLVED)
		reopen(c);
	else if (!c->new.n[cols.resolution])
		ereport(ERROR,
				(errcode(ERRCODE_WI_RESOLUTION_NOT_ALLOWED),
				 errmsg("item %lld: a resolution is set only when resolving (this %s is %s)",
						(long long) c->id, kind_name(c->kind), status_name(c->to))));

	if (status_changed)
	{
		set_ts(c, cols.status_changed_at, c->now);
		/* Flags raised by the engine last until a person moves the item. */
		if (c->has_old && !c->by_engine)
		{
			if (!changed(c, cols.highlighted))
				set_value(c, cols.highlighted, BoolGetDatum(false));
			if (!changed(c, cols.needs_attention))
			{
				set_value(c, cols.needs_attention, BoolGetDatum(false));
				set_null(c, cols.attention_reason);
			}
		}
	}
	update_sla(c);
	log_changes(c);
	log_rule_columns(c);
	wi_notify_move(c->id, NULL, NULL, c->has_old ? status_name(c->from) : NULL, status_name(c->to),
				   NULL, NULL, c->actor);

	/* Timers end with the work or the hand-over, or start (src/worktime.c). */
	if (c->has_old && (c->from != c->to || changed(c, cols.assignee)))
	{
		WiWorkMove	m = {
			.id = c->id, .kind = c->kind, .category = text_or_null(&c->new, cols.category),
			.from = c->from, .to = c->to,
			.resolution = c->new.n[cols.resolution] ? -1
			: wi_enum_index(WI_ENUM_RESOLUTION, c->new.v[cols.resolution]),
			.assignee = text_or_null(&c->new, cols.assignee),
			.assignee_changed = changed(c, cols.assignee), .now = c->now,
			.tenant = c->tenant,
		};

		wi_worktime_on_move(&m);
	}

	/* Moves of a second item that this move causes. */
	if ((c->to == WI_RESOLVED || c->to == WI_CLOSED) &&
		c->from != WI_RESOLVED && c->from != WI_CLOSED)
	{
		WiResolution r = wi_enum_index(WI_ENUM_RESOLUTION, c->new.v[cols.resolution]);

		if (c->kind == WI_ACTION && r == WI_UNABLE_TO_COMPLETE)
			wi_case_needs_attention(DatumGetInt64(c->new.v[cols.case_id]), c->tenant,
									text_or_null(&c->new, cols.resolution_note));
		else if (c->kind == WI_CASE && r == WI_CANCELLED)
			wi_cancel_actions(c->id, c->tenant, c->reason);
		if (!c->new.n[cols.parent_id])
			wi_child_done(DatumGetInt64(c->new.v[cols.parent_id]), c->tenant, c->id, c->kind, r);
	}
}

PG_FUNCTION_INFO_V1(workitem_enforce_transition);
Datum
workitem_enforce_transition(PG_FUNCTION_ARGS)
{
	TriggerData *td = (TriggerData *) fcinfo->context;
	Relation	rel;
	HeapTuple	oldtuple = NULL;
	HeapTuple	newtuple = NULL;
	ItemChange			c = {0};
	bool	   *replace;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_transition() must be called as a trigger")));
	if (!TRIGGER_FIRED_BEFORE(td->tg_event) || !TRIGGER_FIRED_FOR_ROW(td->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("workitem.enforce_transition() must be a BEFORE ROW trigger")));
	if (wi_restoring_dump(td))
		return PointerGetDatum(td->tg_trigtuple);

	rel = td->tg_relation;
	load_cols(rel);
	c.desc = RelationGetDescr(rel);
	c.now = wi_now();
	c.actor = wi_actor();
	c.by_engine = wi_engine_depth > 0;

	if (TRIGGER_FIRED_BY_INSERT(td->tg_event))
		newtuple = td->tg_trigtuple;
	else if (TRIGGER_FIRED_BY_UPDATE(td->tg_event))
	{
		oldtuple = td->tg_trigtuple;
		newtuple = td->tg_newtuple;
	}
	else
		oldtuple = td->tg_trigtuple;

	if (oldtuple)
	{
		c.old = deform(c.desc, oldtuple);
		c.has_old = true;
		c.from = wi_enum_index(WI_ENUM_STATUS, c.old.v[cols.status]);
		c.kind = wi_enum_index(WI_ENUM_KIND, c.old.v[cols.kind]);
		c.id = DatumGetInt64(c.old.v[cols.id]);
		if (cols.tenant >= 0)
			c.tenant = TextDatumGetCString(c.old.v[cols.tenant]);
	}
	if (newtuple == NULL)
		return PointerGetDatum(enforce_delete(&c, oldtuple));

	c.new = deform(c.desc, newtuple);
	if (!c.has_old)
	{
		c.from = WI_DRAFT;
		if (c.new.n[cols.kind])
			ereport(ERROR,
					(errcode(ERRCODE_NOT_NULL_VIOLATION),
					 errmsg("a new item needs a kind (ticket, case or action)")));
		c.kind = wi_enum_index(WI_ENUM_KIND, c.new.v[cols.kind]);
		c.id = c.new.n[cols.id] ? 0 : DatumGetInt64(c.new.v[cols.id]);
		wi_check_drawn_id(rel, cols.id, c.new.v[cols.id], c.new.n[cols.id], "item");
	}
	if (cols.tenant >= 0 && c.new.n[cols.tenant])
		ereport(ERROR,
				(errcode(ERRCODE_NOT_NULL_VIOLATION),
				 errmsg("item %lld: tenant cannot be NULL", (long long) c.id)));
	/* an UPDATE that changes it is refused (check_immutable) */
	if (!c.has_old && cols.tenant >= 0)
		c.tenant = TextDatumGetCString(c.new.v[cols.tenant]);

	/* The reason is for the log only; it is never stored on the item. */
	c.reason = text_or_null(&c.new, cols.change_reason);
	set_null(&c, cols.change_reason);
	/* So is an actor carried in the row (operations on Citus): it wins. */
	if (cols.change_actor >= 0 && !c.new.n[cols.change_actor])
	{
		c.actor = text_or_null(&c.new, cols.change_actor);
		set_null(&c, cols.change_actor);
	}
	/* and the coordinator's now() (Citus), for every time this change sets */
	if (cols.change_at >= 0 && !c.new.n[cols.change_at])
	{
		c.now = wi_carried_now(DatumGetTimestampTz(c.new.v[cols.change_at]));
		set_null(&c, cols.change_at);
	}
	c.rules_set = guard_rule_columns(&c, rel);

	enforce(&c);

	replace = palloc(sizeof(bool) * c.desc->natts);
	memset(replace, true, sizeof(bool) * c.desc->natts);
	return PointerGetDatum(heap_modify_tuple(newtuple, c.desc, c.new.v, c.new.n, replace));
}
