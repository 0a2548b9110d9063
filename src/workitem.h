/*
 * workitem.h: shared declarations of the workitem extension.
 */
#ifndef WORKITEM_H
#define WORKITEM_H

#include "postgres.h"
#include "access/htup.h"
#include "access/tupdesc.h"
#include "utils/relcache.h"
#include "utils/timestamp.h"

/*
 * A function that never returns. PostgreSQL 18 replaced the trailing
 * pg_attribute_noreturn() with the C11-style specifier pg_noreturn, which
 * goes before the declaration; GCC's attribute, which pg_attribute_noreturn()
 * is before 18, is accepted there too.
 */
#if PG_VERSION_NUM >= 180000
#define wi_noreturn pg_noreturn
#else
#define wi_noreturn pg_attribute_noreturn()
#endif

/* workitem.c: does the schema have tenant columns (1.2.0 on)? SQL of the
 * C code puts what needs them between [[ and ]] (plans.c). */
extern bool wi_tenants(void);
extern bool wi_citus(void);
extern const char *wi_current_tenant(void);
extern const char *wi_routed_tenant(void);
/* workitem.c: a relcache callback of the module (one slot of PostgreSQL's for all) */
extern void wi_on_relcache(void (*func) (Datum arg, Oid relid));
/* citus.c: this node's shards, for statements Citus would refuse */
extern const char *wi_local_table(const char *relname, const char *tenant);
extern const char *wi_local_sql(const char *sql, const char *tenant);
extern Oid	wi_citus_table_of_shard(Oid relid);
extern bool wi_citus_reference_table(Oid relid);
/* operations.c */
extern Datum wi_item_tenant(int64 id);
extern int	wi_attno_opt(TupleDesc d, const char *name);

/* SQLSTATEs of class WI (documented in README.md). */
#define ERRCODE_WI_INVALID_TRANSITION		MAKE_SQLSTATE('W','I','0','0','1')
#define ERRCODE_WI_MISSING_FIELDS			MAKE_SQLSTATE('W','I','0','0','2')
#define ERRCODE_WI_WAIT_TYPE_NOT_ALLOWED	MAKE_SQLSTATE('W','I','0','0','3')
#define ERRCODE_WI_RESOLUTION_NOT_ALLOWED	MAKE_SQLSTATE('W','I','0','0','4')
#define ERRCODE_WI_RESOLUTION_NOTE_REQUIRED	MAKE_SQLSTATE('W','I','0','0','5')
#define ERRCODE_WI_NOT_REOPENABLE			MAKE_SQLSTATE('W','I','0','0','6')
#define ERRCODE_WI_FEEDBACK_WINDOW_OVER		MAKE_SQLSTATE('W','I','0','0','7')
#define ERRCODE_WI_CASE_NOT_OPEN			MAKE_SQLSTATE('W','I','0','0','8')
#define ERRCODE_WI_ITEM_CLOSED				MAKE_SQLSTATE('W','I','0','0','9')
#define ERRCODE_WI_INVALID_WAIT				MAKE_SQLSTATE('W','I','0','1','0')
#define ERRCODE_WI_IMMUTABLE_FIELD			MAKE_SQLSTATE('W','I','0','1','1')
#define ERRCODE_WI_UNKNOWN_LABEL			MAKE_SQLSTATE('W','I','0','1','2')
#define ERRCODE_WI_NO_ASSIGNEE				MAKE_SQLSTATE('W','I','0','1','3')
#define ERRCODE_WI_REASON_REQUIRED			MAKE_SQLSTATE('W','I','0','1','4')
#define ERRCODE_WI_DELETE_REFUSED			MAKE_SQLSTATE('W','I','0','1','5')
#define ERRCODE_WI_INVALID_MERGE			MAKE_SQLSTATE('W','I','0','1','6')
#define ERRCODE_WI_UNKNOWN_CALENDAR			MAKE_SQLSTATE('W','I','0','1','7')
#define ERRCODE_WI_NO_WORKING_HOURS			MAKE_SQLSTATE('W','I','0','1','8')
#define ERRCODE_WI_ITEM_DONE				MAKE_SQLSTATE('W','I','0','2','1')
#define ERRCODE_WI_NO_TIMER					MAKE_SQLSTATE('W','I','0','2','2')
#define ERRCODE_WI_CROSS_TENANT			MAKE_SQLSTATE('W','I','0','2','3')
#define ERRCODE_WI_ITEM_NOT_FOUND			MAKE_SQLSTATE('W','I','4','0','4')

