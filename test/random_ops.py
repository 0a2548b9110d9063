#!/usr/bin/python3
"""Model-based random testing of the workitem extension (issue 7).

Runs a long, seeded random sequence of operations (every SQL function of
the API, action INSERTs, plain UPDATEs of status / wait_type / resolution /
assignee with random values, DELETEs, and workitem.run_timers() at random
times) over a few hundred tickets, cases and actions, and after every
step checks:
  - the invariants of spec section 1 on every row;
  - the last status event of every item equals its status;
  - a refused operation (any error) changed nothing: every item row, the
    number of events, messages and time entries are as before;
  - a closed item never changes again;
  - every status change seen is an edge of the transition table, and no
    item starts waiting split / case_launched but through split() /
    launch_case();
  - no error has SQLSTATE XX000 and the server never loses the connection;
  - a run_timers(at, max_items) that moved fewer than max_items left no
    more_info / follow_up wait and no feedback window due by `at`;
  - a multi-step transaction fails at commit only on the deferred FK of
    sla_clock.item_id (23503);
  - the outcome (the target's new status, or the SQLSTATE of the refusal)
    is what the model of the rules (below, from the README and the spec)
    predicts.

    test/random_ops.py [--seed N] [--steps N] [--items N] [--seconds S]
                       [--tenants N] [--dbname DB] [--citus]

--tenants N spreads the items over N tenants (workitem.tenant; related
items stay in their tenant, plain UPDATEs and DELETEs name the tenant).
--dbname runs in an existing database (test/citus.sh: a distributed one,
through the Citus coordinator) instead of a scratch one. --citus leaves
out the operations that do not work on Citus yet (CITUS_LEFT_OUT below).

Prints TAP. The seed is printed at the start and with every failure; the
same seed replays the same sequence (the database is created fresh). It
creates and drops its own database; PGHOST/PGPORT name the server.
"""
import argparse
import datetime
import os
import random
import sys
import time

import psycopg2

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib"))
from tap import check, create_scratch_db, done, drop_scratch_db, failures, skip  # noqa: E402

TICKET, CASE, ACTION = "ticket", "case", "action"
STATUSES = ["draft", "to_do", "in_progress", "waiting", "resolved", "closed"]
WAIT_TYPES = ["more_info", "follow_up", "paused", "split", "case_launched"]
RESOLUTIONS = ["customer_response", "no_customer_response", "rejected", "spam",
               "unknown_sender", "merged", "split_completed", "completed",
               "unable_to_complete", "cancelled"]
RESERVED_WAITS = {"split", "case_launched"}

# The transition table of spec section 2 as the extension compiles it
# (src/rules.c): an action never rests in resolved, so "resolved" is a
# target it accepts and turns into closed.
_TC = {"draft": {"to_do", "in_progress", "resolved", "closed"},
       "to_do": {"in_progress", "waiting", "resolved", "closed"},
       "in_progress": {"to_do", "waiting", "resolved", "closed"},
       "waiting": {"to_do", "in_progress", "waiting", "resolved", "closed"},
       "resolved": {"to_do", "in_progress", "closed"},
       "closed": set()}
TRANSITIONS = {TICKET: _TC, CASE: _TC,
               ACTION: {"draft": set(),
                        "to_do": {"in_progress", "waiting", "resolved", "closed"},
                        "in_progress": {"to_do", "waiting", "resolved", "closed"},
                        "waiting": {"to_do", "in_progress", "waiting", "resolved", "closed"},
                        "resolved": {"closed"},
                        "closed": set()}}
WAITS_BY_KIND = {TICKET: {"more_info", "follow_up", "split", "case_launched"},
                 CASE: {"more_info", "follow_up", "paused"},
                 ACTION: {"more_info", "follow_up"}}
# Actions also take "cancelled" (README: the contract's own contradiction).
RES_BY_KIND = {TICKET: {"customer_response", "no_customer_response", "rejected", "spam",
                        "unknown_sender", "merged", "split_completed", "completed"},
               CASE: {"completed", "cancelled", "merged"},
               ACTION: {"completed", "unable_to_complete", "cancelled"}}
CLOSING = {"spam", "unknown_sender", "cancelled", "merged"}

# What --citus leaves out for now, and why (README "Scale out with Citus");
# take an entry off when it works through the coordinator.
CITUS_LEFT_OUT = {
}

# category -> (feedback_window, require_resolution_note, days_to_wait), for
# tickets and cases alike.
CATEGORIES = {
    "billing": ("7 days", False, 3),
    "noted": ("7 days", True, None),
    "nowindow": (None, False, 2),
    "zero": ("0", True, 1),
    "short": ("1 second", False, None),
}
AGENTS = ["alice", "bob", "robot-7", "carol"]
ODD_TEXT = ["", "   ", "Ünïcödé ✓", "emoji 🎫🔥", "rtl \u200fשלום\u200e", "combining e\u0301",
            "quote ' \" \\ $1 %s", "x" * 300, "tab\there"]

ITEM_COLS = ("id, kind::text, status::text, wait_type::text, resolution::text, assignee, "
             "title, description, category, primary_contact, requester, parent_id, case_id, "
             "merged_into, feedback_window, require_resolution_note, days_to_wait, "
             "feedback_until < clock_timestamp() - interval '3 seconds' AS fb_over, "
             "feedback_until > clock_timestamp() + interval '3 seconds' AS fb_open, "
             "i::text AS full_row, tenant")
