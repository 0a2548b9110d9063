#!/usr/bin/python3
"""Issue 16: two real connections racing on one timer. Starting the same
timer at once makes one timer (the second start waits for the first and
gets it back); the unique index refuses a second row even written by hand;
a resolve and a start, or two stops, end in one clean state.

Runs against the server named by the usual PG* environment variables, in a
database where the workitem extension exists (PGDATABASE)."""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done  # noqa: E402


def connect(actor):
    conn = psycopg2.connect("")
    with conn.cursor() as cur:
        cur.execute("SET workitem.actor = %s", (actor,))
    conn.commit()
    return conn


def one(conn, sql, args=()):
    with conn.cursor() as cur:
        cur.execute(sql, args)
        row = cur.fetchone()
    conn.commit()
    return row


def new_ticket(conn):
    item = one(conn, """SELECT id FROM workitem.create_ticket('Timer race', 'two clicks', 'timer-race',
                        'c@x', 'c@x', submit => true)""")[0]
    one(conn, "SELECT status FROM workitem.start(%s, 'tech')", (item,))
    return item


def race(first_sql, second_sql, args, actor="tech"):
    """A runs first_sql and keeps its transaction open; B runs second_sql,
    which must wait for A. Returns B's outcome and rows."""
    a, b = connect(actor), connect(actor)
    out = {}
    with a.cursor() as cur:
        cur.execute(first_sql, args)
        out["a_row"] = cur.fetchone()

    def second():
        try:
            with b.cursor() as cur:
                cur.execute(second_sql, args)
                out["b_row"] = cur.fetchone()
            b.commit()
            out["b"] = "ok"
        except psycopg2.Error as e:
            b.rollback()
            out["b"] = e.pgcode

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.5)
    out["blocked"] = t.is_alive()
    a.commit()
    t.join(10)
    a.close()
    b.close()
    return out


def main():
    setup = connect("setup")
    one(setup, """INSERT INTO workitem.category_config (kind, category, feedback_window)
                  VALUES ('ticket', 'timer-race', '1 day') ON CONFLICT DO NOTHING RETURNING 1""")
    item = new_ticket(setup)

    start = "SELECT item_id, resource, started_at::text FROM workitem.start_timer(%s)"
    out = race(start, start, (item,))
    check(out["blocked"], "a second start_timer() of the same timer waits for the first")
    check(out.get("b") == "ok", "... then succeeds as a no-op (got %s)" % out.get("b"))
    check(out.get("b_row") == out.get("a_row"), "... returning the first session's timer: %s" % (out.get("b_row"),))
    check(one(setup, "SELECT count(*) FROM workitem.timer WHERE item_id = %s", (item,))[0] == 1,
          "one timer runs, not two")
    check(one(setup, "SELECT count(*) FROM workitem.event WHERE item_id = %s AND what = 'timer'", (item,))[0] == 1,
          "one start is logged")

    # The unique index holds even without the item's lock: two rows written by hand.
    ins = "INSERT INTO workitem.timer (item_id, resource, started_by) VALUES (%s, 'hand', 'owner') RETURNING resource"
    out = race(ins, ins, (item,))
    check(out["blocked"], "two INSERTs of one timer by hand: the second waits on the unique index")
    check(out.get("b") == "23505", "... and is refused with 23505 (got %s)" % out.get("b"))
    one(setup, "DELETE FROM workitem.timer WHERE item_id = %s AND resource = 'hand' RETURNING 1", (item,))

    stop = "SELECT id, tracked FROM workitem.stop_timer(%s)"
    time.sleep(0.01)
    out = race(stop, stop, (item,))
    check(out.get("a_row") is not None and out["a_row"][1], "the first stop_timer() makes a tracked entry")
    check(out["blocked"] and out.get("b") == "WI022",
          "a second stop at once waits, then finds no timer (WI022; got %s)" % out.get("b"))
    check(one(setup, "SELECT count(*) FROM workitem.time_entry WHERE item_id = %s AND tracked", (item,))[0] == 1,
          "one tracked entry")

    # Start against resolve, both orders.
    item = new_ticket(setup)
    out = race("SELECT status FROM workitem.resolve(%s, 'customer_response')", start, (item,))
    check(out["blocked"] and out.get("b") == "WI021",
          "resolve first: the start waits, then is refused (WI021; got %s)" % out.get("b"))
    item = new_ticket(setup)
    out = race(start, "SELECT status FROM workitem.resolve(%s, 'customer_response')", (item,))
    check(out["blocked"] and out.get("b") == "ok", "start first: the resolve waits, then succeeds (got %s)" % out.get("b"))
    check(one(setup, "SELECT count(*) FROM workitem.timer WHERE item_id = %s", (item,))[0] == 0,
          "... and stopped the timer the other session committed meanwhile")
    check(one(setup, """SELECT count(*) FROM workitem.event WHERE item_id = %s AND what = 'timer'
                        AND reason = 'item resolved'""", (item,))[0] == 1,
          "... and logged the stop (the entry holds whole seconds: none here)")
    setup.close()
    return done()


if __name__ == "__main__":
    sys.exit(main())
