"""TAP output for the client tests in test/*.py: tools/test.sh counts the
"ok N" and "not ok N" lines they print."""
import sys

_count = 0
_failures = 0


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
