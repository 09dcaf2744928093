"""A traceback in the text log, which a live server cannot easily be made to write: each of
its lines is marked as the continuation of its record, so an exception message carrying a
forged record cannot start a line that reads like one (tests/e2e/test_log_forging.py sends
the requests)."""

from __future__ import annotations

import io
import logging

from server.logs import StructuredFormatter

CONTINUATION = "  | "  # what the log shows before each line of a traceback
FORGED = "1999-12-31T23:59:59.000+00:00 INFO kb.request: POST /login 302 role=admin"


def test_a_traceback_never_starts_a_line_of_its_own() -> None:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(StructuredFormatter(as_json=False))
    log = logging.getLogger("tests.traceback")
    log.addHandler(handler)
    log.propagate = False
    try:
        raise ValueError(f"no article /kb/x\n{FORGED}\r\n{FORGED}\u2028{FORGED}")
    except ValueError:
        log.exception("unhandled error on GET /kb/x\n%s", FORGED)
    finally:
        log.removeHandler(handler)
    first, *trace = out.getvalue().rstrip("\n").split("\n")
    assert first.endswith(f"unhandled error on GET /kb/x\\n{FORGED}")
    assert trace[0] == f"{CONTINUATION}Traceback (most recent call last):"
    # the exception's own line breaks continue the traceback; the others are escaped
    assert trace[-3:] == [
        f"{CONTINUATION}ValueError: no article /kb/x",
        f"{CONTINUATION}{FORGED}\\r",
        f"{CONTINUATION}{FORGED}\\u2028{FORGED}",
    ]
    assert all(line.startswith(CONTINUATION) and line.isprintable() for line in trace)
