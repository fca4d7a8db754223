"""Is the process that started a run still alive? (pid + host + process start time)

A run records the process that runs it. When a store is opened, a run still
``"running"`` whose process is gone (on this host) was killed: it reads as
``"interrupted"``. The process start time guards against a recycled pid; on
systems without ``/proc`` only the pid's existence is checked, and runs of
other hosts are never judged (their processes cannot be seen from here).
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

__all__ = ["current_process", "process_alive", "process_command"]


def current_process() -> tuple[int, str, str | None]:
    """``(pid, host, start)`` of this process (``start`` is None where it cannot be read)."""
    pid = os.getpid()
    stat = _proc_stat(pid)
    return pid, socket.gethostname(), None if stat is None else stat[1]


def process_alive(pid: int, host: str | None, start: str | None) -> bool:
    """False only when the process is known to be gone: same host and no such (live) process."""
    if host is not None and host != socket.gethostname():
        return True
    if Path("/proc/self/stat").exists():
        stat = _proc_stat(pid)
        if stat is None or stat[0] in ("Z", "X"):  # gone, or a zombie nobody reaped yet
            return False
        return start is None or stat[1] == start
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def _proc_stat(pid: int) -> tuple[str, str] | None:
    """``(state, start time in clock ticks since boot)`` from ``/proc/<pid>/stat``, or None."""
    try:
        text = Path(f"/proc/{int(pid)}/stat").read_text()
    except (OSError, ValueError):
        return None
    fields = text.rsplit(")", 1)[-1].split()
    if len(fields) < 20:
        return None
    return fields[0], fields[19]


def process_command(pid: int) -> str | None:
    """The command line of process ``pid`` (Linux /proc; absolute paths cut to their names); None when unreadable."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    parts = [p.decode(errors="replace") for p in raw.split(b"\0") if p]
    if not parts:
        return None
    text = " ".join(Path(p).name if p.startswith("/") else p for p in parts)  # the PID gives the full story
    return text if len(text) <= 200 else text[:197] + "..."