/* Enum values as small integers, in the order of the SQL labels. */
typedef enum WiKind { WI_TICKET, WI_CASE, WI_ACTION, WI_NKINDS } WiKind;

typedef enum WiStatus
{
	WI_DRAFT, WI_TO_DO, WI_IN_PROGRESS, WI_WAITING, WI_RESOLVED, WI_CLOSED,
	WI_NSTATUSES
} WiStatus;

typedef enum WiWaitType
{
	WI_MORE_INFO, WI_FOLLOW_UP, WI_PAUSED, WI_SPLIT, WI_CASE_LAUNCHED,
	WI_NWAITTYPES
} WiWaitType;

typedef enum WiResolution
{
	WI_CUSTOMER_RESPONSE, WI_NO_CUSTOMER_RESPONSE, WI_REJECTED, WI_SPAM,
	WI_UNKNOWN_SENDER, WI_MERGED, WI_SPLIT_COMPLETED, WI_COMPLETED,
	WI_UNABLE_TO_COMPLETE, WI_CANCELLED, WI_NRESOLUTIONS
} WiResolution;

/* Which of our enum types a value belongs to. */
typedef enum WiEnumType
{
	WI_ENUM_KIND, WI_ENUM_STATUS, WI_ENUM_WAIT_TYPE, WI_ENUM_RESOLUTION,
	WI_NENUMTYPES
} WiEnumType;

/* enums.c: label <-> OID for the extension's enum types, cached per backend */
extern Oid	wi_namespace(void);
extern Oid	wi_enum_typoid(WiEnumType t);
extern int	wi_enum_index(WiEnumType t, Datum value);
extern Datum wi_enum_datum(WiEnumType t, int index);
extern const char *wi_enum_label(WiEnumType t, int index);
extern int	wi_enum_count(WiEnumType t);
extern const char *wi_a_kind(int kind);
extern Oid	wi_enum_typoid_by_name(const char *typname);
extern Datum wi_enum_datum_by_name(const char *typname, const char *label);

/* rules.c: the compiled transition table and per-kind rules */
extern bool wi_transition_allowed(WiKind kind, WiStatus from, WiStatus to);
extern bool wi_wait_type_allowed(WiKind kind, WiWaitType w);
extern bool wi_resolution_allowed(WiKind kind, WiResolution r);
extern bool wi_resolution_closes(WiKind kind, WiResolution r);
extern bool wi_close_resolution_allowed(WiKind kind, WiStatus from, WiResolution r);
extern char *wi_next_statuses_text(WiKind kind, WiStatus from);
extern char *wi_allowed_resolutions_text(WiKind kind);
extern char *wi_choosable_resolutions_text(WiKind kind);
extern char *wi_allowed_wait_types_text(WiKind kind);

/* engine.c: the engine acting as itself (its own moves, its bookkeeping as
 * the schema's owner, a restore told from a write) */
extern int	wi_engine_depth;
extern uint64 wi_engine_exec(const char *sql, int nargs, Oid *types,
							 Datum *values, const char *nulls);
typedef struct WiSavedUser
{
	Oid			userid;
	int			sec_context;
	int			guc_level;		/* the nest level of the safe search_path */
} WiSavedUser;
extern void wi_become_owner(WiSavedUser *save);
extern void wi_restore_user(const WiSavedUser *save);
struct TriggerData;
extern bool wi_restoring_dump(struct TriggerData *td);
extern bool wi_citus_internal(void);
extern int	wi_citus_sender_node(void);
extern TimestampTz wi_now(void);
extern TimestampTz wi_carried_now(TimestampTz t);
extern bool wi_restoring;

/* transition.c: the trigger on workitem.item */
wi_noreturn extern void wi_refuse_move(int64 id, WiKind kind, WiStatus from, WiStatus to,
									   const char *detail);
wi_noreturn extern void wi_refuse_closed(int64 id, WiKind kind, const char *reason);

/* guard.c: who may write what the engine owns */
extern bool wi_owns_table(Relation rel);
extern bool wi_is_admin(Relation rel);
extern void wi_check_drawn_id(Relation rel, int idcol, Datum id, bool isnull, const char *what);

/* related.c: rules that touch a second item */
extern void wi_check_case_open(int64 action_id, const char *tenant, int64 case_id);
wi_noreturn extern void wi_refuse_cross_tenant(int64 id, const char *tenant, int64 other,
											   const char *other_tenant, const char *what);
