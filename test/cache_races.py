#!/usr/bin/python3
"""Invalidations that arrive while a backend cache is being loaded, with two
real connections: session B holds a catalog (or calendar) table locked,
makes a change whose invalidation the other backend must accept, and
commits while session A's load waits for that lock. A then takes the
lock, accepts B's invalidation in the middle of its load, and must go on:
neither the attached-table cache nor the calendar cache may be freed under
its loader (before the fix, the attached-table case crashed the backend,
and so restarted the server, every time).

Runs against the server named by the usual PG* environment variables, in a
database where the workitem extension exists (PGDATABASE)."""
import os
import sys
import threading
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, wait_until_blocked  # noqa: E402


def connect():
    conn = psycopg2.connect("")
    conn.autocommit = True
    return conn


def race(setup_b, statement, params):
    """A (a fresh backend) runs statement while B, after setup_b, holds
    its locks; B commits once A waits. Returns (A's row or exception,
    whether A waited, A's connection)."""
    watch, a, b = connect(), connect(), connect()
    with a.cursor() as cur:
        cur.execute("SET workitem.actor = 'racer'")
        cur.execute("SELECT pg_backend_pid()")
        a_pid = cur.fetchone()[0]
    b.autocommit = False
    with b.cursor() as cur:
        for sql in setup_b:
            cur.execute(sql)
    outcome = {}

    def run_a():
        try:
            with a.cursor() as cur:
                cur.execute(statement, params)
                outcome["row"] = cur.fetchone() if cur.description else None
        except psycopg2.Error as e:
            outcome["error"] = e

    t = threading.Thread(target=run_a)
    t.start()
    waited = wait_until_blocked(watch, a_pid)
    b.commit()
    t.join(60)
    watch.close()
    b.close()
    return outcome.get("row", outcome.get("error")), waited, a


def server_up():
    try:
        c = connect()
        with c.cursor() as cur:
            cur.execute("SELECT 1")
        c.close()
        return True
    except psycopg2.Error:
        return False


def wait_server():
    for _ in range(300):
        if server_up():
            return
        time.sleep(0.1)


setup = connect()
with setup.cursor() as cur:
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP SCHEMA IF EXISTS races CASCADE")
    cur.execute("CREATE SCHEMA races")
    cur.execute("CREATE TABLE races.t (id int PRIMARY KEY, status text NOT NULL)")
    cur.execute("INSERT INTO races.t VALUES (1, 'draft')")
    cur.execute("SELECT workitem.attach('races.t')")
    cur.execute("CREATE TABLE races.other (x int)")
    cur.execute("DELETE FROM workitem.calendar_hours WHERE calendar = 'races'")
    cur.execute("DELETE FROM workitem.calendar WHERE name = 'races'")
    cur.execute("INSERT INTO workitem.calendar (name, time_zone) VALUES ('races', 'UTC')")
    cur.execute("""INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends)
                   SELECT 'races', d, '09:00', '17:00' FROM generate_series(1, 5) d""")
setup.close()

# 1. The attached-table cache: A's first UPDATE loads the trigger's entry,
# which reads our enum labels from pg_enum (a new lock: invalidations are
# accepted there). B changes another table meanwhile.
got, waited, a = race(["LOCK TABLE pg_catalog.pg_enum IN ACCESS EXCLUSIVE MODE",
                       "ALTER TABLE races.other ADD COLUMN y int"],
                      "UPDATE races.t SET status = 'to_do' WHERE id = 1 RETURNING status", None)
check(waited, "attached table: A's load waited for the lock B held (the invalidation came mid-load)")
check(got == ("to_do",), "attached table: A's UPDATE went through the trigger after the mid-load "
      "invalidation (got %r)" % (got,))
check(server_up(), "attached table: the server did not crash")
wait_server()
try:
    with a.cursor() as cur:
        cur.execute("UPDATE races.t SET status = 'draft' WHERE id = 1")
    check(False, "attached table: the cache A loaded still enforces the rules")
except psycopg2.Error as e:
    check(e.pgcode == "WI001", "attached table: the cache A loaded still enforces the rules (%s)" % e.pgcode)
a.close()

# 2. The calendar cache: A's load reads calendar_hours, which B holds
# locked while it changes the calendar (the calendar's invalidation).
got, waited, a = race(["LOCK TABLE workitem.calendar_hours IN ACCESS EXCLUSIVE MODE",
                       "UPDATE workitem.calendar SET time_zone = time_zone WHERE name = 'races'"],
                      "SELECT workitem.business_time('races', '2026-01-05 00:00+00', '2026-01-06 00:00+00')",
                      None)
check(waited, "calendar: A's load waited for the lock B held (the invalidation came mid-load)")
check(got is not None and not isinstance(got, Exception) and str(got[0]) == "8:00:00",
      "calendar: A's business_time after the mid-load invalidation is 8 hours (got %r)" % (got,))
check(server_up(), "calendar: the server did not crash")
wait_server()
try:
    # before the fix the callback deleted this context under the loader,
    # which went on writing into freed memory
    with a.cursor() as cur:
        cur.execute("SELECT count(*) FROM pg_backend_memory_contexts WHERE name = 'workitem calendar'")
        kept = cur.fetchone()[0]
except psycopg2.Error as e:
    kept = e
check(kept == 1, "calendar: A's cache keeps the calendar it loaded, in one context (got %r)" % (kept,))
try:
    other = connect()
    with other.cursor() as cur:
        cur.execute("UPDATE workitem.calendar_hours SET ends = '18:00' WHERE calendar = 'races'")
    other.close()
    with a.cursor() as cur:
        cur.execute("SELECT workitem.business_time('races', '2026-01-05 00:00+00', '2026-01-06 00:00+00')")
        later = str(cur.fetchone()[0])
except psycopg2.Error as e:
    later = e
check(later == "9:00:00", "calendar: A sees the next change of hours (got %r)" % (later,))
a.close()

cleanup = connect()
with cleanup.cursor() as cur:
    cur.execute("SET client_min_messages = warning")
    cur.execute("DROP SCHEMA races CASCADE")
    cur.execute("DELETE FROM workitem.calendar_hours WHERE calendar = 'races'")
    cur.execute("DELETE FROM workitem.calendar WHERE name = 'races'")
cleanup.close()
sys.exit(done())