FIELDS = ["id", "kind", "status", "wait_type", "resolution", "assignee", "title",
          "description", "category", "primary_contact", "requester", "parent_id", "case_id",
          "merged_into", "feedback_window", "require_resolution_note", "days_to_wait",
          "fb_over", "fb_open", "full_row", "tenant"]

# The section 1 checks, shared with bench/load.sql and test/crash.sh.
INVARIANTS_FILE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lib", "invariants.sql")


OPS = ["create_ticket", "create_case", "insert_action", "submit", "start", "assign",
       "unassign", "wait_more_info", "wait_until", "pause", "resume", "resolve",
       "reopen", "close", "cancel", "record_message", "split", "merge",
       "launch_case", "log_time", "update", "delete", "run_timers"]
OP_WEIGHTS = [8, 4, 6, 6, 6, 4, 3, 5, 4, 3, 6, 9, 4, 3, 3, 8, 2, 2, 2, 2, 8, 2, 2]


class Pred:
    """What the model expects of one operation: the target's status after
    success (None: any), and the SQLSTATEs of an allowed refusal."""

    def __init__(self, ok=None, err=(), may_ok=True, any_outcome=False):
        self.ok = set(ok) if ok is not None else None
        self.err = set(err)
        self.may_ok = may_ok
        self.any_outcome = any_outcome


def ok(*statuses):
    return Pred(ok=statuses or None)


def fail(*codes):
    return Pred(err=codes, may_ok=False)


def either(statuses, codes):
    return Pred(ok=statuses, err=codes)


ANY = Pred(any_outcome=True)


def blank(s):
    return s is None or s.strip() == ""