extern void wi_check_same_tenant(int64 id, const char *tenant, int64 other, const char *column);
extern bool wi_has_open_child(int64 id, const char *tenant, WiKind kind);
extern int64 wi_follow_up_routed(int64 closed_id, const char *tenant, Datum subject, bool subject_null,
								 Datum body, bool body_null, const char *actor);
extern void wi_case_needs_attention(int64 case_id, const char *tenant, const char *reason);
extern void wi_cancel_actions(int64 case_id, const char *tenant, const char *reason);
extern void wi_child_done(int64 parent_id, const char *tenant, int64 child_id, WiKind child_kind,
						  WiResolution r);
extern void wi_check_merge_target(int64 id, const char *tenant, int64 target);

/* calendar.c: working time */
extern int64 wi_business_usecs(text *calendar, TimestampTz from, TimestampTz to);
extern TimestampTz wi_business_add(text *calendar, TimestampTz from, int64 amount);
extern int64 wi_interval_usecs(Interval *iv);
struct pg_tz;
extern struct pg_tz *wi_calendar_zone(const char *name, bool lock);
extern Interval *wi_usecs_interval(int64 us);

/* sla.c: SLA clocks, kept by the trigger */
typedef struct WiSlaChange
{
	int64		id;
	const char *tenant;			/* the item's: its clocks take it */
	TimestampTz now;
	WiStatus	from;
	WiStatus	to;
	int			old_wait;		/* -1: not waiting */
	int			new_wait;
	bool		submitted;		/* leaves draft for real work */
	bool		reclassified;	/* category or priority changed */
	bool		was_assigned;
	bool		assigned;
	int64		policy_id;		/* the item's policy so far; 0: none */
	WiKind		kind;			/* what the policy is matched on */
	const char *category;
	const char *priority;
} WiSlaChange;

extern int64 wi_sla_on_change(const WiSlaChange *ch);
extern void wi_sla_first_response(int64 item_id, const char *tenant);

/* sla.c: the clock statements, for an item's clocks or an attached row's */
typedef struct WiClocks
{
	bool		row;			/* an attached row's (source, row_key), else an item's */
	bool		local;			/* Citus: statements on this node's shards of tenant */
	const char *tenant;
	Datum		owner[4];		/* $1..$4 of every clock statement (sla.c) */
	char		nulls[4];
} WiClocks;
extern void wi_clocks_of_item(WiClocks *c, int64 item_id, const char *tenant, TimestampTz now);
extern void wi_clocks_of_row(WiClocks *c, Oid source, const char *row_key, TimestampTz now,
							 const char *tenant);
extern void wi_clocks_create(const WiClocks *c, int64 policy, bool assigned, const char *only_target,
							 bool next_cycle);
extern void wi_clocks_pause(const WiClocks *c, const char *reason);
extern void wi_clocks_resume(const WiClocks *c, const char *reason);
extern void wi_clocks_reopen(const WiClocks *c, bool reset);
extern void wi_clocks_stop(const WiClocks *c, const char *only_target, const char *reason);
extern void wi_clocks_start_pending(const WiClocks *c);

/* attached_sla.c: SLA clocks of rows of attached tables, kept by their trigger */
typedef struct WiAttachedMove
{
	Oid			source;			/* the attached table */
	const char *row_key;
	TimestampTz now;
	int64		policy;			/* matched by the table's kind; not 0 */
	WiStatus	from;			/* the row's status before (draft, or to_do for actions, when created) */
	WiStatus	to;
	bool		created;		/* inserted, or back in the filter */
	const char *gone;			/* deleted or out of the filter: the reason; else NULL */
	int			old_wait;		/* -1: none */
	int			new_wait;
	bool		was_assigned;
	bool		assigned;
	const char *tenant;			/* Citus: the row's tenant (its shards on this node); else NULL */
} WiAttachedMove;
extern void wi_attached_sla_move(const WiAttachedMove *m);
extern bool wi_attached_resolved_at(Oid source, const char *row_key, const char *tenant, TimestampTz *at);

/* sla_alarm.c: the clocks' next alarm (trigger clock_alarm), fired by run_timers */
extern int	wi_sla_run_alarms(TimestampTz at, int budget);

/* sla_read.c: reading a clock (pure functions of its columns) */
extern int64 wi_clock_used_at(text *calendar, int64 used, bool since_null, TimestampTz since,
							   TimestampTz at);
extern double *wi_numeric_array(Datum a, int *n);
extern char *wi_hours_minutes(int64 us);

