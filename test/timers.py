#!/usr/bin/python3
"""Two sessions run workitem.run_timers() at once over 10,000 due items of
mixed kinds and waits: every item is moved exactly once (counted in the
activity log), nothing stays due, and the two counts add up.

Uses its own database (test/lib/tap.py's scratch_db) on the server named by
the PG* environment; the items are test/lib/due_items.sql's."""
import os
import sys
import threading

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, create_scratch_db, done, drop_scratch_db, read_lib  # noqa: E402

N = int(os.environ.get("TIMERS_ITEMS", "10000"))


def connect(dbname):
    conn = psycopg2.connect(dbname=dbname)
    conn.autocommit = True
    return conn


DB = create_scratch_db("workitem_timers_race")

setup = connect(DB)
with setup.cursor() as cur:
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION workitem")
    cur.execute("SET workitem.actor = 'agent'")
    # A quarter each (id % 4): follow-up, more info, more info closing, resolved.
    cur.execute(read_lib("due_items.sql"))
    cur.execute("SELECT pg_temp.make_due(%s)", (N,))
    cur.execute("SELECT max(id) FROM workitem.event")
    last_event = cur.fetchone()[0]
    cur.execute("ANALYZE workitem.item")

results = {}


def runner(name):
    conn = connect(DB)
    moved = calls = 0
    with conn.cursor() as cur:
        while True:
            cur.execute("SELECT workitem.run_timers(now() + interval '3 days', 250)")
            n = cur.fetchone()[0]
            calls += 1
            moved += n
            if n == 0:
                break
    results[name] = (moved, calls)
    conn.close()


threads = [threading.Thread(target=runner, args=(n,)) for n in ("a", "b")]
for t in threads:
    t.start()
for t in threads:
    t.join()

moved_a, calls_a = results.get("a", (0, 0))
moved_b, calls_b = results.get("b", (0, 0))
print("# session a moved %d items in %d calls, session b %d in %d" % (moved_a, calls_a, moved_b, calls_b))
check(moved_a + moved_b == N, "the two sessions moved %d items in all (expected %d)" % (moved_a + moved_b, N))

with setup.cursor() as cur:
    cur.execute("""SELECT count(*), count(DISTINCT item_id) FROM workitem.event
                    WHERE id > %s AND what = 'status' AND actor = 'system'""", (last_event,))
    events, items = cur.fetchone()
    check(events == N, "one status event per item moved: %d events" % events)
    check(items == N, "every item was moved: %d distinct items" % items)
    cur.execute("""SELECT count(*) FROM workitem.item
                    WHERE (status = 'waiting' AND wait_until <= now() + interval '3 days')
                       OR (status = 'resolved' AND feedback_until <= now() + interval '3 days')""")
    check(cur.fetchone()[0] == 0, "nothing is left due")
    # Spec section 2: an item that comes back by itself returns to
    # in_progress if it has an assignee, else to_do; the two apart.
    cur.execute("""SELECT count(*) FILTER (WHERE status = 'closed' AND resolution = 'no_customer_response'),
                          count(*) FILTER (WHERE status = 'closed'),
                          count(*) FILTER (WHERE status = 'in_progress' AND highlighted),
                          count(*) FILTER (WHERE status = 'to_do' AND highlighted)
                     FROM workitem.item""")
    got = cur.fetchone()
    # id % 4 = 2 tickets close no_customer_response; cases with it come back.
    cur.execute("""SELECT count(*) FILTER (WHERE id % 4 = 2 AND kind = 'ticket'),
                          count(*) FILTER (WHERE id % 4 = 3 OR (id % 4 = 2 AND kind = 'ticket')),
                          count(*) FILTER (WHERE (id % 4 IN (0, 1) OR (id % 4 = 2 AND kind = 'case'))
                                             AND assignee IS NOT NULL),
                          count(*) FILTER (WHERE (id % 4 IN (0, 1) OR (id % 4 = 2 AND kind = 'case'))
                                             AND assignee IS NULL)
                     FROM workitem.item""")
    want = cur.fetchone()
    check(got == want and min(want) > 0,
          "outcomes by kind of due work (no reply, closed, back in_progress, back to_do): %s (expected %s)"
          % (got, want))
    cur.execute("SELECT workitem.run_timers(now() + interval '3 days')")
    check(cur.fetchone()[0] == 0, "a further run finds nothing to do")
setup.close()

drop_scratch_db(DB)
sys.exit(done())
