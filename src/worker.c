/*
 * worker.c: the background worker that runs workitem.run_timers().
 *
 * One worker per database named in workitem.timer_databases, registered
 * when the library is in shared_preload_libraries. Each sleeps on its latch
 * for workitem.timer_interval, then calls run_timers() in short
 * transactions of workitem.timer_batch items until nothing is due. An
 * error in a run is logged and the worker goes on; SIGTERM stops it
 * between statements (die() and CHECK_FOR_INTERRUPTS). A run with nothing
 * due only reads: it takes no transaction id and writes no WAL.
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "pgstat.h"
#include "postmaster/bgworker.h"
#include "postmaster/interrupt.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/varlena.h"

#include "workitem.h"

PGDLLEXPORT void workitem_timer_main(Datum arg);

/* Database names are case-sensitive: SplitGUCList trims and keeps case. */
void
wi_register_timer_workers(void)
{
	char	   *list = pstrdup(wi_timer_databases ? wi_timer_databases : "");
	List	   *names;
	ListCell   *lc;

	if (!SplitGUCList(list, ',', &names))
	{
		ereport(WARNING,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("workitem.timer_databases: invalid list \"%s\"", wi_timer_databases)));
		return;
	}
	foreach(lc, names)
	{
		BackgroundWorker w = {0};
		char	   *tok = lfirst(lc);

		if (strlen(tok) >= NAMEDATALEN)
		{
			ereport(WARNING,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("workitem.timer_databases: database name \"%s\" is too long", tok)));
			continue;
		}
		w.bgw_flags = BGWORKER_SHMEM_ACCESS | BGWORKER_BACKEND_DATABASE_CONNECTION;
		w.bgw_start_time = BgWorkerStart_RecoveryFinished;
		w.bgw_restart_time = 10;
		snprintf(w.bgw_library_name, BGW_MAXLEN, "workitem");
		snprintf(w.bgw_function_name, BGW_MAXLEN, "workitem_timer_main");
		snprintf(w.bgw_name, BGW_MAXLEN, "workitem timers for database %s", tok);
		snprintf(w.bgw_type, BGW_MAXLEN, "workitem timers");
		strlcpy(w.bgw_extra, tok, BGW_EXTRALEN);
		RegisterBackgroundWorker(&w);
	}
}

/*
 * Citus: run_timers() runs on the coordinator, which delegates each
 * tenant's work to the node of its shards; on the other nodes the
 * background worker does nothing, so nothing is done twice (each node
 * with the library preloaded starts it). SPI is connected.
 */
static bool
citus_worker_node(void)
{
	bool		isnull;
	Datum		d;

	if (!wi_citus())
		return false;
	if (SPI_execute("SELECT groupid OPERATOR(pg_catalog.<>) 0 FROM pg_catalog.pg_dist_local_group",
					true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		return false;
	d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	return !isnull && DatumGetBool(d);
}

/*
 * One transaction: is workitem 1.1 or later installed here, and if so,
 * run the timers once. Returns the work done, or -1 when not installed.
 */
static int
run_once(void)
{
	int			done = -1;
	bool		isnull;
	bool		installed;

	SetCurrentStatementStartTimestamp();
	StartTransactionCommand();
	SPI_connect();
	PushActiveSnapshot(GetTransactionSnapshot());
	pgstat_report_activity(STATE_RUNNING, "SELECT workitem.run_timers()");

	if (SPI_execute("SELECT pg_catalog.to_regprocedure("
					"'workitem.run_timers(timestamp with time zone,integer)') IS NOT NULL",
					true, 1) != SPI_OK_SELECT)
		elog(ERROR, "workitem timers: catalog lookup failed");
	installed = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	if (installed && citus_worker_node())
		done = 0;
	else if (installed)
	{
		char	   *sql = psprintf("SELECT workitem.run_timers(pg_catalog.now(), %d)",
								   wi_timer_batch);

		if (SPI_execute(sql, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "workitem timers: run_timers() failed");
		done = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	}
	SPI_finish();
	PopActiveSnapshot();
	CommitTransactionCommand();
	pgstat_report_stat(false);
	pgstat_report_activity(STATE_IDLE, NULL);
	return done;
}

void
workitem_timer_main(Datum arg)
{
	char		dbname[BGW_EXTRALEN];
	MemoryContext loopcxt;
	static bool warned_missing = false;	/* static: survives the longjmp */

	strlcpy(dbname, MyBgworkerEntry->bgw_extra, sizeof(dbname));
	pqsignal(SIGHUP, SignalHandlerForConfigReload);
	pqsignal(SIGTERM, die);
	BackgroundWorkerUnblockSignals();
	BackgroundWorkerInitializeConnection(dbname, NULL, 0);
	pgstat_report_appname("workitem timers");

	loopcxt = AllocSetContextCreate(TopMemoryContext, "workitem timers",
									ALLOCSET_DEFAULT_SIZES);
	ereport(LOG, (errmsg("workitem timers started for database \"%s\"", dbname)));

	for (;;)
	{
		long		timeout;

		CHECK_FOR_INTERRUPTS();
		if (ConfigReloadPending)
		{
			ConfigReloadPending = false;
			ProcessConfigFile(PGC_SIGHUP);
		}

		if (wi_timer_interval > 0)
		{
			MemoryContext old = MemoryContextSwitchTo(loopcxt);

			/* Full batches mean more is due: go on at once. */
			for (;;)
			{
				volatile int done = -2;

				PG_TRY();
				{
					done = run_once();
				}
				PG_CATCH();
				{
					ErrorData  *ed;

					/* Log it, roll back, and try again at the next tick. */
					MemoryContextSwitchTo(loopcxt);
					ed = CopyErrorData();
					FlushErrorState();
					AbortCurrentTransaction();
					pgstat_report_activity(STATE_IDLE, NULL);
					ereport(LOG,
							(errmsg("workitem timers in database \"%s\": run failed: %s",
									dbname, ed->message),
							 ed->detail ? errdetail_internal("%s", ed->detail) : 0));
					FreeErrorData(ed);
				}
				PG_END_TRY();
				MemoryContextSwitchTo(loopcxt);

				if (done == -1 && !warned_missing)
				{
					ereport(LOG,
							(errmsg("workitem timers: extension workitem 1.1 or later is not installed in database \"%s\"; waiting for it",
									dbname)));
					warned_missing = true;
				}
				else if (done >= 0)
					warned_missing = false;
				if (done > 0)
					ereport(DEBUG1,
							(errmsg("workitem timers in database \"%s\": %d items moved or flagged",
									dbname, done)));
				if (done < wi_timer_batch)
					break;
				CHECK_FOR_INTERRUPTS();
			}
			MemoryContextSwitchTo(old);
			MemoryContextReset(loopcxt);
		}

		timeout = wi_timer_interval > 0 ? wi_timer_interval : 60000L;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 timeout, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
}