/* workitem.c: module entry, settings, the acting resource */
extern int	wi_attno(TupleDesc d, const char *name, const char *who);
extern char *wi_actor(void);
extern bool wi_actor_set_local(bool citus_local);
extern const char *wi_actor_override;
extern int	wi_timer_interval;
extern int	wi_timer_batch;
extern char *wi_timer_databases;

/* worker.c: the background worker that runs the timers */
extern void wi_register_timer_workers(void);

/* eventlog.c: direct, permission-free appends to workitem.event/message */
typedef struct WiEvent
{
	int64		item_id;
	const char *tenant;			/* the item's; NULL: workitem.tenant's (attached rows) */
	Oid			source;			/* InvalidOid for workitem.item */
	const char *row_key;
	const char *actor;
	const char *what;
	const char *old_value;
	const char *new_value;
	const char *reason;
} WiEvent;

extern void wi_log_event(const WiEvent *ev);

/* notify.c: NOTIFY workitem_moves at commit, for items and attached rows */
#define WI_NOTIFY_CHANNEL "workitem_moves"
extern bool wi_notify;
extern void wi_notify_move(int64 item, const char *table, const char *key, const char *from,
						   const char *to, const char *from_label, const char *to_label,
						   const char *actor);
extern void wi_notify_worker_moves(Datum tenant);
extern void wi_log_message(int64 item_id, const char *tenant, const char *actor,
						   const char *direction, const char *channel, int64 message_id);
extern int64 wi_insert_note(int64 item_id, const char *tenant, const char *subject, const char *body,
							const char *author, bool is_resolution,
							bool is_description);

/* config.c: per-backend caches of sla_policy and category_config */
typedef struct WiCategoryDefaults
{
	bool		feedback_window_null;
	Interval	feedback_window;
	bool		require_note_null;
	bool		require_note;
	bool		days_to_wait_null;
	int32		days_to_wait;
	bool		auto_timer;		/* start the assignee's timer (worktime.c) */
} WiCategoryDefaults;
extern int64 wi_config_match_policy(int kind, const char *category, const char *priority);
extern bool wi_config_stops_clock(int64 policy_id, int wait_type);
extern const char *wi_config_reopen_policy(int64 policy_id);
extern bool wi_config_warn_at(int64 policy_id, Datum *warn_at);
extern bool wi_config_category(int kind, const char *category, WiCategoryDefaults *out);

/* worktime.c: timers; what time entries (timeentry.c) and expenses (expense.c) share */
typedef struct WiWorkMove
{
	int64		id;
	WiKind		kind;
	const char *category;		/* NULL: none */
	WiStatus	from;
	WiStatus	to;
	int			resolution;		/* -1: none */
	const char *assignee;		/* after the move; NULL: none */
	bool		assignee_changed;
	TimestampTz now;
	const char *tenant;			/* the item's (NULL: a schema before 1.2.0) */
} WiWorkMove;
extern bool wi_worktime_tracking;
extern int	wi_timer_max_running;
extern void wi_worktime_on_move(const WiWorkMove *m);
extern void wi_worktime_lock_open(int64 item_id, const char *tenant, const char *what);
extern void wi_worktime_log(int64 item_id, const char *tenant, const char *what, const char *oldv,
							const char *newv, const char *reason);
extern void wi_worktime_log_by(int64 item_id, const char *tenant, const char *actor, const char *what,
							   const char *oldv, const char *newv, const char *reason);
extern char *wi_take_change_actor(TupleDesc d, Datum *v, bool *n, bool *repl);
extern const char *wi_worktime_tenant(int64 item_id);
extern const char *wi_row_tenant(Relation rel, HeapTuple t);
extern bool wi_datum_same(TupleDesc d, int col, Datum a, bool an, Datum b, bool bn);
extern void wi_refuse_immutable(int64 item_id, const char *what, int64 id, const char *col);
extern char *wi_timestamptz_text(TimestampTz t);
extern char *wi_interval_text(Datum iv);
extern int	wi_worktime_run(TimestampTz at, int budget);
/* timers.c: on Citus, the tenant run_timers_tenant() works for; else NULL */
extern const char *wi_timers_tenant;

/* plans.c: SPI statements planned once per backend (SPI_execute_with_args' arguments) */
struct _SPI_plan;
extern struct _SPI_plan *wi_plan(const char *sql, int nargs, const Oid *types);
extern int	wi_execute(const char *sql, int nargs, Oid *types, Datum *values, const char *nulls,
					   bool read_only, long count);

#endif							/* WORKITEM_H */
