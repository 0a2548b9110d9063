#!/usr/bin/python3
"""The views for BI tools, as a BI tool sees them through a real driver
(psycopg2): the column names and types of workitem.items, queue,
transitions and daily_flow (test/odbc.py reads all of them through psqlODBC) (type OIDs of cursor.description, named through
pg_type), and their rows after a scripted story.

Runs against the server named by the usual PG* environment variables; it
creates (and drops) its own database so that its counts are its own."""
import os
import sys
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, scratch_db  # noqa: E402


# What a BI tool sees: (column, type) in order.
EXPECTED = {
    "items": [
        ("id", "bigint"), ("kind", "text"), ("status", "text"),
        ("wait_type", "text"), ("wait_until", "timestamp with time zone"),
        ("wait_reason", "text"), ("resolution", "text"), ("title", "text"),
        ("category", "text"), ("priority", "text"), ("queue", "text"), ("assignee", "text"),
        ("requester", "text"), ("primary_contact", "text"), ("case_id", "bigint"),
        ("parent_id", "bigint"), ("merged_into", "bigint"), ("follows_id", "bigint"),
        ("highlighted", "boolean"), ("needs_attention", "boolean"), ("attention_reason", "text"),
        ("created_at", "timestamp with time zone"), ("submitted_at", "timestamp with time zone"),
        ("status_changed_at", "timestamp with time zone"),
        ("first_resolved_at", "timestamp with time zone"),
        ("resolved_at", "timestamp with time zone"), ("closed_at", "timestamp with time zone"),
        ("feedback_until", "timestamp with time zone"), ("age", "interval"), ("age_hours", "double precision"),
        ("time_in_status", "interval"), ("time_in_status_hours", "double precision"), ("sla_policy", "text"),
        ("resolution_due_at", "timestamp with time zone"), ("resolution_remaining", "interval"), ("resolution_remaining_hours", "double precision"),
        ("resolution_state", "text"), ("first_response_due_at", "timestamp with time zone"),
        ("first_response_remaining", "interval"), ("first_response_remaining_hours", "double precision"),
        ("first_response_state", "text"),
    ],
    "queue": [
        ("section", "text"), ("position", "bigint"), ("id", "bigint"), ("kind", "text"),
        ("status", "text"), ("assignee", "text"), ("title", "text"), ("category", "text"),
        ("priority", "text"), ("queue", "text"), ("highlighted", "boolean"),
        ("needs_attention", "boolean"), ("attention_reason", "text"),
        ("wait_type", "text"), ("wait_reason", "text"),
        ("comes_back_at", "timestamp with time zone"), ("close_if_no_reply", "boolean"),
        ("resolution_due_at", "timestamp with time zone"), ("resolution_state", "text"),
        ("since", "timestamp with time zone"), ("time_in_status", "interval"),
        ("time_in_status_hours", "double precision"),
    ],
    "transitions": [
        ("event_id", "bigint"), ("item_id", "bigint"), ("source", "regclass"), ("row_key", "text"),
        ("source_name", "text"), ("kind", "text"), ("at", "timestamp with time zone"), ("actor", "text"),
        ("is_creation", "boolean"), ("from_status", "text"),
        ("to_status", "text"), ("reason", "text"),
        ("entered_previous_at", "timestamp with time zone"), ("time_in_previous", "interval"),
        ("time_in_previous_hours", "double precision"), ("working_time_in_previous", "interval"),
        ("working_hours_in_previous", "double precision"),
    ],
    "daily_flow": [
        ("day", "date"), ("kind", "text"), ("category", "text"), ("created", "bigint"),
        ("submitted", "bigint"), ("resolved", "bigint"), ("closed", "bigint"), ("reopened", "bigint"),
        ("source_name", "text"),
    ],
}


def main():
    with scratch_db("workitem_views") as db:
        conn = None
        try:
            conn = psycopg2.connect(dbname=db)
            conn.autocommit = True
            story(conn, db)
        except Exception as e:  # a failure of the story itself is a failed test
            check(False, "the story runs to the end (%s)" % str(e).strip().replace("\n", " "))
        finally:
            if conn is not None:
                conn.close()
    return done()


