#!/usr/bin/python3
"""The views for BI tools through the driver Excel, Power BI and Tableau use
on PostgreSQL: psqlODBC (Debian's odbc-postgresql) under unixODBC, with
pyodbc. Installs them with apt when missing (as tools/cluster.sh's
apt_install), makes a scratch database with a short story, a login role
member of workitem_reader, and reads every view for BI tools through a
DSN-less connection over the cluster's unix socket. Checks the type of
each column as the driver reports it (numbers are numbers, times are
timestamps, no type unknown to the driver: an unknown type comes as a
255-wide string) and a few aggregates against the same figures computed
in SQL through psycopg2."""
import datetime
import decimal
import os
import subprocess
import sys

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done, scratch_db, skip  # noqa: E402

VIEWS = ["items", "queue", "transitions", "daily_flow", "activity_log", "item_sla", "sla_breaches",
         "status_durations", "time_per_item", "time_per_resource", "days", "flow_per_day",
         "status_time_per_day", "sla_per_day", "sla_compliance", "attached_sla"]

# PostgreSQL type -> what the driver must report: SQLColumns' type name and
# the Python type pyodbc builds from the driver's SQL type.
KNOWN = {
    "bigint": ("int8", int), "integer": ("int4", int),
    "double precision": ("float8", float), "numeric": ("numeric", decimal.Decimal),
    "text": ("text", str), "boolean": ("bool", bool), "date": ("date", datetime.date),
    "timestamp with time zone": ("timestamptz", datetime.datetime),
    # kept for SQL users, each with its hours next to it (checked below)
    "interval": ("interval", str),
}
# columns of a type the driver does not know, kept on purpose: the index
# path of a filter on the attached table; each has a text twin
TWINS = {("transitions", "source"): "source_name", ("activity_log", "source"): "source_name",
         ("item_sla", "source"): "source_name", ("attached_sla", "source"): "source_name",
         ("status_durations", "source"): "source_name"}


