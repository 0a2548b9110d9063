#!/usr/bin/python3
"""The per-backend cache of sla_policy and category_config (issue 13,
src/config.c) follows changes made by other sessions: at once in READ
COMMITTED, and after the transaction in REPEATABLE READ, where the cache
read under the old snapshot must not outlive it.

Runs against the server named by the usual PG* environment variables; it
creates (and drops) its own database."""
import os
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done  # noqa: E402

DB = "workitem_config_cache_%d" % os.getpid()


def admin_exec(sql):
    conn = psycopg2.connect("")
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


def main():
    admin_exec("CREATE DATABASE %s" % DB)
    a = b = None
    try:
        a = psycopg2.connect(dbname=DB)
        a.autocommit = True
        b = psycopg2.connect(dbname=DB)
        b.autocommit = True
        story(a.cursor(), b.cursor(), a)
    except Exception as e:  # a failure of the story itself is a failed test
        check(False, "the story runs to the end (%s)" % str(e).strip().replace("\n", " "))
    finally:
        for c in (a, b):
            if c is not None:
                c.close()
        admin_exec("DROP DATABASE IF EXISTS %s" % DB)
    return done()


def ticket(cur, category):
    cur.execute("""SELECT id, feedback_window::text, sla_policy_id IS NOT NULL
                   FROM workitem.create_ticket('t', 'd', %s, 'c', 'r', NULL, true) t""", (category,))
    t, fw, has_policy = cur.fetchone()
    cur.execute("SELECT count(*) FROM workitem.sla_clock WHERE item_id = %s", (t,))
    return t, fw, has_policy, cur.fetchone()[0]


def story(a, b, aconn):
    a.execute("CREATE EXTENSION workitem")
    a.execute("SET workitem.actor = 'ann'")
    b.execute("SET workitem.actor = 'bob'")

    # READ COMMITTED: A has read the (empty) configuration; B changes it.
    _, fw, has_policy, clocks = ticket(a, "billing")
    check(fw is None and not has_policy and clocks == 0, "no configuration: no defaults, no policy, no clock")
    b.execute("INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'billing', '3 days')")
    b.execute("INSERT INTO workitem.sla_policy (name) VALUES ('p')")
    b.execute("INSERT INTO workitem.sla_target (policy_id, target, working_time) SELECT id, 'resolution', '8 hours' FROM workitem.sla_policy")
    _, fw, has_policy, clocks = ticket(a, "billing")
    check(fw == "3 days" and has_policy and clocks == 1,
          "another session's new category default and policy apply to the next ticket (got %s %s %s)" % (fw, has_policy, clocks))
    b.execute("UPDATE workitem.category_config SET feedback_window = '5 days'")
    b.execute("UPDATE workitem.sla_policy SET enabled = false")
    _, fw, has_policy, clocks = ticket(a, "billing")
    check(fw == "5 days" and not has_policy and clocks == 0,
          "a changed default and a disabled policy too (got %s %s %s)" % (fw, has_policy, clocks))

    # stop_wait_types: read at each wait
    b.execute("UPDATE workitem.sla_policy SET enabled = true, stop_wait_types = '{}'")
    t, _, _, _ = ticket(a, "billing")
    a.execute("SELECT 1 FROM workitem.start(%s)", (t,))
    b.execute("UPDATE workitem.sla_policy SET stop_wait_types = '{more_info}'")
    a.execute("SELECT 1 FROM workitem.wait_more_info(%s)", (t,))
    a.execute("SELECT state FROM workitem.sla_clock WHERE item_id = %s", (t,))
    check(a.fetchone() == ("paused",), "a wait type another session made stopping pauses the clock")

    # warn_at: read (from the cache) at each start of a clock, for its alarm
    b.execute("UPDATE workitem.sla_policy SET warn_at = '{0.5}'")
    t, _, _, _ = ticket(a, "billing")
    a.execute("""SELECT alarm_at = workitem.business_add(calendar, started_at, target_time / 2)
                 FROM workitem.sla_clock WHERE item_id = %s""", (t,))
    half = a.fetchone()
    b.execute("UPDATE workitem.sla_policy SET warn_at = '{0.25}'")
    t, _, _, _ = ticket(a, "billing")
    a.execute("""SELECT alarm_at = workitem.business_add(calendar, started_at, target_time / 4)
                 FROM workitem.sla_clock WHERE item_id = %s""", (t,))
    quarter = a.fetchone()
    check(half == (True,) and quarter == (True,),
          "a clock's first alarm follows the warn_at another session set (half: %s, then quarter: %s)" % (half, quarter))

    # REPEATABLE READ: A's snapshot predates B's change; what A reads under
    # it is right for that transaction, and must not stay after it.
    aconn.autocommit = False
    a.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    a.execute("SELECT count(*) FROM workitem.item")
    b.execute("UPDATE workitem.category_config SET feedback_window = '9 days'")
    _, fw, _, _ = ticket(a, "billing")
    check(fw == "5 days", "in REPEATABLE READ, the ticket gets the default of the transaction's snapshot (got %s)" % fw)
    aconn.commit()
    aconn.autocommit = True
    _, fw, _, _ = ticket(a, "billing")
    check(fw == "9 days", "after it, the next ticket gets the new default (got %s)" % fw)

    # a change rolled back leaves nothing behind in the cache
    aconn.autocommit = False
    a.execute("UPDATE workitem.category_config SET feedback_window = '1 day'")
    _, fw, _, _ = ticket(a, "billing")
    check(fw == "1 day", "a change of this transaction applies within it (got %s)" % fw)
    aconn.rollback()
    aconn.autocommit = True
    _, fw, _, _ = ticket(a, "billing")
    check(fw == "9 days", "and is gone after its rollback (got %s)" % fw)


if __name__ == "__main__":
    sys.exit(main())
