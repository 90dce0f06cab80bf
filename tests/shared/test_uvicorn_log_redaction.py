"""uvicorn's own log lines (the traceback of an unhandled error, the access log) are redacted like
structlog's: a key in an exception message never reaches the log in full.

uvicorn installs its logging configuration before it imports the app, in its own process; the test does the
same in a fresh interpreter, then logs as uvicorn does when an exception escapes the app."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from tests.support import ROOT

KEY = "tdg_" + "Qx7pL2mN9vR4sT6w" * 2

SCRIPT = textwrap.dedent(
    f"""
    import logging
    import uvicorn

    uvicorn.Config("services.query.main:app", log_level="info")  # uvicorn's handlers, as at its start
    import services.query.main  # noqa: F401  (the app configures logging when created)

    try:
        raise LookupError("unknown encoding: {KEY}")
    except LookupError:
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("uvicorn.access").info(
        '%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "GET", "/v1/articles?api_key={KEY}", "1.1", 401
    )
    """
)


def test_uvicorn_tracebacks_and_access_lines_are_redacted() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "TIDINGS_LOG_JSON": "false", "TIDINGS_ENV": "test"},
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "Exception in ASGI application" in output and "LookupError: unknown encoding: tdg_[redacted]" in output
    assert "api_key=tdg_[redacted]" in output
    assert KEY not in output
