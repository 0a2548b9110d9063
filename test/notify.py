#!/usr/bin/python3
"""NOTIFY workitem_moves (issue 15): a listener hears, at commit, every move
of an item and of a row of an attached table, as a small JSON payload, and
nothing of a move that was rolled back or of an update that is no move."""
import json
import os
import select
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, scratch_db  # noqa: E402


def heard(conn):
    """The payloads waiting on conn, in order."""
    select.select([conn], [], [], 2)
    conn.poll()
    out = [json.loads(n.payload) for n in conn.notifies if n.channel == "workitem_moves"]
    conn.notifies.clear()
    return out


with scratch_db("workitem_notify") as db:
    app = psycopg2.connect(dbname=db)
    app.autocommit = True
    ear = psycopg2.connect(dbname=db)
    ear.autocommit = True
    ear.cursor().execute("LISTEN workitem_moves")
    cur = app.cursor()
    cur.execute("CREATE EXTENSION workitem")
    cur.execute("SET workitem.actor = 'ann'")

    # an item: created, then started; nothing before the commit
    app.autocommit = False
    cur.execute("SELECT (workitem.create_ticket('Printer on fire', 'smoke', 'hardware', 'bob', 'bob', submit => true)).id")
    item = cur.fetchone()[0]
    check(heard(ear) == [], "nothing is heard before the commit")
    app.commit()
    got = heard(ear)
    check(got == [{"item": item, "from": None, "to": "to_do", "actor": "ann"}],
          "a created item is heard at commit: %r" % got)
    cur.execute("SELECT workitem.start(%s)", (item,))
    app.commit()
    got = heard(ear)
    check(got == [{"item": item, "from": "to_do", "to": "in_progress", "actor": "ann"}],
          "a started item is heard with from, to and actor: %r" % got)
    cur.execute("SELECT workitem.resolve(%s, 'completed')", (item,))
    app.rollback()
    check(heard(ear) == [], "a move rolled back is never heard")
    cur.execute("UPDATE workitem.item SET title = 'Printer still on fire' WHERE id = %s", (item,))
    app.commit()
    check(heard(ear) == [], "an update that is no move is not heard")

    # an attached row: table, key, ours and the table's labels
    cur.execute("""CREATE TABLE tickets (id int PRIMARY KEY, status text NOT NULL DEFAULT 'new')""")
    cur.execute("""SELECT workitem.attach('tickets', mode => 'observe',
                   label_map => '{"new": "to_do", "open": "in_progress", "deleted": "closed"}')""")
    cur.execute("INSERT INTO tickets VALUES (7)")
    cur.execute("UPDATE tickets SET status = 'open' WHERE id = 7")
    app.commit()
    got = heard(ear)
    check(got == [{"table": "public.tickets", "key": "7", "from": None, "to": "to_do",
                   "from_label": None, "to_label": "new", "actor": "ann"},
                  {"table": "public.tickets", "key": "7", "from": "to_do", "to": "in_progress",
                   "from_label": "new", "to_label": "open", "actor": "ann"}],
          "an attached row's moves are heard with its table, key and labels: %r" % got)
    cur.execute("DELETE FROM tickets WHERE id = 7")
    app.commit()
    got = heard(ear)
    check(len(got) == 1 and got[0]["to"] is None and got[0]["from"] == "in_progress",
          "a deleted row is heard with to null: %r" % got)
    # long keys are cut: the payload stays small
    cur.execute("CREATE TABLE wide (k text PRIMARY KEY, status text NOT NULL)")
    cur.execute("SELECT workitem.attach('wide')")
    cur.execute("INSERT INTO wide VALUES (repeat('x', 5000), 'to_do')")
    app.commit()
    got = heard(ear)
    check(len(got) == 1 and len(json.dumps(got[0])) < 8000 and got[0]["key"] == "x" * 256,
          "a long key is cut to 256 bytes")
    # a table attached for the rules alone (log_events => false): silent
    cur.execute("CREATE TABLE quiet_jobs (id int PRIMARY KEY, status text NOT NULL DEFAULT 'draft')")
    cur.execute("SELECT workitem.attach('quiet_jobs', log_events => false)")
    cur.execute("INSERT INTO quiet_jobs VALUES (1)")
    cur.execute("UPDATE quiet_jobs SET status = 'to_do' WHERE id = 1")
    app.commit()
    check(heard(ear) == [], "a table attached with log_events => false sends nothing")
    # workitem.notify = off: silent
    cur.execute("SET workitem.notify = off")
    cur.execute("INSERT INTO wide VALUES ('quiet', 'to_do')")
    app.commit()
    check(heard(ear) == [], "workitem.notify = off sends nothing")
    app.close()
    ear.close()

sys.exit(done())