class Runner:
    def __init__(self, args):
        self.args = args
        self.seed = args.seed
        self.rng = random.Random(args.seed)
        self.failures = {}
        self.fail_notes = 0
        self.step = 0
        self.counts = {}
        self.refusals = {}
        self.crashed = False
        self.steps_done = 0
        self.left_out = set(CITUS_LEFT_OUT) if args.citus else set()
        self.tenants = ["default"] if args.tenants <= 1 else ["t%d" % k for k in range(1, args.tenants + 1)]
        # The categories, with the resolution note requirement off when left out.
        self.categories = {c: (w, n and "resolution_note" not in self.left_out, d)
                           for c, (w, n, d) in CATEGORIES.items()}

    # -- reporting ------------------------------------------------------
    def bad(self, check, msg):
        self.failures[check] = self.failures.get(check, 0) + 1
        if self.fail_notes < 40:
            self.fail_notes += 1
            print("# FAIL [%s] seed=%d step=%d: %s" % (check, self.seed, self.step, msg))
            sys.stdout.flush()

    # -- database -------------------------------------------------------
    def q(self, sql, args=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, args)
            return cur.fetchall() if cur.description else None

    def snapshot(self):
        rows = self.q("SELECT " + ITEM_COLS + " FROM workitem.item i ORDER BY id")
        items = {r[0]: dict(zip(FIELDS, r)) for r in rows}
        counts = self.q("SELECT (SELECT count(*) FROM workitem.event), "
                        "(SELECT count(*) FROM workitem.message), "
                        "(SELECT count(*) FROM workitem.time_entry)")[0]
        return items, counts

    def setup(self):
        self.dbname = self.args.dbname or create_scratch_db("workitem_random")
        self.conn = psycopg2.connect(dbname=self.dbname)
        self.conn.autocommit = True
        if "notify" in self.left_out:
            # for the workers' sessions too (Citus sends ALTER DATABASE there)
            self.q('ALTER DATABASE "%s" SET workitem.notify = off' % self.dbname)
            self.conn.close()
            self.conn = psycopg2.connect(dbname=self.dbname)
            self.conn.autocommit = True
        if self.args.dbname:
            # a database of the caller's (distributed): this run's rows only
            self.q("SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS workitem; "
                   "DROP VIEW IF EXISTS wi_bad_rows, wi_bad_events")
            self.q("TRUNCATE workitem.category_config, workitem.sla_policy CASCADE")
            self.q("TRUNCATE workitem.item CASCADE")
        else:
            self.q("CREATE EXTENSION workitem")
        with open(INVARIANTS_FILE) as f:
            self.q(f.read())
        for cat, (win, note, days) in self.categories.items():
            for kind in (TICKET, CASE):
                self.q("INSERT INTO workitem.category_config VALUES (%s, %s, %s, %s, %s)",
                       (kind, cat, win, note, days))
        # SLA policies, so that the clocks are kept through random moves too.
        if "sla" not in self.left_out:
            self.q("""INSERT INTO workitem.sla_policy (name, kind, category, reopen_policy, stop_wait_types)
                  VALUES ('t', 'ticket', NULL, 'new_cycle', '{more_info,follow_up}'),
                         ('tb', 'ticket', 'billing', 'reset', '{more_info}'),
                         ('c', 'case', NULL, 'continue', '{paused}')""")
            self.q("""INSERT INTO workitem.sla_target (policy_id, target, working_time, business_days, clock_start)
                  SELECT id, 'resolution', interval '8 hours', NULL::int, 'submission' FROM workitem.sla_policy
                  UNION ALL SELECT id, 'first_response', NULL, 2, 'assignment' FROM workitem.sla_policy""")
        self.conn.autocommit = False

    def teardown(self):
        try:
            self.conn.close()
        except Exception:
            pass
        if not self.args.dbname:
            drop_scratch_db(self.dbname)

    # -- random choices -------------------------------------------------
    def pick(self, items, kinds=None, pred=None):
        ids = [i for i, r in items.items()
               if (kinds is None or r["kind"] in kinds) and (pred is None or pred(r))]
        if not ids or self.rng.random() < 0.02:
            return max(items or [0]) + 1000  # a missing item now and then
        # open items more often than closed ones
        open_ids = [i for i in ids if items[i]["status"] != "closed"]
        if open_ids and self.rng.random() < 0.85:
            return self.rng.choice(open_ids)
        return self.rng.choice(ids)

    def text(self, blank_chance=0.1):
        if self.rng.random() < blank_chance:
            return self.rng.choice([None, "", "  "])
        if self.rng.random() < 0.15:
            return self.rng.choice(ODD_TEXT[2:])
        return "t%d" % self.rng.randrange(100000)

    def category(self):
        return self.rng.choice(list(self.categories) + [None, "unknown-cat"])

    # -- the model --------------------------------------------------------
    def window(self, r):
        """The feedback window the item has, or gets at submission."""
        if r["feedback_window"] is not None:
            return r["feedback_window"]
        if r["status"] == "draft" and r["category"] in CATEGORIES:
            w = self.categories[r["category"]][0]
            return None if w is None else (datetime.timedelta(0) if w == "0" else datetime.timedelta(days=1))
        return None

    def require_note(self, r):
        if r["require_resolution_note"] is not None:
            return r["require_resolution_note"]
        if r["status"] == "draft" and r["category"] in CATEGORIES:
            return self.categories[r["category"]][1]
        return False

    def days_to_wait(self, r):
        if r["days_to_wait"] is not None:
            return r["days_to_wait"]
        if r["status"] == "draft" and r["category"] in CATEGORIES:
            return self.categories[r["category"]][2]
        return None

    @staticmethod
    def missing(r):
        if r["kind"] == TICKET:
            return any(blank(r[f]) for f in ("title", "description", "category",
                                               "primary_contact", "requester"))
        return blank(r["title"])

    @staticmethod
    def reserved(r):
        return r["status"] == "waiting" and r["wait_type"] in RESERVED_WAITS

    @staticmethod
    def back(r):
        return "in_progress" if r["assignee"] is not None else "to_do"

    def pred_wait(self, r, wait_type, days=None, close=False, at_future=True):
        if r is None:
            return fail("WI404")
        s = r["status"]
        if s == "closed":
            return fail("WI009")
        if s in ("draft", "resolved") or self.reserved(r):
            return fail("WI001")
        if wait_type not in WAITS_BY_KIND[r["kind"]]:
            return fail("WI003")
        if wait_type == "follow_up" and not at_future:
            return fail("WI010")
        if wait_type == "more_info" and close and days is None:
            entering = s != "waiting" or r["wait_type"] != "more_info"
            if not (entering and self.days_to_wait(r) is not None):
                return fail("WI010")
        return ok("waiting")

    def pred_resolve(self, r, res, note):
        if r is None:
            return fail("WI404")
        s, kind = r["status"], r["kind"]
        if s in ("resolved", "closed"):
            return fail("WI001")
        closes = kind == ACTION or res in CLOSING
        if self.reserved(r):
            return fail("WI001")
        if s == "draft" and not closes and self.missing(r):
            return fail("WI002")
        if res not in RES_BY_KIND[kind] or res in ("merged", "split_completed"):
            return fail("WI004")
        if res == "unable_to_complete" and blank(note):
            return fail("WI014")
        w = self.window(r)
        to = "closed" if closes or w is None or w == datetime.timedelta(0) else "resolved"
        if kind != ACTION and not closes and self.require_note(r) and blank(note):
            return either({to}, {"WI005"})
        return ok(to)

    def pred_status_update(self, r, to):
        """A plain UPDATE of the status alone: the trigger is the only guard."""
        s, kind = r["status"], r["kind"]
        if to == s:
            return ok(s)
        if to not in TRANSITIONS[kind][s] or self.reserved(r):
            return fail("WI001")
        if s == "draft" and to != "closed":
            if self.missing(r):
                return fail("WI002")
            if to in ("to_do", "in_progress"):
                return ok(to)
        if to == "waiting":
            return fail("WI010")  # no wait type
        if s == "resolved":
            if to == "closed":
                return ok("closed")
            if r["fb_over"]:
                return fail("WI007")
            return ok(to) if r["fb_open"] else either({to}, {"WI007"})
        if to in ("resolved", "closed"):
            return fail("WI004")  # no resolution
        return ok(to)

    def pred_message(self, r, direction):
        if r is None:
            return fail("WI404")
        s = r["status"]
        inbound = direction == "inbound"
        if s == "closed":
            return ok("closed") if inbound else fail("WI009")
        if s == "resolved" and inbound:
            if r["fb_over"]:
                return ok("closed")
            if r["fb_open"]:
                return ok(self.back(r))
            return ok("closed", self.back(r))
        if s == "waiting" and inbound and not self.reserved(r):
            return ok(self.back(r))
        return ok(s)

    def pred_merge(self, r, t, same):
        if r is None:
            return fail("WI404")
        if r["status"] == "closed":
            return fail("WI009")
        if same:
            return fail("WI016")
        if t is None:
            return fail("WI404")
        if t["kind"] == ACTION or t["status"] == "closed":
            return fail("WI016")
        if self.reserved(r):
            return fail("WI001")
        if r["kind"] == ACTION or r["status"] == "resolved":
            return fail("WI004")
        return ok("closed")

    def pred_split_launch(self, r, bad_arg_code=None):
        if r is None:
            return fail("WI404")
        if r["kind"] != TICKET:
            return fail("WI003")
        if self.reserved(r):
            return fail("WI001")  # already waits on other work
        if bad_arg_code == "22023":
            return fail("22023")
        s = r["status"]
        if s == "closed":
            return fail("WI009")
        if s in ("draft", "resolved"):
            return fail("WI001")
        if bad_arg_code:
            return fail(bad_arg_code)
        return ok("waiting")

    # -- one random operation -------------------------------------------
    def choose(self, items):
        """Returns (name, sql, args, target id or None, Pred, extra)."""
        rng = self.rng
        op = rng.choices(OPS,
            weights=[0 if o in self.left_out else w for o, w in zip(OPS, OP_WEIGHTS)])[0]
        extra = {}
        if op == "create_ticket":
            submit = rng.random() < 0.6
            vals = [self.text(0.1), self.text(0.1), self.category() if rng.random() < 0.9 else "billing",
                    self.text(0.1), self.text(0.1), rng.choice([None, "low", "high"]), submit]
            r = dict(kind=TICKET, title=vals[0], description=vals[1], category=vals[2],
                     primary_contact=vals[3], requester=vals[4])
            pred = (fail("WI002") if self.missing(r) else ok("to_do")) if submit else ok("draft")
            return (op, "SELECT id FROM workitem.create_ticket(%s, %s, %s, %s, %s, %s, %s)",
                    vals, None, pred, extra)
        if op == "create_case":
            submit = rng.random() < 0.6
            vals = [self.text(0.1), self.text(0.3), self.category(), rng.choice([None, "low"]), submit]
            pred = (fail("WI002") if blank(vals[0]) else ok("to_do")) if submit else ok("draft")
            return (op, "SELECT id FROM workitem.create_case(%s, %s, %s, %s, %s)", vals, None, pred, extra)
        if op == "insert_action":
            case_id = self.pick(items, kinds={CASE}) if rng.random() < 0.9 else self.pick(items)
            title = self.text(0.1)
            c = items.get(case_id)
            if blank(title):
                pred = fail("WI002")
            elif c is None:
                pred = fail("WI404")
            elif c["kind"] != CASE or c["status"] in ("waiting", "resolved", "closed"):
                pred = fail("WI008")
            else:
                pred = ok("to_do")
            if c is not None:
                extra["tenant"] = c["tenant"]  # an action is in its case's tenant
            return (op, "INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', %s, %s) RETURNING id",
                    [case_id, title], None, pred, extra)

        prefer = {"submit": {"draft"}, "start": {"draft", "to_do"}, "resume": {"waiting"},
                  "resolve": {"to_do", "in_progress", "waiting"}, "reopen": {"resolved"},
                  "close": {"resolved"}, "delete": {"draft"}, "unassign": {"in_progress", "waiting"},
                  "merge": {"to_do", "in_progress"}, "cancel": {"to_do", "in_progress", "waiting"},
                  "pause": {"to_do", "in_progress"}}.get(op)
        if prefer and rng.random() < 0.7:
            target = self.pick(items, pred=lambda r: r["status"] in prefer)
        else:
            target = self.pick(items)
        r = items.get(target)
        s = r["status"] if r else None
        if op == "submit":
            pred = fail("WI404") if r is None else fail("WI001") if s != "draft" else \
                fail("WI002") if self.missing(r) else ok("to_do")
            return (op, "SELECT workitem.submit(%s)", [target], target, pred, extra)
        if op == "start":
            res = rng.choice([None, None, "dave", "robot-7"])
            pred = fail("WI404") if r is None else fail("WI001") if s not in ("draft", "to_do") else \
                fail("WI002") if s == "draft" and self.missing(r) else ok("in_progress")
            return (op, "SELECT workitem.start(%s, %s)", [target, res], target, pred, extra)
        if op == "assign":
            res = rng.choice(AGENTS + ["dave"])
            if r is None:
                pred = fail("WI404")
            elif s == "closed":
                pred = ok("closed") if r["assignee"] == res else fail("WI009")
            elif s == "in_progress" and r["assignee"] != res:
                pred = ok("to_do")
            else:
                pred = ok(s)
            return (op, "SELECT workitem.assign(%s, %s)", [target, res], target, pred, extra)
        if op == "unassign":
            pred = fail("WI404") if r is None else fail("WI013") if r["assignee"] is None else \
                fail("WI009") if s == "closed" else ok("to_do") if s == "in_progress" else ok(s)
            return (op, "SELECT workitem.unassign(%s, %s)", [target, self.text(0.5)], target, pred, extra)
        if op == "wait_more_info":
            days = rng.choice([None, None, 1, 3, 30, 0, -2])
            close = rng.random() < 0.3
            pred = fail("22023") if days is not None and days < 1 else \
                self.pred_wait(r, "more_info", days, close)
            return (op, "SELECT workitem.wait_more_info(%s, %s, %s, %s)",
                    [target, days, close, self.text(0.5)], target, pred, extra)
        if op == "wait_until":
            future = rng.random() < 0.85
            secs = rng.randrange(60, 5 * 86400) * (1 if future else -1)
            pred = self.pred_wait(r, "follow_up", at_future=future)
            return (op, "SELECT workitem.wait_until(%s, now() + make_interval(secs => %s), %s)",
                    [target, secs, self.text(0.5)], target, pred, extra)
        if op == "pause":
            pred = self.pred_wait(r, "paused")
            return (op, "SELECT workitem.pause(%s, %s)", [target, self.text(0.3)], target, pred, extra)
        if op == "resume":
            pred = fail("WI404") if r is None else fail("WI001") if s != "waiting" or self.reserved(r) \
                else ok(self.back(r))
            return (op, "SELECT workitem.resume(%s)", [target], target, pred, extra)
        if op == "resolve":
            res = rng.choice(RESOLUTIONS)
            note = self.text(0.5) if rng.random() < 0.6 else None
            pred = self.pred_resolve(r, res, note)
            return (op, "SELECT workitem.resolve(%s, %s, %s)", [target, res, note], target, pred, extra)
        if op == "reopen":
            if r is None:
                pred = fail("WI404")
            elif s != "resolved":
                pred = fail("WI006")
            elif r["fb_over"]:
                pred = fail("WI007")
            elif r["fb_open"]:
                pred = ok(self.back(r))
            else:
                pred = either({self.back(r)}, {"WI007"})
            return (op, "SELECT workitem.reopen(%s, %s)", [target, self.text(0.5)], target, pred, extra)
        if op == "close":
            pred = fail("WI404") if r is None else fail("WI001") if s != "resolved" else ok("closed")
            return (op, "SELECT workitem.close(%s)", [target], target, pred, extra)
        if op == "cancel":
            if r is None:
                pred = fail("WI404")
            elif s == "closed":
                pred = fail("WI009")
            elif self.reserved(r):
                pred = fail("WI001")
            elif r["kind"] == TICKET or s == "resolved":
                pred = fail("WI004")
            else:
                pred = ok("closed")
            return (op, "SELECT workitem.cancel(%s, %s)", [target, self.text(0.3)], target, pred, extra)
        if op == "record_message":
            direction = rng.choice(["inbound", "inbound", "outbound", "internal"])
            channel = rng.choice(["email", "chat", "portal", "note"])
            pred = self.pred_message(r, direction)
            if rng.random() < 0.3:
                return (op, "INSERT INTO workitem.message (item_id, direction, channel, subject, body) "
                        "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                        [target, direction, channel, self.text(0.3), self.text(0.3)], target, pred, extra)
            return (op, "SELECT workitem.record_message(%s, %s, %s, %s, %s, %s)",
                    [target, direction, channel, self.text(0.3), self.text(0.3),
                     rng.choice([None, "gateway"])], target, pred, extra)
        if op == "split":
            target = self.pick(items, kinds={TICKET}) if rng.random() < 0.9 else target
            r = items.get(target)
            titles = rng.choice([["a"], ["a", "b"], ["x", "y", "z"], [], ["a", " "]])
            pred = self.pred_split_launch(r, "22023" if not titles or any(blank(t) for t in titles) else None)
            return (op, "SELECT workitem.split(%s, %s::text[])", [target, titles], target, pred, extra)
        if op == "launch_case":
            target = self.pick(items, kinds={TICKET}) if rng.random() < 0.9 else target
            r = items.get(target)
            title = self.text(0.15)
            pred = self.pred_split_launch(r, "WI002" if blank(title) else None)
            return (op, "SELECT workitem.launch_case(%s, %s)", [target, title], target, pred, extra)
        if op == "merge":
            # items relate only within a tenant
            into = (self.pick(items, pred=lambda x: r is None or x["tenant"] == r["tenant"])
                    if rng.random() < 0.95 else target)
            t = items.get(into)
            pred = self.pred_merge(r, t, into == target)
            return (op, "SELECT workitem.merge(%s, %s)", [target, into], target, pred, extra)
        if op == "log_time":
            dur = rng.choice(["1 hour", "15 minutes", "2 days", "0", "-1 hour", "1 month", "1 year"])
            if dur in ("0", "-1 hour", "1 month", "1 year"):
                pred = fail("22023")
            elif r is None:
                pred = fail("23503")
            elif s == "closed":
                pred = fail("WI009")  # a closed item's work time is frozen
            else:
                pred = ok(s)
            return (op, "SELECT workitem.log_time(%s, %s::interval, %s)",
                    [target, dur, self.text(0.5)], target, pred, extra)
        if op == "update":
            return self.choose_update(items, target, r)
        if op == "delete":
            if r is None:
                pred = ok()
            elif s != "draft":
                pred = fail("WI015")
            else:
                pred = either(set(), {"23503"})  # gone, or still referenced
            where, wargs = self.where_id(target, r)
            return (op, "DELETE FROM workitem.item" + where, wargs, target, pred, extra)
        # run_timers: at a random moment from now to a few days ahead
        secs = rng.randrange(0, 8 * 86400)
        return (op, "SELECT workitem.run_timers(now() + make_interval(secs => %s), %s)",
                [secs, rng.choice([1, 10, 1000])], None, ANY, extra)

    def choose_update(self, items, target, r):
        """A plain UPDATE with random values: the trigger is the only guard."""
        rng = self.rng
        sets, args = [], []
        what = rng.choice(["status", "status+wait", "status+res", "wait_type", "resolution",
                           "assignee", "assignee", "status+assignee"])
        if what.startswith("status"):
            sets.append("status = %s")
            st = rng.choice(STATUSES)
            args.append(st)
            if what == "status+wait":
                sets.append("wait_type = %s")
                args.append(rng.choice(WAIT_TYPES))
                if rng.random() < 0.7:
                    sets.append("wait_until = now() + interval '2 days'")
            elif what == "status+res":
                sets.append("resolution = %s")
                args.append(rng.choice(RESOLUTIONS))
                if rng.random() < 0.5:
                    sets.append("resolution_note = %s")
                    args.append(self.text(0.3))
            elif what == "status+assignee":
                sets.append("assignee = %s")
                args.append(rng.choice(AGENTS + [None]))
        elif what == "wait_type":
            sets.append("wait_type = %s")
            args.append(rng.choice(WAIT_TYPES + [None]))
        elif what == "resolution":
            sets.append("resolution = %s")
            args.append(rng.choice(RESOLUTIONS + [None]))
        else:
            sets.append("assignee = %s")
            args.append(rng.choice(AGENTS + [None]))
        if rng.random() < 0.3:
            sets.append("change_reason = %s")
            args.append(self.text(0.2))
        pred = ANY
        if r is not None and r["status"] == "closed":
            pred = either({"closed"}, {"WI009"})  # refused unless nothing changes
        elif r is not None and what == "status":
            pred = self.pred_status_update(r, args[0])
        # else: no prediction; check_moves holds what any UPDATE must keep
        # (table edges, closed rows, reserved waits set only by the engine).
        where, wargs = self.where_id(target, r)
        return ("update", "UPDATE workitem.item SET " + ", ".join(sets) + where + " RETURNING id",
                args + wargs, target, pred, {"what": what})

    def where_id(self, target, r):
        """WHERE for one item; with tenants, its tenant too (on Citus: one shard)."""
        if len(self.tenants) == 1:
            return " WHERE id = %s", [target]
        return " WHERE id = %s AND tenant = %s", [target, r["tenant"] if r else self.tenants[0]]

    # -- running and checking -----------------------------------------------
    def run_op(self, name, sql, args, target, pred, extra, in_tx):
        before, bcounts = self.snapshot()
        if len(self.tenants) > 1:
            # the op works in its item's tenant; a new item in a random one
            t = extra.get("tenant") or (before[target]["tenant"] if target in before
                                        else self.rng.choice(self.tenants))
            self.q("SELECT set_config('workitem.tenant', %s, true)", (t,))
        if in_tx:
            self.q("SAVEPOINT op")
        err = None
        result = None
        try:
            result = self.q(sql, args)
        except psycopg2.OperationalError as e:
            if self.conn.closed:
                self.crashed = True
                self.bad("crash", "server connection lost during %s %r: %s" % (name, args, e))
                return False
            err = e
        except psycopg2.Error as e:
            err = e
        if err is not None:
            if err.pgcode is None or self.conn.closed:
                self.crashed = True
                self.bad("crash", "connection lost during %s %r: %s" % (name, args, err))
                return False
            if in_tx:
                self.q("ROLLBACK TO SAVEPOINT op")
            else:
                self.conn.rollback()
        code = err.pgcode if err is not None else None
        key = name + ("(%s)" % extra["what"] if "what" in extra else "")
        c = self.counts.setdefault(name, [0, 0])
        c[0 if code is None else 1] += 1
        if code is not None:
            self.refusals[code] = self.refusals.get(code, 0) + 1
        if code is not None and (code.startswith("XX") or code.startswith("58")):
            self.bad("internal", "%s %r: internal error %s: %s" % (name, args, code, err.pgerror))

        after, acounts = self.snapshot()
        # A refused operation changed nothing at all.
        if code is not None:
            rows_b = {i: r["full_row"] for i, r in before.items()}
            rows_a = {i: r["full_row"] for i, r in after.items()}
            if rows_a != rows_b or acounts != bcounts:
                changed = [i for i in set(rows_b) | set(rows_a) if rows_b.get(i) != rows_a.get(i)]
                self.bad("refused-unchanged", "%s %r refused with %s but items %s changed (counts %s -> %s)"
                         % (name, args, code, changed[:5], bcounts, acounts))
        self.check_moves(name, target, before, after)
        self.check_prediction(key, args, target, pred, code, err, after, result)
        if name == "run_timers" and code is None:
            self.check_timers_done(args, result)
        return True

    def check_timers_done(self, args, result):
        """run_timers(at, max_items) that moved fewer than max_items had
        budget left at every stage, so it ended every timed wait due by
        `at` (more_info with days to wait, follow_up: woken or closed no
        reply) and every feedback window over by `at` (closed). Same
        transaction, so now() and thus `at` are the same as in the call."""
        secs, max_items = args
        moved = result[0][0] if result else None
        if moved is None or moved >= max_items:
            return
        left = self.q("""SELECT id, status::text, wait_type::text FROM workitem.item
                          WHERE (status = 'waiting' AND wait_type IN ('more_info', 'follow_up')
                                 AND wait_until <= now() + make_interval(secs => %s))
                             OR (status = 'resolved' AND feedback_until <= now() + make_interval(secs => %s))
                          ORDER BY id LIMIT 5""", (secs, secs))
        if left:
            self.bad("timers", "run_timers(now() + %ss, %s) moved %s but left due: %s"
                     % (secs, max_items, moved, left))

    def check_prediction(self, key, args, target, pred, code, err, after, result):
        if pred.any_outcome:
            return
        r = after.get(target) if target is not None else None
        if code is None:
            if not pred.may_ok:
                self.bad("model", "%s %r succeeded; the model expected a refusal %s"
                         % (key, args, sorted(pred.err)))
                return
            status = None
            if target is None:
                new_id = result[0][0] if result else None
                r = after.get(new_id)
                status = r["status"] if r else None
            elif r is not None:
                status = r["status"]
            if pred.ok is not None and status not in pred.ok and not (status is None and not pred.ok):
                self.bad("model", "%s %r: status %s after success; the model expected %s"
                         % (key, args, status, sorted(pred.ok)))
        else:
            if code not in pred.err:
                self.bad("model", "%s %r refused with %s (%s); the model expected %s"
                         % (key, args, code, (err.pgerror or "").strip().splitlines()[0:1],
                            "success" if not pred.err else sorted(pred.err)))

    def check_moves(self, name, target, before, after):
        for i, b in before.items():
            a = after.get(i)
            if a is None:
                if b["status"] != "draft":
                    self.bad("moves", "%s: item %d (%s) disappeared" % (name, i, b["status"]))
                continue
            if b["status"] == "closed" and a["full_row"] != b["full_row"]:
                self.bad("closed", "%s: closed item %d changed: %s -> %s"
                         % (name, i, b["full_row"], a["full_row"]))
            if a["status"] != b["status"] and a["status"] not in TRANSITIONS[b["kind"]][b["status"]]:
                self.bad("moves", "%s: item %d (%s) moved %s -> %s, not in the transition table"
                         % (name, i, b["kind"], b["status"], a["status"]))
            if a["wait_type"] in RESERVED_WAITS and a["wait_type"] != b["wait_type"]:
                allowed = (name == "split" and a["wait_type"] == "split" and i == target) or \
                    (name == "launch_case" and a["wait_type"] == "case_launched" and i == target)
                if not allowed:
                    self.bad("moves", "%s: item %d started waiting %s" % (name, i, a["wait_type"]))
        for i, a in after.items():
            if i not in before and a["kind"] == ACTION and a["status"] != "to_do":
                self.bad("moves", "%s: new action %d in %s" % (name, i, a["status"]))

    def check_state(self):
        bad = self.q("SELECT * FROM wi_bad_rows")
        if bad:
            self.bad("invariants", "rows breaking section 1: %s" % (bad[:5],))
        bad = self.q("SELECT * FROM wi_bad_events")
        if bad:
            self.bad("last-event", "last status event differs from status: %s" % (bad[:5],))

    def seed_items(self):
        """A starting population of every kind and status."""
        n = self.args.items
        for k in range(n):
            cat = self.rng.choice(list(self.categories))
            if len(self.tenants) > 1:
                self.q("SET workitem.tenant = %s", (self.tenants[k % len(self.tenants)],))
            if k % 3 == 0:
                self.q("SELECT id FROM workitem.create_case(%s, 'd', %s, NULL, %s)",
                       ("case %d" % k, cat, k % 2 == 0))
            else:
                self.q("SELECT id FROM workitem.create_ticket(%s, 'd', %s, 'c@x', 'r@x', NULL, %s)",
                       ("ticket %d" % k, cat, k % 5 != 1))
        cases = self.q("SELECT id, tenant FROM workitem.item WHERE kind = 'case' ORDER BY id")
        for c, t in cases[: n // 4]:
            self.q("SET workitem.tenant = %s", (t,))
            self.q("INSERT INTO workitem.item (kind, case_id, title) VALUES ('action', %s, 'step')", (c,))
        self.conn.commit()

    def run(self):
        self.setup()
        self.seed_items()
        self.check_state()
        deadline = time.time() + self.args.seconds if self.args.seconds else None
        for self.step in range(1, self.args.steps + 1):
            if deadline and time.time() > deadline:
                break
            actor = self.rng.choice(AGENTS)
            multi = self.rng.random() < 0.15
            nops = self.rng.randint(2, 4) if multi else 1
            self.q("SET LOCAL workitem.actor = %s", (actor,))
            okay = True
            for _ in range(nops):
                items, _counts = self.snapshot()
                op = self.choose(items)
                okay = self.run_op(*op, in_tx=multi)
                if not okay:
                    break
                if not multi:
                    self.conn.commit()
                    self.q("SET LOCAL workitem.actor = %s", (actor,))
            if not okay:
                break
            if multi:
                if self.rng.random() < 0.2:
                    self.conn.rollback()
                else:
                    try:
                        self.conn.commit()
                    except psycopg2.Error as e:
                        # The deferred FK of sla_clock.item_id (23503: its item
                        # deleted in the same transaction) is the only check
                        # that may fail at commit.
                        self.conn.rollback()
                        msg = str(e).strip().splitlines()[:1]
                        if e.pgcode is None or e.pgcode.startswith("XX"):
                            self.bad("internal", "commit failed: %s %s" % (e.pgcode, msg))
                        elif e.pgcode != "23503" or e.diag.table_name != "sla_clock":
                            self.bad("model", "commit failed with %s on %s; only the deferred FK "
                                     "sla_clock.item_id (23503) may fail there: %s"
                                     % (e.pgcode, e.diag.table_name, msg))
            self.conn.commit()
            self.check_state()
            self.conn.commit()
            self.steps_done = self.step
        return self


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--steps", type=int, default=2500)
    ap.add_argument("--items", type=int, default=240, help="items created before the random steps")
    ap.add_argument("--seconds", type=float, default=40, help="stop after this long (0: no limit)")
    ap.add_argument("--tenants", type=int, default=1, help="spread the items over this many tenants")
    ap.add_argument("--dbname", default=None, help="an existing database (its workitem rows are emptied)")
    ap.add_argument("--citus", action="store_true", help="leave out what does not work on Citus yet")
    args = ap.parse_args()
    if args.seed is None:
        args.seed = int.from_bytes(os.urandom(4), "big") % 1000000
    extra = "".join([" --tenants %d" % args.tenants if args.tenants > 1 else "",
                     " --citus" if args.citus else ""])
    print("# random_ops seed=%d steps=%d items=%d%s (replay: test/random_ops.py --seed %d --steps %d%s)"
          % (args.seed, args.steps, args.items, extra, args.seed, args.steps, extra))
    if args.citus:
        print("# left out on Citus: %s" % "; ".join("%s (%s)" % kv for kv in sorted(CITUS_LEFT_OUT.items())))
    sys.stdout.flush()
    run = Runner(args)
    try:
        run.run()
    except (psycopg2.OperationalError, psycopg2.InterfaceError) as e:  # a lost server
        run.crashed = True
        run.bad("crash", "%s: %s" % (type(e).__name__, e))
        run.bad("harness", "the run stopped at step %d" % run.step)
    except Exception as e:  # a bug in the test itself
        run.bad("harness", "%s: %s" % (type(e).__name__, e))
    finally:
        try:
            run.teardown()
        except Exception as e:
            print("# teardown: %s" % e)

    f = run.failures
    check("harness" not in f, "the random run completed (seed %d, %d steps)" % (args.seed, run.steps_done))
    check(not run.crashed and "crash" not in f, "the server never lost the connection")
    check("internal" not in f, "no error had SQLSTATE XX000 (or another internal class)")
    check("invariants" not in f, "the invariants of section 1 held after every step")
    check("last-event" not in f, "the last status event of every item matched its status after every step")
    check("refused-unchanged" not in f, "every refused operation changed no row, event, message or time entry")
    check("closed" not in f, "closed items never changed")
    check("moves" not in f, "every status change was an edge of the transition table; reserved waits only by the engine")
    check("model" not in f, "every outcome (status or SQLSTATE) was the one the model predicted")
    check("timers" not in f, "every run_timers with budget left ended every timed wait (more_info, follow_up) "
          "and feedback window due by its time")
    tried = {k for k, (s, _r) in run.counts.items() if s > 0}
    wanted = {"create_ticket", "create_case", "insert_action", "submit", "start", "assign", "unassign",
              "wait_more_info", "wait_until", "pause", "resume", "resolve", "reopen", "close", "cancel",
              "record_message", "split", "merge", "launch_case", "log_time", "update", "delete",
              "run_timers"} - run.left_out
    # Coverage means something only over a long enough run: below that, skipped.
    enough = 300
    if run.steps_done >= enough:
        check(wanted <= tried, "every operation succeeded at least once (missing: %s)" % sorted(wanted - tried))
        check(len(run.refusals) >= 10,
              "refusals of at least 10 distinct SQLSTATEs were seen (%d)" % len(run.refusals))
    else:
        skip("every operation succeeded at least once",
             "only %d steps (coverage needs %d)" % (run.steps_done, enough))
        skip("refusals of at least 10 distinct SQLSTATEs were seen",
             "only %d steps (coverage needs %d)" % (run.steps_done, enough))
    print("# operations (succeeded, refused): %s" % ", ".join(
        "%s %d/%d" % (k, s, r) for k, (s, r) in sorted(run.counts.items())))
    print("# refusals by SQLSTATE: %s" % ", ".join("%s %d" % kv for kv in sorted(run.refusals.items())))
    if failures():
        print("# seed %d failed: replay with test/random_ops.py --seed %d --steps %d"
              % (args.seed, args.seed, args.steps))
    return done()


if __name__ == "__main__":
    sys.exit(main())