def ensure_driver():
    """unixODBC, psqlODBC and pyodbc from Debian, installed when missing."""
    try:
        import pyodbc  # noqa: F401
        have = os.path.exists("/usr/lib/x86_64-linux-gnu/odbc/psqlodbcw.so") or \
            subprocess.run(["odbcinst", "-q", "-d", "-n", "PostgreSQL Unicode"],
                           capture_output=True).returncode == 0
        if have:
            return None
    except ImportError:
        pass
    root = os.environ.get("ROOT", os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    r = subprocess.run(["bash", "-c", 'source "$1/tools/cluster.sh" && apt_install odbc-postgresql unixodbc python3-pyodbc',
                        "-", root], capture_output=True, text=True)
    if r.returncode != 0:
        return "apt could not install odbc-postgresql unixodbc python3-pyodbc: %s" % r.stderr.strip()[-300:]
    return None


def main():
    err = ensure_driver()
    if err:
        skip("the views through psqlODBC", err)
        return done()
    import pyodbc
    with scratch_db("workitem_odbc") as db:
        conn = psycopg2.connect(dbname=db)
        conn.autocommit = True
        role = "workitem_odbc_%d" % os.getpid()
        cur = conn.cursor()
        try:
            story(cur)
            cur.execute("DROP ROLE IF EXISTS %s" % role)
            cur.execute("CREATE ROLE %s LOGIN IN ROLE workitem_reader" % role)
            host = os.environ.get("PGHOST", "/var/run/postgresql")
            port = os.environ.get("PGPORT", "5432")
            # BoolsAsChar=0: booleans as booleans (the driver's default sends '1'/'0')
            cs = ("Driver={PostgreSQL Unicode};Servername=%s;Port=%s;Database=%s;Username=%s;"
                  "BoolsAsChar=0;" % (host, port, db, role))
            odbc = pyodbc.connect(cs, autocommit=True)
            try:
                read_views(odbc, cur)
                aggregates(odbc, cur)
            finally:
                odbc.close()
        except Exception as e:  # a failure of the test itself is a failed test
            check(False, "the ODBC test runs to the end (%s)" % str(e).strip().replace("\n", " "))
        finally:
            cur.execute("DROP ROLE IF EXISTS %s" % role)
            conn.close()
    return done()


def story(cur):
    """Items in several statuses and kinds, an SLA met and one missed, time logged."""
    for sql in [
        "CREATE EXTENSION IF NOT EXISTS workitem",
        "SET workitem.actor = 'ann'",
        "INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'bi', '7 days')",
        "INSERT INTO workitem.sla_policy (name, category) VALUES ('odbc', 'bi')",
        "INSERT INTO workitem.sla_target (policy_id, target, working_time) "
        "SELECT id, 'resolution', '1 hour' FROM workitem.sla_policy WHERE name = 'odbc'",
    ]:
        cur.execute(sql)
    ids = []
    for n in range(6):
        cur.execute("SELECT id FROM workitem.create_ticket(%s, 'd', 'bi', 'c', 'r', NULL, true)", ("T%d" % n,))
        ids.append(cur.fetchone()[0])
    cur.execute("SELECT id FROM workitem.create_case('Case', 'd', 'bi', 'c', true)")
    case = cur.fetchone()[0]
    cur.execute("SELECT workitem.create_action(%s, 'Act')", (case,))
    for i in ids[:4]:
        cur.execute("SELECT workitem.start(%s)", (i,))
    cur.execute("SELECT workitem.wait_more_info(%s)", (ids[0],))
    for i in ids[1:4]:
        cur.execute("SELECT workitem.resolve(%s, 'customer_response')", (i,))
    cur.execute("SELECT workitem.close(%s)", (ids[3],))
    cur.execute("SELECT workitem.log_time(%s, '90 minutes', 'call', 'ann')", (ids[1],))
    # one resolution clock missed (moved back by hand, as the owner)
    cur.execute("SET session_replication_role = replica")
    cur.execute("UPDATE workitem.sla_clock SET state = 'missed', used = '2 hours' WHERE item_id = %s", (ids[2],))
    cur.execute("RESET session_replication_role")
    # rows of an attached table with their clocks (attached_sla, item_sla)
    for sql in [
        "INSERT INTO workitem.sla_policy (name, kind) VALUES ('odbc desk', 'ticket')",
        "INSERT INTO workitem.sla_target (policy_id, target, working_time) "
        "SELECT id, 'resolution', '4 hours' FROM workitem.sla_policy WHERE name = 'odbc desk'",
        "CREATE TABLE public.odbc_desk (id int PRIMARY KEY, status text NOT NULL)",
        "SELECT workitem.attach('public.odbc_desk')",
        "INSERT INTO public.odbc_desk VALUES (1, 'to_do'), (2, 'to_do')",
        "UPDATE public.odbc_desk SET status = 'resolved' WHERE id = 1",
    ]:
        cur.execute(sql)


def read_views(odbc, cur):
    oc = odbc.cursor()
    for view in VIEWS:
        cur.execute("""SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a
                       WHERE a.attrelid = ('workitem.' || %s)::regclass AND a.attnum > 0 ORDER BY a.attnum""", (view,))
        pg_cols = cur.fetchall()
        # what the driver says of the columns (SQLColumns: what Excel and Power BI show) ...
        catalog = {r.column_name: r.type_name for r in oc.columns(table=view, schema="workitem")}
        # ... and of a result (SQLDescribeCol), with the rows
        oc.execute("SELECT * FROM workitem.%s" % view)
        desc = oc.description
        rows = oc.fetchall()
        bad = []
        for (name, pgtype), d in zip(pg_cols, desc):
            if d[0] != name:
                bad.append("%s: column %s in place of %s" % (view, d[0], name))
                continue
            if (view, name) in TWINS:
                if d[1] is not str or catalog.get(TWINS[(view, name)]) != "text":
                    bad.append("%s.%s: no text twin" % (view, name))
                continue
            want = KNOWN.get(pgtype)
            if want is None:
                bad.append("%s.%s: type %s unknown to this test" % (view, name, pgtype))
                continue
            if catalog.get(name) != want[0]:
                bad.append("%s.%s: the driver's catalog says %s, not %s" % (view, name, catalog.get(name), want[0]))
            if d[1] is not want[1]:
                bad.append("%s.%s: comes as %s, not %s" % (view, name, d[1].__name__, want[1].__name__))
            if d[1] is str and d[3] == 255:
                bad.append("%s.%s: a 255-wide string (a type unknown to the driver)" % (view, name))
            if pgtype == "interval" and not any(c in catalog for c in hour_twins(name)):
                bad.append("%s.%s: an interval without its hours" % (view, name))
            for r in rows:
                v = getattr(r, name)
                if v is not None and not isinstance(v, want[1]):
                    bad.append("%s.%s: a value %r" % (view, name, v))
                    break
        check(len(desc) == len(pg_cols) and not bad,
              "%s through psqlODBC as the reader: %d columns, %d rows, each column of a type the driver knows%s"
              % (view, len(desc), len(rows), "" if not bad else " (%s)" % "; ".join(bad)))


def hour_twins(name):
    return [name + "_hours", name.replace("_time", "_hours"), name.replace("duration", "hours"),
            name.replace("time", "hours")]


def aggregates(odbc, cur):
    """Figures a BI tool would compute over the views, against SQL."""
    oc = odbc.cursor()
    pairs = [
        ("average hours in status of open tickets, by status",
         "SELECT status, avg(time_in_status_hours) FROM workitem.items WHERE status <> 'closed' GROUP BY status ORDER BY status",
         "SELECT status::text, avg(extract(epoch FROM now() - status_changed_at) / 3600) FROM workitem.item "
         "WHERE status <> 'closed' GROUP BY status ORDER BY 1"),
        ("items created per day and kind",
         "SELECT day, kind, created, submitted, resolved, closed FROM workitem.flow_per_day WHERE created > 0 ORDER BY 1, 2",
         "SELECT created_at::date, kind::text, count(*), count(submitted_at), count(first_resolved_at), count(closed_at) "
         "FROM workitem.item GROUP BY 1, 2 ORDER BY 1, 2"),
        ("SLA met, missed and percent met per day",
         "SELECT day, target, met, missed, percent_met FROM workitem.sla_per_day WHERE stopped > 0 ORDER BY 1, 2",
         "SELECT stopped_at::date, target, count(*) FILTER (WHERE state = 'met'), count(*) FILTER (WHERE state = 'missed'), "
         "round(100.0 * count(*) FILTER (WHERE state = 'met') / count(*), 1)::float8 FROM workitem.sla_clock "
         "WHERE state IN ('met', 'missed') GROUP BY 1, 2 ORDER BY 1, 2"),
        ("average and 90th percentile of resolution time in working hours per day",
         "SELECT day, avg_working_hours, p90_working_hours FROM workitem.sla_per_day "
         "WHERE target = 'resolution' AND stopped > 0 ORDER BY 1",
         "SELECT stopped_at::date, avg(extract(epoch FROM used) / 3600), "
         "percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM used) / 3600) FROM workitem.sla_clock "
         "WHERE state IN ('met', 'missed') AND target = 'resolution' GROUP BY 1 ORDER BY 1"),
        ("hours logged per item",
         "SELECT item_id, total_hours FROM workitem.time_per_item ORDER BY 1",
         "SELECT item_id, extract(epoch FROM sum(duration)) / 3600 FROM workitem.time_entry GROUP BY 1 ORDER BY 1"),
        ("working days in the next four weeks",
         "SELECT count(*) FROM workitem.days WHERE calendar = '24x7' AND is_working_day "
         "AND day BETWEEN current_date AND current_date + 27",
         "SELECT 28"),
    ]
    for what, via_odbc, via_sql in pairs:
        # the now() of each side differs: hours of the open items are compared to the second
        oc.execute(via_odbc)
        got = [tuple(norm(v) for v in r) for r in oc.fetchall()]
        cur.execute(via_sql)
        want = [tuple(norm(v) for v in r) for r in cur.fetchall()]
        check(len(got) > 0 and close(got, want), "%s: the same through ODBC as in SQL (got %s, want %s)" % (what, got, want))


def norm(v):
    if isinstance(v, decimal.Decimal):
        return float(v)
    return v


def close(a, b):
    if len(a) != len(b):
        return False
    for ra, rb in zip(a, b):
        for x, y in zip(ra, rb):
            if isinstance(x, float) or isinstance(y, float):
                if x is None or y is None or abs(float(x) - float(y)) > 0.01:
                    return False
            elif x != y:
                return False
    return True


if __name__ == "__main__":
    sys.exit(main())
