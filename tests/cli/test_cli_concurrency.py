"""Commands share a store with `weaklab serve` and with each other: readers never wait for an idle
holder, and a command that waits too long names the holder's PID and command and `--wait`."""

from __future__ import annotations

import http.client
import json
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest
from click.testing import CliRunner

from weaklab import LabelMatrix
from weaklab.cli import main
from weaklab.store import Store


def _invoke(*args: str):
    return CliRunner().invoke(main, list(args))


def _small_store(path):
    with Store(path) as st:
        ds = st.add_dataset("d", n_items=20)
        run = st.start_run(ds)
        st.add_application(ds, LabelMatrix(np.random.default_rng(0).integers(-1, 2, (20, 3))), run_id=run)
        st.finish_run(run, metrics={"x": 1})
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _status(port: int, path: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def test_serve_help_says_what_the_concurrency_test_checks():
    """`serve --help` no longer says other commands wait: it says they work meanwhile, and offers --wait."""
    out = _invoke("serve", "--help")
    assert out.exit_code == 0
    text = " ".join(out.output.split())
    assert "other weaklab commands (runs, explain, report, fit...) work on the same store while it runs" in text
    assert "--wait SECONDS" in text


def test_runs_and_writes_work_while_serve_runs(tmp_path):
    """With `weaklab serve` up on a store, `weaklab runs` reads it and another process records a run."""
    pytest.importorskip("fastapi")
    path = _small_store(tmp_path / "s.duckdb")
    port = _free_port()
    server = subprocess.Popen([sys.executable, "-c", "import sys; from weaklab.cli import main; sys.exit(main())",
                               "serve", "--store", str(path), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                assert _status(port, "/runs") == 200
                break
            except OSError:
                assert server.poll() is None, server.stderr.read()
                assert time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
        out = _invoke("runs", "--store", str(path), "--json", "--wait", "5")
        assert out.exit_code == 0, out.output
        assert [r["run_id"] for r in json.loads(out.stdout)] == [1]
        with Store(path, timeout=5) as st:
            st.finish_run(st.start_run(1), metrics={"x": 2})
        assert _status(port, "/runs") == 200
        assert _status(port, "/sources?run=2") == 200  # the dashboard sees the run recorded meanwhile
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_command_that_waits_too_long_names_the_holder_and_the_option(tmp_path):
    """`runs --wait 0.3` against a store held for writing fails in one line with PID, command and --wait."""
    path = _small_store(tmp_path / "s.duckdb")
    holder = tmp_path / "holder.py"
    holder.write_text(textwrap.dedent("""
        import sys
        from weaklab.store import Store
        with Store(sys.argv[1]).session(write=True):
            print("ready", flush=True)
            sys.stdin.readline()
    """))
    child = subprocess.Popen([sys.executable, str(holder), str(path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "ready", child.stderr.read()
        started = time.monotonic()
        out = _invoke("runs", "--store", str(path), "--wait", "0.3")
        assert time.monotonic() - started >= 0.25
        assert out.exit_code == 1
        assert f"PID {child.pid}: " in out.output and "holder.py" in out.output
        assert "--wait SECONDS" in out.output and "Traceback" not in out.output
    finally:
        child.kill()
        child.wait()