def story(conn, db):
    cur = conn.cursor()
    cur.execute("SET client_min_messages = warning")
    cur.execute("CREATE EXTENSION workitem")
    cur.execute("SET workitem.actor = 'bea'")

    def one(sql, args=()):
        cur.execute(sql, args)
        return cur.fetchone()

    def step(sql, args=()):
        # each step is its own transaction: events get distinct times
        cur.execute(sql, args)
        time.sleep(0.02)

    # Column names and types, as the driver reports them.
    cur.execute("SELECT oid, format_type(oid, NULL) FROM pg_type")
    type_name = dict(cur.fetchall())
    for view, want in EXPECTED.items():
        cur.execute("SELECT * FROM workitem.%s LIMIT 0" % view)
        got = [(d.name, type_name.get(d.type_code, "?%s" % d.type_code)) for d in cur.description]
        check(got == want, "workitem.%s: columns and types as documented%s"
              % (view, "" if got == want else " (got %s)" % got))

    # The story: SLA policy for the category on the 24x7 calendar.
    step("""INSERT INTO workitem.category_config (kind, category, feedback_window, days_to_wait)
            VALUES ('ticket', 'bi', '7 days', 2)""")
    step("INSERT INTO workitem.sla_policy (name, category) VALUES ('bi', 'bi')")
    step("""INSERT INTO workitem.sla_target (policy_id, target, working_time)
            SELECT id, 'resolution', interval '8 hours' FROM workitem.sla_policy WHERE name = 'bi'
            UNION ALL SELECT id, 'first_response', '1 hour' FROM workitem.sla_policy WHERE name = 'bi'""")
    a = one("SELECT id FROM workitem.create_ticket('A', 'full life', 'bi', 'c@x', 'c@x')")[0]
    time.sleep(0.02)
    step("SELECT workitem.submit(%s)", (a,))
    step("SELECT workitem.start(%s)", (a,))
    step("SELECT workitem.wait_more_info(%s)", (a,))
    step("SELECT workitem.record_message(%s, 'inbound', 'email', 'Re', 'the info')", (a,))
    step("SELECT workitem.record_message(%s, 'outbound', 'email', 'Re', 'thanks')", (a,))
    step("SELECT workitem.resolve(%s, 'customer_response')", (a,))
    step("SELECT workitem.reopen(%s, 'still broken')", (a,))
    step("SELECT workitem.resolve(%s, 'customer_response', 'fixed now')", (a,))
    step("SELECT workitem.close(%s)", (a,))
    b = one("SELECT id FROM workitem.create_ticket('B', 'in the inbox', 'bi', 'c@x', 'c@x', submit => true)")[0]
    time.sleep(0.02)
    c = one("SELECT id FROM workitem.create_ticket('C', 'follow-up', 'bi', 'c@x', 'c@x', submit => true)")[0]
    time.sleep(0.02)
    step("SELECT workitem.wait_until(%s, now() + interval '2 days', 'call back')", (c,))
    e = one("SELECT id FROM workitem.create_ticket('E', 'woken', 'bi', 'c@x', 'c@x', submit => true)")[0]
    time.sleep(0.02)
    step("SELECT workitem.start(%s, 'carl')", (e,))
    step("SELECT workitem.wait_more_info(%s)", (e,))
    step("SELECT workitem.record_message(%s, 'inbound', 'email', 'Re', 'answer')", (e,))
    d = one("SELECT id FROM workitem.create_case('D', 'a paused case', 'bi', submit => true)")[0]
    time.sleep(0.02)
    step("SELECT workitem.pause(%s, 'vendor')", (d,))
    f = one("SELECT id FROM workitem.create_ticket('F', 'no policy', 'other', 'c@x', 'c@x', submit => true)")[0]

    # workitem.items
    cur.execute("""SELECT status, resolution, assignee, age = closed_at - created_at,
                          time_in_status >= interval '0', sla_policy,
                          resolution_state, first_response_state, resolution_due_at IS NULL
                   FROM workitem.items WHERE id = %s""", (a,))
    row = cur.fetchone()
    check(row == ("closed", "customer_response", "bea", True, True, "bi", "met", "met", True),
          "items: the closed ticket, its age up to closing, both targets met (got %s)" % (row,))
    cur.execute("""SELECT status, assignee, resolution_state, resolution_due_at = submitted_at + interval '8 hours',
                          resolution_remaining <= interval '8 hours' AND resolution_remaining > interval '7 hours',
                          first_response_state, first_response_due_at = submitted_at + interval '1 hour',
                          age = now() - created_at, time_in_status = now() - status_changed_at
                   FROM workitem.items WHERE id = %s""", (b,))
    row = cur.fetchone()
    check(row == ("to_do", None, "running", True, True, "running", True, True, True),
          "items: an open ticket's due times, remaining time, age and time in status (got %s)" % (row,))
    cur.execute("""SELECT status, wait_type, wait_reason, wait_until > now() + interval '47 hours'
                   FROM workitem.items WHERE id = %s""", (c,))
    row = cur.fetchone()
    check(row == ("waiting", "follow_up", "call back", True), "items: the wait of a waiting ticket (got %s)" % (row,))
    cur.execute("""SELECT sla_policy, resolution_state, first_response_state, resolution_due_at
                   FROM workitem.items WHERE id = %s""", (f,))
    row = cur.fetchone()
    check(row == (None, "none", "none", None), "items: no policy, state none (got %s)" % (row,))
    cur.execute("SELECT count(*), count(DISTINCT id) FROM workitem.items")
    row = cur.fetchone()
    check(row[0] == row[1] == 6, "items: one row per item (got %s)" % (row,))

    # workitem.queue
    cur.execute("""SELECT section, position, id, status, highlighted, comes_back_at IS NOT NULL
                   FROM workitem.queue""")
    rows = cur.fetchall()
    inbox = [(r[1], r[2], r[3], r[4]) for r in rows if r[0] == "inbox"]
    check(inbox == [(1, e, "in_progress", True), (2, b, "to_do", False), (3, f, "to_do", False)],
          "queue: inbox = to_do and in_progress, highlighted first (got %s)" % inbox)
    waiting = [(r[1], r[2], r[5]) for r in rows if r[0] == "waiting"]
    check(waiting == [(1, c, True), (2, d, False)],
          "queue: waiting items by the time they come back, a pause last (got %s)" % waiting)
    cur.execute("SELECT comes_back_at = (SELECT wait_until FROM workitem.item WHERE id = %s) FROM workitem.queue WHERE id = %s",
                (c, c))
    check(cur.fetchone() == (True,), "queue: comes_back_at is the wait_until")
    check(all(r[2] not in (a,) for r in rows), "queue: closed items are not in it")

    # workitem.transitions
    cur.execute("""SELECT from_status, to_status, is_creation FROM workitem.transitions
                   WHERE item_id = %s ORDER BY event_id""", (a,))
    got = cur.fetchall()
    want = [(None, "draft", True), ("draft", "to_do", False), ("to_do", "in_progress", False),
            ("in_progress", "waiting", False), ("waiting", "in_progress", False),
            ("in_progress", "resolved", False), ("resolved", "in_progress", False),
            ("in_progress", "resolved", False), ("resolved", "closed", False)]
    check(got == want, "transitions: the creation and every status change of the story, in order (got %s)" % got)
    cur.execute("""SELECT bool_and(time_in_previous = at - entered_previous_at) FILTER (WHERE NOT is_creation),
                          bool_and(time_in_previous > interval '0') FILTER (WHERE NOT is_creation),
                          bool_and(working_time_in_previous = time_in_previous) FILTER (WHERE NOT is_creation),
                          sum(time_in_previous) = max(at) - min(at),
                          bool_and(time_in_previous IS NULL) FILTER (WHERE is_creation)
                   FROM workitem.transitions WHERE item_id = %s""", (a,))
    row = cur.fetchone()
    check(row == (True, True, True, True, True),
          "transitions: time in the previous status, wall clock and 24x7 working time, adding up (got %s)" % (row,))
    cur.execute("""SELECT t.time_in_previous = (SELECT e2.at - e1.at FROM workitem.event e1, workitem.event e2
                                                 WHERE e1.item_id = %s AND e2.item_id = %s AND e1.what = 'status'
                                                   AND e1.new_value = 'waiting' AND e2.what = 'status'
                                                   AND e2.old_value = 'waiting'),
                          t.actor, t.kind
                   FROM workitem.transitions t WHERE t.item_id = %s AND t.from_status = 'waiting'""", (a, a, a))
    row = cur.fetchone()
    check(row == (True, "bea", "ticket"), "transitions: the wait lasted from the wait event to the wake-up (got %s)" % (row,))

    # a row of an attached table: its moves are transitions too
    step("CREATE TABLE public.jobs (id int PRIMARY KEY, status text NOT NULL)")
    step("SELECT workitem.attach('public.jobs', kind => 'case')")
    step("INSERT INTO public.jobs VALUES (7, 'to_do')")
    step("UPDATE public.jobs SET status = 'in_progress'")
    cur.execute("""SELECT item_id, source::text, row_key, kind, from_status, to_status, time_in_previous IS NOT NULL
                   FROM workitem.transitions WHERE source IS NOT NULL ORDER BY event_id""")
    got = cur.fetchall()
    check(got == [(None, "jobs", "7", "case", None, "to_do", False), (None, "jobs", "7", "case", "to_do", "in_progress", True)],
          "transitions: an attached table's row, with its table, key and kind (got %s)" % got)

    # a BI tool logs in as a member of workitem_reader: the views, not the tables
    bi_role = "wi_bi_%d" % os.getpid()
    cur.execute("CREATE ROLE %s LOGIN IN ROLE workitem_reader" % bi_role)
    try:
        bi = psycopg2.connect(dbname=db, user=bi_role)
        bi.autocommit = True
        with bi.cursor() as bcur:
            bcur.execute("SELECT count(*) FROM workitem.items")
            n_items = bcur.fetchone()[0]
            bcur.execute("SELECT count(*) FROM workitem.queue")
            n_queue = bcur.fetchone()[0]
            try:
                bcur.execute("SELECT count(*) FROM workitem.item")
                denied = None
            except psycopg2.Error as err:
                denied = err.pgcode
        bi.close()
        check(n_items == 6 and n_queue == 5, "a reader login sees the views (items %s, queue %s)" % (n_items, n_queue))
        check(denied == "42501", "... and not the table workitem.item (got %s)" % denied)
    finally:
        cur.execute("DROP ROLE %s" % bi_role)

    # workitem.daily_flow
    cur.execute("""SELECT kind, category, created, submitted, resolved, closed, reopened, source_name
                   FROM workitem.daily_flow WHERE day = current_date ORDER BY kind, category NULLS LAST""")
    got = cur.fetchall()
    # the attached table's row counts under the table's kind, category NULL, source_name the table
    want = [("case", "bi", 1, 1, 0, 0, 0, None), ("case", None, 1, 1, 0, 0, 0, "jobs"),
            ("ticket", "bi", 4, 4, 2, 1, 1, None), ("ticket", "other", 1, 1, 0, 0, 0, None)]
    check(got == want, "daily_flow: today's counts per kind and category (got %s)" % got)
    # a direct close (spam) counts as resolved and closed, not submitted
    step("SELECT workitem.resolve(id, 'spam') FROM workitem.create_ticket('G', 'spam', 'bi') AS t")
    cur.execute("""SELECT created, submitted, resolved, closed FROM workitem.daily_flow
                   WHERE day = current_date AND kind = 'ticket' AND category = 'bi'""")
    row = cur.fetchone()
    check(row == (5, 4, 3, 2), "daily_flow: a draft closed as spam is created, resolved and closed, not submitted (got %s)" % (row,))



if __name__ == "__main__":
    sys.exit(main())
