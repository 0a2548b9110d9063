#!/usr/bin/python3
"""Regression tests for the deadlocks bench/load.sh looked for (issue 7).

1. merge(a, b) and merge(b, a) at the same time: each locked its source and
   then waited for its target, held by the other (40P01). merge() now locks
   both rows in id order. Replayed deterministically: session A holds a's
   row lock, as merge(a, b) does between its two locks, while session B
   runs merge(b, a).
2. An action resolved unable_to_complete (which moves its case) while its
   case is cancelled (which closes its actions): resolve() now locks the
   case before the action, in cancel()'s order. Stressed: both at once on
   fresh pairs, many times; no 40P01 is allowed.

Creates and drops its own database; PGHOST/PGPORT name the server."""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, scratch_db  # noqa: E402


def connect(db):
    conn = psycopg2.connect(dbname=db)
    conn.autocommit = False
    return conn


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    conn.commit()
    return row[0] if row else None


def attempt(conn, sql, args, out, key, barrier=None):
    try:
        if barrier:
            barrier.wait()
        with conn.cursor() as cur:
            cur.execute(sql, args)
        conn.commit()
        out[key] = "ok"
    except psycopg2.Error as e:
        conn.rollback()
        out[key] = e.pgcode


def main():
    with scratch_db("workitem_deadlocks") as db:
        setup = connect(db)
        one(setup, "CREATE EXTENSION workitem; SELECT 1")

        def ticket():
            return one(setup, "SELECT (workitem.create_ticket('t', 'd', 'c', 'p', 'r', NULL, true)).id")

        # 1. crossed merges
        a, b = ticket(), ticket()
        sa, sb = connect(db), connect(db)
        out = {}
        with sa.cursor() as cur:
            cur.execute("SELECT 1 FROM workitem.item WHERE id = %s FOR UPDATE", (a,))
        t = threading.Thread(target=attempt, args=(sb, "SELECT workitem.merge(%s, %s)", (b, a), out, "b"))
        t.start()
        time.sleep(0.5)
        attempt(sa, "SELECT workitem.merge(%s, %s)", (a, b), out, "a")
        t.join(20)
        check(out.get("a") == "ok", "merge(a, b) goes through (got %s)" % out.get("a"))
        check(out.get("b") == "WI016", "it sees its target closed by the first merge: WI016 (got %s)" % out.get("b"))
        sa.close()
        sb.close()

        # 2. action unable_to_complete against the cancelling of its case.
        # Per round: cancel() must go through (whichever runs first, the
        # case is open when it runs); resolve() goes through when it runs
        # first, else it is refused because the action is already closed
        # (WI001, closed -> resolved). Anything else, a deadlock (40P01) or
        # no outcome at all (a thread still blocked after 20 s), is a failure.
        REFUSED = "WI001"
        rounds = 60
        results = []  # (case, action, resolve outcome, cancel outcome)
        s1, s2 = connect(db), connect(db)
        for _ in range(rounds):
            case = one(setup, "SELECT (workitem.create_case('c', 'd', NULL, NULL, true)).id")
            act = one(setup, "INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', %s, 's') RETURNING id",
                      (case,))
            out = {}
            barrier = threading.Barrier(2)
            t1 = threading.Thread(target=attempt, args=(
                s1, "SELECT workitem.resolve(%s, 'unable_to_complete', 'blocked')", (act,), out, "r", barrier))
            t2 = threading.Thread(target=attempt, args=(
                s2, "SELECT workitem.cancel(%s, 'withdrawn')", (case,), out, "c", barrier))
            t1.start()
            t2.start()
            t1.join(20)
            t2.join(20)
            results.append((case, act, out.get("r"), out.get("c")))
        codes = {}
        for _, _, r, c in results:
            codes[("resolve", r)] = codes.get(("resolve", r), 0) + 1
            codes[("cancel", c)] = codes.get(("cancel", c), 0) + 1
        bad_cancel = [(case, c) for case, _, _, c in results if c != "ok"]
        check(not bad_cancel, "%d rounds of resolve(action) against cancel(case): cancel() went through "
              "every time (%s; failed: %s)" % (rounds, codes, bad_cancel[:5]))
        bad_resolve = [(act, r) for _, act, r, _ in results if r not in ("ok", REFUSED)]
        check(not bad_resolve, "resolve() went through or was refused with %s every time, never a deadlock "
              "or a timeout (failed: %s)" % (REFUSED, bad_resolve[:5]))
        # Spec section 2, Cancelling: the case ends closed as cancelled and
        # its open action is closed as cancelled too, unless resolve() had
        # already closed it as unable_to_complete.
        wrong = []
        for case, act, r, _ in results:
            got = one(setup, """SELECT row(c.status, c.resolution, a.status, a.resolution)::text
                                  FROM workitem.item c, workitem.item a WHERE c.id = %s AND a.id = %s""",
                      (case, act))
            want = "(closed,cancelled,closed,%s)" % ("unable_to_complete" if r == "ok" else "cancelled")
            if got != want:
                wrong.append((case, act, r, got, want))
        check(not wrong, "every case ends closed/cancelled, its action closed as cancelled or, when resolve() "
              "came first, unable_to_complete (wrong: %s)" % wrong[:5])
        bad = one(setup, """SELECT count(*) FROM workitem.item a JOIN workitem.item c ON c.id = a.case_id
                            WHERE c.resolution = 'cancelled' AND a.status <> 'closed'""")
        check(bad == 0, "no open action is left under a cancelled case (%s)" % bad)
        s1.close()
        s2.close()
        setup.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
