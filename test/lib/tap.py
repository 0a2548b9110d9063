"""TAP output for the client tests in test/*.py: tools/test.sh counts the
"ok N" and "not ok N" lines they print. Also their scratch databases."""
import atexit
import contextlib
import os
import sys
import time

import psycopg2

_count = 0
_failures = 0

LIB = os.path.dirname(os.path.abspath(__file__))


def check(cond, what):
    """One numbered test line; cond decides ok or not ok."""
    global _count, _failures
    _count += 1
    print(("ok %d - %s" if cond else "not ok %d - %s") % (_count, what))
    sys.stdout.flush()
    if not cond:
        _failures += 1


def skip(what, reason):
    """One numbered test line that did not run: "ok N - what # SKIP reason"
    (tools/test.sh counts these apart)."""
    global _count
    _count += 1
    print("ok %d - %s # SKIP %s" % (_count, what, reason))
    sys.stdout.flush()


def failures():
    """How many tests have failed so far."""
    return _failures


def done():
    """Print the plan; return the exit status (1 if any test failed)."""
    print("1..%d" % _count)
    return 1 if _failures else 0


def _admin(sql):
    # From the maintenance database, on the server the PG* environment names.
    conn = psycopg2.connect(dbname="postgres")
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
    finally:
        conn.close()


_scratch = set()


def create_scratch_db(prefix):
    """A new empty database of this test's own, "<prefix>_<pid>" (a leftover
    of that name is dropped first); returns its name. It is dropped at exit
    if the test has not dropped it, even after an exception."""
    name = "%s_%d" % (prefix, os.getpid())
    drop_scratch_db(name)
    _admin('CREATE DATABASE "%s"' % name)
    _scratch.add(name)
    return name


def drop_scratch_db(name):
    """Drop it, even with sessions a failed test left behind."""
    _admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % name)
    _scratch.discard(name)


@atexit.register
def _drop_left_over():
    for name in list(_scratch):
        try:
            drop_scratch_db(name)
        except psycopg2.Error as e:
            print("# could not drop %s: %s" % (name, str(e).strip()))


@contextlib.contextmanager
def scratch_db(prefix):
    """with scratch_db("workitem_x") as db: a database of the test's own,
    dropped at the end whatever happens."""
    name = create_scratch_db(prefix)
    try:
        yield name
    finally:
        drop_scratch_db(name)


def read_lib(name):
    """The text of a fixture in test/lib (e.g. due_items.sql)."""
    with open(os.path.join(LIB, name)) as f:
        return f.read()


def wait_until_blocked(watch, pid, tries=600):
    """Wait (through connection watch) until backend pid waits for a lock;
    False if it never does within tries x 50 ms."""
    for _ in range(tries):
        with watch.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_locks WHERE pid = %s AND NOT granted", (pid,))
            if cur.fetchone()[0] > 0:
                return True
        time.sleep(0.05)
    return False
