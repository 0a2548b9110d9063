/*
 * notify.c: apps hear about moves without polling. Every accepted move of
 * an item or of a row of an attached table sends a NOTIFY on the channel
 * "workitem_moves" with a small JSON payload; NOTIFY is transactional, so
 * listeners hear it at commit, and never of a move that was rolled back.
 * workitem.notify = off turns it off (bulk loads).
 *
 * Citus: the triggers run on the workers, in Citus's own connections,
 * whose transactions commit in two phases when a statement writes on two
 * nodes, and PREPARE refuses a transaction that sent a NOTIFY. So nothing
 * is sent there: the operations (src/operations.c), which run on the
 * coordinator, send their item's move themselves, heard by listeners on
 * the coordinator. Moves the engine makes on a worker (a case's action
 * closed, a split ticket done, run_timers()) and plain UPDATEs through the
 * coordinator are not heard (README, "Scale out with Citus").
 */
#include "postgres.h"

#include "commands/async.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/json.h"

#include "workitem.h"

bool		wi_notify = true;

/* Long texts are cut, so that the payload stays far below NOTIFY's 8000 bytes. */
#define WI_NOTIFY_FIELD_MAX 256

static void
add_field(StringInfo buf, const char *name, const char *value)
{
	char	   *v;

	if (value == NULL)
	{
		appendStringInfo(buf, ", \"%s\": null", name);
		return;
	}
	v = pstrdup(value);
	if (strlen(v) > WI_NOTIFY_FIELD_MAX)
		v[pg_mbcliplen(v, strlen(v), WI_NOTIFY_FIELD_MAX)] = '\0';
	appendStringInfo(buf, ", \"%s\": ", name);
	escape_json(buf, v);
}

/*
 * item: the item (table NULL), or the attached table and the row's key.
 * from NULL: created; to NULL: deleted. Labels: the table's own, or NULL.
 */
void
wi_notify_move(int64 item, const char *table, const char *key, const char *from, const char *to,
			   const char *from_label, const char *to_label, const char *actor)
{
	StringInfoData buf;

	if (!wi_notify)
		return;
	if (wi_citus_internal() && wi_citus())
		return;
	if (table == NULL && from != NULL && to != NULL && strcmp(from, to) == 0)
		return;					/* an item's update that is no move */
	initStringInfo(&buf);
	if (table == NULL)
		appendStringInfo(&buf, "{\"item\": " INT64_FORMAT, item);
	else
	{
		appendStringInfoString(&buf, "{\"table\": ");
		escape_json(&buf, table);
		add_field(&buf, "key", key);
	}
	add_field(&buf, "from", from);
	add_field(&buf, "to", to);
	if (table != NULL && (from_label != NULL || to_label != NULL))
	{
		add_field(&buf, "from_label", from_label);
		add_field(&buf, "to_label", to_label);
	}
	add_field(&buf, "actor", actor);
	appendStringInfoChar(&buf, '}');
	Async_Notify(WI_NOTIFY_CHANNEL, buf.data);
	pfree(buf.data);
}
