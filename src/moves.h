/*
 * moves.h: the SQL of the engine's automatic moves (spec section 2), one
 * text each, shared by the operations, messages, related items and timers
 * so that every road back from a wait or to a split's end is the same.
 */
#ifndef WORKITEM_MOVES_H
#define WORKITEM_MOVES_H

/* A wait over: back to in_progress if assigned, else to_do. */
#define WI_BACK_FROM_WAIT "status = CASE WHEN assignee IS NULL THEN 'to_do'::workitem.status " \
	"ELSE 'in_progress'::workitem.status END"
/* ... and flagged until a person moves it (the engine's wake-up). */
#define WI_WAKE_SET WI_BACK_FROM_WAIT ", highlighted = true"

/* A split is done when its tickets are (related.c at each child's end; timers.c). */
#define WI_SPLIT_DONE_SET "status = 'resolved'::workitem.status, " \
	"resolution = 'split_completed'::workitem.resolution"
#define WI_SPLIT_DONE_REASON "all split tickets are done"

/* The condition that an item's status column col is neither resolved nor closed. */
#define WI_STILL_OPEN(col) col " OPERATOR(pg_catalog.<>) ALL ('{resolved,closed}'::workitem.status[])"

#endif							/* WORKITEM_MOVES_H */
