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
from tap import check, done  # noqa: E402




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
    db = "workitem_deadlocks_%d" % os.getpid()
    admin = psycopg2.connect(dbname="postgres")
    admin.autocommit = True
    admin.cursor().execute('CREATE DATABASE "%s"' % db)
    try:
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
        check(out.get("b") not in (None, "40P01"),
              "the crossed merge(b, a) is refused cleanly, no deadlock (got %s)" % out.get("b"))
        check(out.get("b") == "WI016", "it sees its target closed by the first merge: WI016 (got %s)" % out.get("b"))
        sa.close()
        sb.close()

        # 2. action unable_to_complete against the cancelling of its case
        codes = {}
        rounds = 60
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
            for k in ("r", "c"):
                codes[out.get(k)] = codes.get(out.get(k), 0) + 1
        check("40P01" not in codes, "%d rounds of resolve(action) against cancel(case): no deadlock (%s)"
              % (rounds, codes))
        bad = one(setup, """SELECT count(*) FROM workitem.item a JOIN workitem.item c ON c.id = a.case_id
                            WHERE c.resolution = 'cancelled' AND a.status <> 'closed'""")
        check(bad == 0, "no open action is left under a cancelled case (%s)" % bad)
        s1.close()
        s2.close()
        setup.close()
    finally:
        admin.cursor().execute('DROP DATABASE IF EXISTS "%s"' % db)
        admin.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
