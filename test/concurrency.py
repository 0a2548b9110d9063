#!/usr/bin/python3
"""Two real connections acting on one item must serialise: one wins, the
other gets a clean error or sees the result, and no event is written twice.

Runs against the server named by the usual PG* environment variables, in a
database where the workitem extension exists (PGDATABASE)."""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done  # noqa: E402
import psycopg2.errors




def connect(actor):
    conn = psycopg2.connect("")
    conn.autocommit = False
    with conn.cursor() as cur:
        cur.execute("SET workitem.actor = %s", (actor,))
    conn.commit()
    return conn


def new_ticket(conn, category):
    with conn.cursor() as cur:
        cur.execute("""SELECT id FROM workitem.create_ticket('Race', 'Two agents', %s,
                       'c@x', 'c@x', submit => true)""", (category,))
        item = cur.fetchone()[0]
        cur.execute("SELECT workitem.start(%s)", (item,))
    conn.commit()
    return item


def race(first_sql, second_sql, item):
    """Session A runs first_sql and holds its transaction open; session B
    runs second_sql, which must block on the row lock until A commits."""
    a, b = connect("agent_a"), connect("agent_b")
    outcome = {}
    with a.cursor() as cur:
        cur.execute(first_sql, (item,))

    def second():
        try:
            with b.cursor() as cur:
                cur.execute(second_sql, (item,))
            b.commit()
            outcome["b"] = "ok"
        except psycopg2.Error as e:
            b.rollback()
            outcome["b"] = e.pgcode
            outcome["msg"] = e.pgerror

    t = threading.Thread(target=second)
    t.start()
    time.sleep(0.5)
    outcome["blocked"] = t.is_alive()
    a.commit()
    t.join(10)
    a.close()
    b.close()
    return outcome


def events(conn, item, what, new_value):
    with conn.cursor() as cur:
        cur.execute("""SELECT count(*) FROM workitem.event
                       WHERE item_id = %s AND what = %s AND new_value = %s""",
                    (item, what, new_value))
        n = cur.fetchone()[0]
    conn.commit()
    return n


def status(conn, item):
    with conn.cursor() as cur:
        cur.execute("SELECT status, resolved_by FROM workitem.item WHERE id = %s", (item,))
        row = cur.fetchone()
    conn.commit()
    return row


def main():
    setup = connect("setup")
    with setup.cursor() as cur:
        cur.execute("""INSERT INTO workitem.category_config (kind, category, feedback_window)
                       VALUES ('ticket', 'race', '1 day') ON CONFLICT DO NOTHING""")
    setup.commit()

    # Two resolvers through the operations: B waits, then is refused cleanly.
    item = new_ticket(setup, "race")
    sql = "SELECT workitem.resolve(%s, 'customer_response')"
    out = race(sql, sql, item)
    check(out["blocked"], "second resolve() waits for the first one's row lock")
    check(out.get("b") == "WI001", "second resolve() is refused with WI001 (got %s)" % out.get("b"))
    check(status(setup, item) == ("resolved", "agent_a"), "the first resolver's result stands")
    check(events(setup, item, "status", "resolved") == 1, "exactly one resolved event")

    # Two closers: one closes, the other is refused; one closed event.
    sql = "SELECT workitem.close(%s)"
    out = race(sql, sql, item)
    check(out["blocked"], "second close() waits")
    check(out.get("b") == "WI001", "second close() is refused with WI001 (got %s)" % out.get("b"))
    check(events(setup, item, "status", "closed") == 1, "exactly one closed event (no double close)")

    # Plain UPDATEs from two clients: B re-checks the row A committed.
    item = new_ticket(setup, "race")
    out = race("UPDATE workitem.item SET status = 'resolved', resolution = 'customer_response' WHERE id = %s",
               "UPDATE workitem.item SET status = 'resolved', resolution = 'rejected' WHERE id = %s",
               item)
    check(out["blocked"], "second plain UPDATE waits")
    check(out.get("b") == "WI004", "second UPDATE cannot change the resolution (got %s)" % out.get("b"))
    check(events(setup, item, "status", "resolved") == 1, "one resolved event after two UPDATEs")

    # Resolve against wait: whichever commits first wins, the other sees it.
    item = new_ticket(setup, "race")
    out = race("SELECT workitem.wait_more_info(%s, 2)",
               "SELECT workitem.resolve(%s, 'customer_response')", item)
    check(out.get("b") == "ok", "resolve after a committed wait succeeds (got %s)" % out.get("b"))
    check(status(setup, item)[0] == "resolved", "the item ends resolved")
    with setup.cursor() as cur:
        cur.execute("""SELECT array_agg(new_value ORDER BY id) FROM workitem.event
                       WHERE item_id = %s AND what = 'status'""", (item,))
        seq = cur.fetchone()[0]
    setup.commit()
    check(seq == ["in_progress", "waiting", "resolved"], "both moves are logged in order: %s" % seq)

    # A reply arrives while the agent resolves: both orders end cleanly and
    # the message is stored either way.
    for first, label in (("resolve", "resolve commits first"), ("reply", "reply commits first")):
        item = new_ticket(setup, "race")
        resolve = "SELECT workitem.resolve(%s, 'customer_response')"
        reply = "SELECT workitem.record_message(%s, 'inbound', 'email', 'Re', 'one more thing')"
        out = race(resolve, reply, item) if first == "resolve" else race(reply, resolve, item)
        check(out["blocked"], "%s: the other session waits" % label)
        check(out.get("b") == "ok", "%s: the second one succeeds too (got %s)" % (label, out.get("b")))
        with setup.cursor() as cur:
            cur.execute("SELECT count(*) FROM workitem.message WHERE item_id = %s AND body = 'one more thing'",
                        (item,))
            stored = cur.fetchone()[0]
        setup.commit()
        check(stored == 1, "%s: the reply is stored once" % label)
        # resolve then reply: the reply reopens it (within the window);
        # reply then resolve: it ends resolved.
        want = "in_progress" if first == "resolve" else "resolved"
        check(status(setup, item)[0] == want, "%s: the item ends %s" % (label, want))

    return done()


if __name__ == "__main__":
    sys.exit(main())
