/*
 * workitem.c: module entry point, settings and the acting resource.
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/guc.h"

#include "workitem.h"

PG_MODULE_MAGIC;

static char *actor_setting = NULL;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("workitem.actor",
							   "Who is acting: recorded in the activity log and used as the default resource.",
							   "Applications set it per transaction with SET LOCAL; "
							   "when empty, the session user is the actor.",
							   &actor_setting,
							   "",
							   PGC_USERSET,
							   0,
							   NULL, NULL, NULL);
#if PG_VERSION_NUM >= 150000
	MarkGUCPrefixReserved("workitem");
#else
	EmitWarningsOnPlaceholders("workitem");
#endif
}

/* The acting resource: workitem.actor if set, else the session user. */
char *
wi_actor(void)
{
	if (actor_setting != NULL && actor_setting[0] != '\0')
		return pstrdup(actor_setting);
	return GetUserNameFromId(GetSessionUserId(), false);
}

PG_FUNCTION_INFO_V1(workitem_actor);
Datum
workitem_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(wi_actor()));
}
