#!/usr/bin/python3
"""Random and malformed input at the SQL API of a live server (issue 18).

Each generator throws random values at one free-form input, one case per
transaction (rolled back after it):
  - ics:      import_holidays() feeds: the seed feeds of test/fuzz/corpus
              mutated byte-wise and line-wise, and feeds built from random
              events (dates, date-times, TZIDs, DTEND, huge DURATIONs);
  - legacy:   legacy_status() labels: known labels mutated, dashes,
              Unicode, very long strings;
  - attach:   attach() label maps (random JSON), then UPDATEs of the
              attached table to random labels;
  - interval: business_add / business_time / end_of_working_day with
              random moments (infinity, far years) and amounts (huge,
              negative, with months);
  - calendar: calendars with random time zone names (IANA, POSIX rules,
              garbage), their hours, then working time over them;
  - policy:   SLA policies and targets with random calendars, warn_at,
              stop_wait_types, reopen policies and targets, then a ticket
              submitted, waiting, resumed and resolved under them.
Every call must succeed or fail with an expected SQLSTATE class (22, 23,
42, 0A for recurring events, WI for ours), never 57014 (a statement that
ran past the timeout: an endless loop), XX000 or a lost connection; after
each case the connection must still answer SELECT 1.

    test/fuzz_sql.py [--seed N] [--cases N] [--seconds S]

Prints TAP: one line per generator with its outcomes by SQLSTATE. Short by
default (--cases 300 per generator, at most --seconds 30 in all). It creates
and drops its own database; PGHOST/PGPORT name the server. The seed is
printed; the same seed replays the same inputs.
"""
import argparse
import collections
import datetime
import json
import os
import random
import sys
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, done  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DBNAME = "workitem_fuzz_sql"
ALLOWED_CLASSES = ("22", "23", "42", "0A", "WI")
STATUSES = ["draft", "to_do", "in_progress", "waiting", "resolved", "closed"]
WAIT_TYPES = ["more_info", "follow_up", "paused", "split", "case_launched"]
LEGACY_LABELS = ["Closed", "In Progress (being processed)", "In Progress (not yet being processed)",
                 "Needs attention", "Paused - Awaiting more information", "Paused - Scheduled for follow-up",
                 "Paused", "Peer review - In progress", "Rejected - Unknown email address", "Rejected as spam",
                 "Rejected", "Resolved - Existing case updated", "Resolved - Existing ticket updated",
                 "Resolved - Manual response", "Resolved - New case launched", "Resolved - No customer response",
                 "Resolved - Ticket split (completed)", "Resolved - Ticket split", "Resolved", "Unable to complete"]
ZONES = ["UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe",
         "Pacific/Chatham", "America/Sao_Paulo", "Antarctica/Troll", "Africa/Casablanca",
         "EST5EDT", "PST8PDT", "Etc/GMT+12", "Etc/GMT-14", "posixrules", "GMT0", "Zulu"]
POSIX_ZONES = ["UTC+5", "<+0330>-3:30", "EST5EDT,M3.2.0,M11.1.0", "XXX-14YYY,J1/0,J365/25",
               "AAA+24", "AAA-24", "<-00>0<+01>,0/0,J365/25", "CET-1CEST,M3.5.0,M10.5.0/3",
               "ABC-12:59:59DEF,M1.1.0/-167,M12.5.6/167", "Q0R,0,0", "<+99>-99", "ZZZ+0:00:01"]


