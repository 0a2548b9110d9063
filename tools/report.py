#!/usr/bin/python3
"""make report: a PNG dashboard drawn from the views for BI tools (the
server named by the PG* environment), as a BI tool would read them:
daily flow and backlog (workitem.flow_per_day), SLA met per week
(workitem.sla_per_day joined to workitem.days), time per status
(workitem.status_time_per_day). Usage: tools/report.py OUTPUT.png"""
import sys

import matplotlib
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import psycopg2  # noqa: E402


def main(out):
    conn = psycopg2.connect("")
    cur = conn.cursor()
    cur.execute("""SELECT day, sum(created), sum(resolved), sum(closed), sum(backlog_change)
                   FROM workitem.flow_per_day GROUP BY day ORDER BY day""")
    flow = cur.fetchall()
    cur.execute("""SELECT d.week_start, sum(s.met), sum(s.missed)
                   FROM workitem.sla_per_day s JOIN workitem.days d ON d.day = s.day AND d.calendar = '24x7'
                   WHERE s.target = 'resolution' GROUP BY 1 ORDER BY 1""")
    weeks = cur.fetchall()
    cur.execute("""SELECT status, sum(times_left), sum(working_hours) / NULLIF(sum(times_left), 0),
                          sum(wall_clock_hours) / NULLIF(sum(times_left), 0)
                   FROM workitem.status_time_per_day GROUP BY status
                   ORDER BY array_position(ARRAY['draft', 'to_do', 'in_progress', 'waiting', 'resolved'], status)""")
    status = [r for r in cur.fetchall() if r[1]]
    conn.close()

    fig, ax = plt.subplots(2, 2, figsize=(13, 8))
    fig.suptitle("workitem: the demo database, read through its views for BI tools", fontsize=13)
    days = [r[0] for r in flow]
    a = ax[0][0]
    a.bar(days, [r[1] for r in flow], color="#4C72B0", label="created")
    a.plot(days, [r[2] for r in flow], color="#DD8452", label="resolved")
    a.plot(days, [r[3] for r in flow], color="#55A868", label="closed")
    a.set_title("Daily flow (flow_per_day)")
    a.set_ylabel("items per day")
    a.legend()
    a = ax[0][1]
    backlog, total = [], 0
    for r in flow:
        total += r[4]
        backlog.append(total)
    a.fill_between(days, backlog, step="post", color="#8172B3", alpha=0.6)
    a.set_title("Open backlog at the end of the day (running sum of backlog_change)")
    a.set_ylabel("open items")
    a = ax[1][0]
    wk = [r[0] for r in weeks]
    met = [int(r[1]) for r in weeks]
    missed = [int(r[2]) for r in weeks]
    a.bar(wk, met, width=5, color="#55A868", label="met")
    a.bar(wk, missed, width=5, bottom=met, color="#C44E52", label="missed")
    for w, m, x in zip(wk, met, missed):
        if m + x:
            a.annotate("%d%%" % round(100.0 * m / (m + x)), (w, m + x), ha="center", va="bottom", fontsize=8)
    a.set_title("Resolution SLA per week (sla_per_day by days.week_start)")
    a.set_ylabel("clocks stopped")
    a.legend()
    a = ax[1][1]
    names = [r[0] for r in status]
    a.barh(names, [r[3] or 0 for r in status], color="#CCB974", label="wall clock")
    a.barh(names, [r[2] or 0 for r in status], color="#64B5CD", height=0.4, label="working (SLA calendar)")
    a.invert_yaxis()
    a.set_title("Average hours in each status (status_time_per_day)")
    a.set_xlabel("hours")
    a.legend()
    for a in (ax[0][0], ax[0][1], ax[1][0]):
        a.tick_params(axis="x", labelrotation=30, labelsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=80)
    print("wrote %s" % out)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "doc/dashboard.png")
