#!/usr/bin/python3
"""The activity log's own index insertion (src/eventlog.c) with indexes
another session adds to workitem.event, over two real connections:

1. An index made and committed while session A's UPDATE of an attached
   table waits for a row lock: A's trigger (its caches filled) takes no
   relation lock between the wait and the log append, so the append must
   take the log's lock before trusting its cached index list (taking the
   lock is where the new index's invalidation is accepted). The new index
   must hold A's log row (before the fix it did not: 1 row through the
   index, 2 in the heap).
2. CREATE INDEX CONCURRENTLY on workitem.event while A's transaction has
   written to it: the index exists but is not ready for inserts
   (indisready false) when A next appends; the append must skip it, as
   the executor does, and the index built afterwards holds every row.

An index's content is counted through it (a query only it can serve, with
sequential scans off) and compared with a count from the heap."""
import os
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, wait_until_blocked  # noqa: E402


def connect(autocommit=True):
    conn = psycopg2.connect("")
    conn.autocommit = autocommit
    with conn.cursor() as cur:
        cur.execute("SET workitem.actor = 'indexer'")
    return conn


def pid_of(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        return cur.fetchone()[0]


def counts(conn, expr, value, where):
    """(rows found through the index on expr, rows in the heap), of the
    log rows that match where and have expr = value."""
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("SELECT count(*) FROM workitem.event WHERE " + expr + " = %s AND " + where, (value,))
        by_index = cur.fetchone()[0]
        cur.execute("SET LOCAL enable_seqscan = on")
        cur.execute("SET LOCAL enable_indexscan = off")
        cur.execute("SET LOCAL enable_bitmapscan = off")
        cur.execute("SELECT count(*) FROM workitem.event WHERE " + expr + " = %s AND " + where, (value,))
        by_heap = cur.fetchone()[0]
        cur.execute("COMMIT")
    return by_index, by_heap


def uses_index(conn, expr, value, index):
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        cur.execute("SET LOCAL enable_seqscan = off")
        cur.execute("EXPLAIN SELECT count(*) FROM workitem.event WHERE " + expr + " = %s", (value,))
        plan = "\n".join(r[0] for r in cur.fetchall())
        cur.execute("COMMIT")
    return index in plan


main = connect()
with main.cursor() as cur:
    cur.execute("DROP INDEX IF EXISTS workitem.event_race_idx")
    cur.execute("DROP INDEX IF EXISTS workitem.event_cic_idx")
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP TABLE IF EXISTS public.indexes_attached")
    cur.execute("CREATE TABLE public.indexes_attached (id int PRIMARY KEY, status text NOT NULL)")
    cur.execute("INSERT INTO public.indexes_attached VALUES (1, 'draft')")
    cur.execute("SELECT workitem.attach('public.indexes_attached')")
    cur.execute("""SELECT id FROM workitem.create_ticket('Indexes', 'd', 'indexes', 'c@x', 'c@x',
                   submit => true)""")
    item = cur.fetchone()[0]

# 1. An index committed while A waits for the row
a, b, watch = connect(), connect(autocommit=False), connect()
a_pid, b_pid = pid_of(a), pid_of(b)  # asked now: a connection is busy while its thread runs
with a.cursor() as cur:  # fills A's caches
    cur.execute("UPDATE public.indexes_attached SET status = 'to_do' WHERE id = 1")
with b.cursor() as cur:
    cur.execute("SELECT 1 FROM public.indexes_attached WHERE id = 1 FOR UPDATE")
outcome = {}


def run_a():
    try:
        with a.cursor() as cur:
            cur.execute("UPDATE public.indexes_attached SET status = 'in_progress' WHERE id = 1")
        outcome["ok"] = True
    except psycopg2.Error as e:
        outcome["error"] = e


t = threading.Thread(target=run_a)
t.start()
waited = wait_until_blocked(watch, a_pid)
# made once A's statement has begun and waits: A has accepted no
# invalidation since (CREATE INDEX sends one at once for its change of
# pg_class, and one at commit)
with b.cursor() as cur:
    cur.execute("CREATE INDEX event_race_idx ON workitem.event ((what || '#race'))")
b.commit()
t.join(60)
check(waited and outcome.get("ok"), "A's UPDATE waited for B's row lock, then logged its move (%r)"
      % (outcome.get("error"),))
check(uses_index(main, "what || '#race'", "status#race", "event_race_idx"),
      "the count below goes through event_race_idx")
by_index, by_heap = counts(main, "what || '#race'", "status#race",
                           "source = 'public.indexes_attached'::regclass")
check(by_index == by_heap == 2, "the index made while A waited holds A's log row: "
      "%d through the index, %d in the heap" % (by_index, by_heap))

# 2. CREATE INDEX CONCURRENTLY while A's transaction appends to the log
a.autocommit = False
with a.cursor() as cur:
    cur.execute("UPDATE workitem.item SET title = 'before CIC' WHERE id = %s", (item,))
cic = {}


def run_cic():
    try:
        with b.cursor() as cur:
            cur.execute("CREATE INDEX CONCURRENTLY event_cic_idx ON workitem.event ((what || '#cic'))")
        cic["ok"] = True
    except psycopg2.Error as e:
        cic["error"] = e


b.autocommit = True
t = threading.Thread(target=run_cic)
t.start()
cic_waited = wait_until_blocked(watch, b_pid)
appended = None
try:
    with a.cursor() as cur:
        # a table A has not locked yet: taking its lock accepts the
        # invalidation from the index's first, committed phase
        cur.execute("LOCK TABLE workitem.sla_policy IN ACCESS SHARE MODE")
        cur.execute("UPDATE workitem.item SET title = 'during CIC' WHERE id = %s", (item,))
    a.commit()
    appended = True
except psycopg2.Error as e:
    appended = e
    a.rollback()
t.join(120)
check(cic_waited, "CREATE INDEX CONCURRENTLY waited for A's transaction")
check(appended is True, "A appended to the log while the index was not ready for inserts (%r)"
      % (appended,))
check(cic.get("ok"), "CREATE INDEX CONCURRENTLY completed (%r)" % (cic.get("error"),))
check(uses_index(main, "what || '#cic'", "title#cic", "event_cic_idx"),
      "the count below goes through event_cic_idx")
by_index, by_heap = counts(main, "what || '#cic'", "title#cic", "item_id = %d" % item)
check(by_index == by_heap, "the concurrently built index holds every log row: "
      "%d through the index, %d in the heap" % (by_index, by_heap))

# 3. After the build, new rows go into it
with a.cursor() as cur:
    cur.execute("UPDATE workitem.item SET title = 'after CIC' WHERE id = %s", (item,))
a.commit()
by_index, by_heap = counts(main, "what || '#cic'", "title#cic", "item_id = %d" % item)
check(by_index == by_heap, "rows appended after the build are in it: %d through the index, %d in the heap"
      % (by_index, by_heap))

for c in (a, b, watch):
    c.close()
with main.cursor() as cur:
    cur.execute("DROP INDEX IF EXISTS workitem.event_race_idx")
    cur.execute("DROP INDEX IF EXISTS workitem.event_cic_idx")
    cur.execute("DROP TABLE public.indexes_attached")
main.close()
sys.exit(done())