class Fuzz:
    def __init__(self, args):
        self.rng = random.Random(args.seed)
        self.deadline = time.time() + args.seconds if args.seconds > 0 else None
        self.cases = args.cases
        self.outcomes = collections.defaultdict(collections.Counter)
        self.findings = collections.defaultdict(list)
        self.seeds = []
        corpus = os.path.join(HERE, "fuzz", "corpus")
        for name in sorted(os.listdir(corpus)):
            with open(os.path.join(corpus, name), "rb") as f:
                self.seeds.append(f.read().decode("utf-8", "replace"))

    # -- the server ---------------------------------------------------------
    def connect(self):
        for _ in range(60):
            try:
                self.conn = psycopg2.connect(dbname=DBNAME)
                break
            except psycopg2.OperationalError:
                time.sleep(1)        # a crash: the server restarts and recovers
        with self.conn.cursor() as cur:
            cur.execute("SET statement_timeout = '10s'")
        self.conn.commit()

    def setup(self):
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s"' % DBNAME)
            cur.execute('CREATE DATABASE "%s"' % DBNAME)
        admin.close()
        self.conn = psycopg2.connect(dbname=DBNAME)
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute("CREATE EXTENSION workitem")
            cur.execute("INSERT INTO workitem.calendar VALUES ('paris', 'Europe/Paris')")
            cur.execute("INSERT INTO workitem.calendar_hours SELECT 'paris', d, '09:00', '17:00' "
                        "FROM generate_series(1, 5) d")
            cur.execute("CREATE TABLE fz_t (id serial PRIMARY KEY, status text NOT NULL DEFAULT 'new')")
            cur.execute("INSERT INTO fz_t (status) SELECT 'new' FROM generate_series(1, 3)")
        self.conn.close()
        self.connect()

    def teardown(self):
        try:
            self.conn.close()
        except psycopg2.Error:
            pass
        admin = psycopg2.connect(dbname="postgres")
        admin.autocommit = True
        with admin.cursor() as cur:
            cur.execute('DROP DATABASE IF EXISTS "%s"' % DBNAME)
        admin.close()

    def case(self, gen, statements):
        """Run the statements of one case in one transaction, rolled back.
        Records the outcome (ok or the SQLSTATE of the first error)."""
        outcome = "ok"
        try:
            with self.conn.cursor() as cur:
                for sql, params in statements:
                    cur.execute(sql, params)
        except psycopg2.OperationalError as e:
            outcome = "lost"
            self.findings[gen].append("connection lost: %s on %r" % (str(e).strip()[:200], statements))
        except psycopg2.Error as e:
            outcome = e.pgcode or "?"
            if outcome[:2] not in ALLOWED_CLASSES:
                self.findings[gen].append("%s %s on %r" % (outcome, str(e).strip()[:300],
                                                          [(s, p) for s, p in statements][:3]))
        self.outcomes[gen][outcome] += 1
        try:
            self.conn.rollback()
            with self.conn.cursor() as cur:
                cur.execute("SELECT 1")
                assert cur.fetchone()[0] == 1
            self.conn.rollback()
        except (psycopg2.Error, AssertionError) as e:
            if outcome != "lost":
                self.findings[gen].append("SELECT 1 failed after a case: %s" % e)
            self.outcomes[gen]["lost"] += 1 if outcome != "lost" else 0
            self.connect()

    def out_of_time(self):
        return self.deadline is not None and time.time() > self.deadline

    # -- random values -------------------------------------------------------
    def rstr(self, n=None):
        r = self.rng
        n = r.randint(0, 20) if n is None else n
        alphabet = "aZ09 -–—:;,.\\\"'\t/+%_\u200f\u202e\u0301😀\uffff\x01\x7f"
        return "".join(r.choice(alphabet) for _ in range(n))

    def mutate(self, s):
        r = self.rng
        s = list(s)
        for _ in range(r.randint(1, 8)):
            op = r.randrange(6)
            i = r.randrange(len(s) + 1)
            if op == 0 and s:
                del s[min(i, len(s) - 1)]
            elif op == 1:
                s.insert(i, r.choice("0123456789TZPWDHMS:;=\r\n \t\"\\,-+/"))
            elif op == 2 and s:
                j = r.randrange(len(s))
                s[j:j] = s[j:j + r.randint(1, 40)] * r.randint(1, 50)
            elif op == 3:
                s.insert(i, self.rstr(r.randint(1, 5)))
            elif op == 4 and s:
                s[min(i, len(s) - 1)] = r.choice("9Z\n:")
            else:
                s.insert(i, r.choice(["\r\n ", "\n\t", "BEGIN:VEVENT\n", "END:VEVENT\n",
                                      "DURATION:P999999W999999W\n", "DTEND;VALUE=DATE:99991231\n",
                                      ";TZID=", "VALUE=DATE-TIME", "STATUS:CANCELLED\n"]))
        return "".join(s)

    def rdate(self):
        r = self.rng
        if r.random() < 0.8:
            return "%04d%02d%02d" % (r.randint(2020, 2030), r.randint(1, 12), r.randint(1, 28))
        y = r.choice([1, 1899, 1900, 2026, 2199, 2200, 9999, r.randint(0, 9999)])
        return "%04d%02d%02d" % (y, r.randint(0, 13), r.randint(0, 32))

    def rdatetime(self):
        r = self.rng
        if r.random() < 0.8:
            return "%sT%02d%02d%02d%s" % (self.rdate(), r.randint(0, 23), r.randint(0, 59),
                                           r.randint(0, 59), r.choice(["", "Z"]))
        return "%sT%02d%02d%02d%s" % (self.rdate(), r.randint(0, 24), r.randint(0, 60),
                                       r.randint(0, 61), r.choice(["", "Z"]))

    def later(self, start, fmt):
        """A DTEND a little after start (or start itself, when it is no valid date)."""
        try:
            t = datetime.datetime.strptime(start.rstrip("Z"), fmt)
            t += datetime.timedelta(minutes=self.rng.choice([0, 30, 90, 24 * 60, 3 * 24 * 60, 400 * 24 * 60]))
        except (ValueError, OverflowError):
            return start
        return t.strftime(fmt) + ("Z" if start.endswith("Z") else "")

    def rduration(self):
        r = self.rng
        if r.random() < 0.6:
            return r.choice(["P1D", "PT4H", "P2W", "PT90M", "P1DT12H", "PT0S", "P366D", "P367D"])
        # each part repeated up to 3000 times: sums far past any range
        days = "".join("%d%s" % (r.choice([0, 1, 7, 366, 99999, 999999]), r.choice("WD"))
                       for _ in range(r.randint(0, 3))) * r.choice([1, 1, 2, 300, 3000])
        time_ = "".join("%d%s" % (r.choice([0, 1, 59, 3600, 999999]), r.choice("HMS"))
                        for _ in range(r.randint(0, 3))) * r.choice([1, 1, 2, 300, 3000])
        return r.choice(["", "+"]) + "P" + days + ("T" + time_ if r.random() < 0.6 else "")

    def feed(self):
        r = self.rng
        if r.random() < 0.4:
            return self.mutate(r.choice(self.seeds))
        lines = ["BEGIN:VCALENDAR"]
        for _ in range(r.randint(0, 6)):
            lines.append("BEGIN:VEVENT")
            start = self.rdate()
            if r.random() < 0.5:
                lines.append("DTSTART;VALUE=DATE:" + start)
                end = "DURATION:" + self.rduration() if r.random() < 0.3 else \
                    "DTEND;VALUE=DATE:" + (self.rdate() if r.random() < 0.2 else self.later(start, "%Y%m%d"))
            else:
                tz = r.choice(["", ";TZID=" + r.choice(ZONES + POSIX_ZONES + [self.rstr()])])
                start = self.rdatetime()
                lines.append("DTSTART%s:%s" % (tz, start))
                end = "DURATION:" + self.rduration() if r.random() < 0.3 else \
                    "DTEND%s:%s" % (tz, self.rdatetime() if r.random() < 0.2 else self.later(start, "%Y%m%dT%H%M%S"))
            if r.random() < 0.8:
                lines.append(end)
            if r.random() < 0.5:
                lines.append("SUMMARY:" + self.rstr())
            if r.random() < 0.1:
                lines.append(r.choice(["RRULE:FREQ=YEARLY", "STATUS:CANCELLED", "BEGIN:VALARM", "END:VALARM"]))
            lines.append("END:VEVENT")
        lines.append("END:VCALENDAR")
        text = r.choice(["\r\n", "\n"]).join(lines)
        return self.mutate(text) if r.random() < 0.3 else text

    def rinterval(self):
        r = self.rng
        if r.random() < 0.5:        # mostly plausible, so that the code behind the checks runs
            return "%d %s" % (r.randint(-500, 5000), r.choice(["minutes", "hours", "days"]))
        units = ["microseconds", "seconds", "minutes", "hours", "days", "weeks", "months", "years"]
        n = r.choice([0, 1, -1, 8, 213503982, -213503982, 106751991, 2147483647, -2147483648,
                      9223372036854775807, r.randint(-10 ** 9, 10 ** 9)])
        s = "%d %s" % (n, r.choice(units))
        if r.random() < 0.4:
            s += " %d:%02d:%02d.%06d" % (r.choice([0, 2562047788, r.randint(0, 99999)]), r.randint(0, 59),
                                          r.randint(0, 59), r.randint(0, 999999))
        return s

    def rtimestamp(self):
        r = self.rng
        if r.random() < 0.7:
            return "%04d-%02d-%02d %02d:%02d:%02d.%06d+%02d" % (
                r.randint(2000, 2100), r.randint(1, 12), r.randint(1, 28), r.randint(0, 23),
                r.randint(0, 59), r.randint(0, 59), r.randint(0, 999999), r.randint(0, 14))
        return r.choice(["infinity", "-infinity", "4713-01-01 BC", "294276-12-31 23:59:59+00",
                         "1900-01-01 00:00+00", "1899-12-31 23:59+00", "2199-12-30 12:00+00",
                         "2200-01-01 00:00+00",
                         "%04d-%02d-%02d %02d:%02d+00" % (r.randint(1, 9999), r.randint(1, 12),
                                                          r.randint(1, 28), r.randint(0, 23),
                                                          r.randint(0, 59))])

    def rjson(self, depth=0):
        r = self.rng
        k = r.randrange(7 if depth < 2 else 4)
        if k == 0:
            return r.choice(STATUSES + ["", "Draft", "closed ", None])
        if k == 1:
            return r.choice([0, -1, 1.5, 10 ** 30, True, False])
        if k == 2:
            return self.rstr()
        if k == 3:
            return r.choice(STATUSES)
        if k == 4:
            return [self.rjson(depth + 1) for _ in range(r.randint(0, 3))]
        return {(self.rstr() if r.random() < 0.5 else r.choice(["new", "open", "done", "x"])):
                self.rjson(depth + 1) for _ in range(r.randint(0, 5))}

    # -- generators ---------------------------------------------------------
    def gen_ics(self):
        cal = self.rng.choice(["paris"] * 8 + ["24x7", "nowhere"])
        return [("SELECT workitem.import_holidays(%s, %s)", (cal, self.feed().replace("\x00", "")))]

    def gen_legacy(self):
        r = self.rng
        label = r.choice([r.choice(LEGACY_LABELS), r.choice(LEGACY_LABELS).lower(), self.mutate(r.choice(LEGACY_LABELS)), self.rstr(), "x" * r.choice([1, 1000, 100000]),
                          r.choice(LEGACY_LABELS).upper().replace(" - ", r.choice([" – ", "—", "  -  ", "-"]))])
        kind = r.choice(["ticket", "case", "action"] * 6 + [None])
        return [("SELECT * FROM workitem.legacy_status(%s::workitem.kind, %s)", (kind, label.replace("\x00", "")))]

    def gen_attach(self):
        r = self.rng
        m = self.rjson() if r.random() < 0.3 else {
            label: r.choice(STATUSES + [self.rstr()]) if r.random() < 0.9 else self.rjson()
            for label in ["new"] + [self.rstr() for _ in range(r.randint(0, 5))]}
        stmts = [("SELECT workitem.attach('fz_t', label_map => %s::jsonb)", (json.dumps(m),))]
        labels = list(m.keys()) if isinstance(m, dict) else []
        for _ in range(r.randint(0, 4)):
            label = r.choice(labels + [self.rstr()]) if labels else self.rstr()
            stmts.append(("UPDATE fz_t SET status = %s WHERE id = %s", (label.replace("\x00", ""), r.randint(1, 3))))
        return stmts

    def gen_interval(self):
        r = self.rng
        cal = r.choice(["paris", "24x7"] * 5 + ["nowhere", ""])
        k = r.randrange(3)
        if k == 0:
            return [("SELECT workitem.business_add(%s, %s, %s::interval)", (cal, self.rtimestamp(), self.rinterval()))]
        if k == 1:
            return [("SELECT workitem.business_time(%s, %s, %s)", (cal, self.rtimestamp(), self.rtimestamp()))]
        return [("SELECT workitem.end_of_working_day(%s, %s, %s)",
                 (cal, self.rtimestamp(), r.choice([-1, 0, 1, 5, 100000, 2147483647])))]

    def gen_calendar(self):
        r = self.rng
        zone = r.choice([r.choice(ZONES), r.choice(ZONES), r.choice(POSIX_ZONES), r.choice(POSIX_ZONES), self.mutate(r.choice(ZONES + POSIX_ZONES)),
                         self.rstr()]).replace("\x00", "")
        name = r.choice(["fz", "fz", self.rstr(r.randint(1, 70)) or "n", "é" * r.choice([63, 64])])
        stmts = [("INSERT INTO workitem.calendar (name, time_zone) VALUES (%s, %s)", (name, zone)),
                 ("INSERT INTO workitem.calendar_hours (calendar, weekday, starts, ends) "
                  "SELECT %s, d, %s, %s FROM generate_series(1, %s) d",
                  (name, r.choice(["00:00", "09:00", "23:59:59.999999"]), r.choice(["24:00", "17:00"]),
                   r.randint(0, 7)))]
        if r.random() < 0.5:
            stmts.append(("INSERT INTO workitem.calendar_holiday (calendar, day) VALUES (%s, %s)",
                          (name, r.choice(["2026-12-25", "1900-01-01", "2199-12-31"]))))
        stmts.append(("SELECT workitem.business_time(%s, %s, %s)", (name, self.rtimestamp(), self.rtimestamp())))
        stmts.append(("SELECT workitem.business_add(%s, %s, %s::interval)", (name, self.rtimestamp(), self.rinterval())))
        return stmts

    def gen_policy(self):
        r = self.rng
        cal = r.choice(["paris", "24x7"] * 4 + ["nowhere"])
        warn = r.choice(["{0.5,0.75}"] * 10 + ["{}", "{0,1}", "{-1,2}", "{NaN}", "{1e300}", "{0.5,NULL}", "{x}"])
        stops = r.choice(["{more_info}"] * 8 + ["{}", "{follow_up,paused}", "{split,case_launched}", "{nope}"])
        reopen = r.choice(["continue", "new_cycle", "reset"] * 3 + [self.rstr()])
        target = r.choice([("working_time", self.rinterval()), ("business_days", r.choice([1, 0, -1, 26089, 26090, 2147483647]))])
        return [
            ("INSERT INTO workitem.category_config (kind, category, feedback_window) VALUES ('ticket', 'fz', %s) "
             "ON CONFLICT DO NOTHING", (r.choice(["1 day"] * 6 + ["0", "1 month", "-1 day"]),)),
            ("INSERT INTO workitem.sla_policy (name, kind, category, calendar, warn_at, stop_wait_types, reopen_policy) "
             "VALUES ('fz', 'ticket', 'fz', %s, %s, %s, %s)", (cal, warn, stops, reopen)),
            ("INSERT INTO workitem.sla_target (policy_id, target, " + target[0] + ") "
             "SELECT id, %s, %s FROM workitem.sla_policy WHERE name = 'fz'",
             (r.choice(["resolution", "first_response", "x"]), target[1])),
            ("SELECT workitem.create_ticket('t', 'd', 'fz', 'a@x', 'a@x', NULL, true)", None),
            ("SELECT workitem.wait_more_info(currval('workitem.item_id_seq'), 2)", None),
            ("SELECT workitem.resume(currval('workitem.item_id_seq'))", None),
            ("SELECT workitem.sla_label(currval('workitem.item_id_seq')), "
             "workitem.sla_state(currval('workitem.item_id_seq'), 'resolution', %s), "
             "workitem.sla_remaining(currval('workitem.item_id_seq'), 'resolution', %s)",
             (self.rtimestamp(), self.rtimestamp())),
            ("SELECT workitem.run_timers(%s)", (self.rtimestamp(),)),
            ("SELECT workitem.resolve(currval('workitem.item_id_seq'), 'customer_response')", None),
        ]

    def run(self):
        gens = [("ics", "iCalendar feeds (import_holidays)", self.gen_ics),
                ("legacy", "legacy_status labels", self.gen_legacy),
                ("attach", "attach label maps and updates of the attached table", self.gen_attach),
                ("interval", "moments and amounts of working time", self.gen_interval),
                ("calendar", "calendars with random time zone names", self.gen_calendar),
                ("policy", "SLA policies and targets, then a ticket under them", self.gen_policy)]
        done_cases = collections.Counter()
        # round-robin, so a time limit cuts every generator short alike
        for _ in range(self.cases):
            if self.out_of_time():
                break
            for gen, _what, make in gens:
                self.case(gen, make())
                done_cases[gen] += 1
        for gen, what, _make in gens:
            o = self.outcomes[gen]
            summary = ", ".join("%s %d" % (k, v) for k, v in sorted(o.items(), key=lambda kv: -kv[1]))
            for f in self.findings[gen][:5]:
                print("# %s: %s" % (gen, f))
            check(not self.findings[gen] and o["lost"] == 0 and done_cases[gen] > 0,
                  "%d %s: succeed or fail with 22/23/42/0A/WI, the backend stays up (%s)"
                  % (done_cases[gen], what, summary))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--cases", type=int, default=300, help="cases per generator")
    ap.add_argument("--seconds", type=float, default=30, help="stop after this long (0: no limit)")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big") % 1000000
    print("# fuzz_sql seed=%d cases=%d (replay: test/fuzz_sql.py --seed %d --cases %d --seconds 0)"
          % (args.seed, args.cases, args.seed, args.cases))
    fuzz = Fuzz(args)
    fuzz.setup()
    try:
        fuzz.run()
    finally:
        fuzz.teardown()
    return done()


if __name__ == "__main__":
    sys.exit(main())
