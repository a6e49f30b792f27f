"""Running a real ``openskies serve`` on loopback for tests that need real connections.

Used where the behaviour is the process itself: what a just-started server
answers, and what happens when clients disconnect.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

OPENSKIES = str(Path(sys.executable).with_name("openskies"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ``OPENSKIES_*`` setting, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("OPENSKIES_")}
    return {**env, **extra}


def port_open(base: str) -> bool:
    host, port = base.rsplit("/", 1)[-1].split(":")
    try:
        with socket.create_connection((host, int(port)), timeout=1):
            return True
    except OSError:
        return False


def stop(process: subprocess.Popen) -> None:
    """SIGTERM to the server's process group, SIGKILL if it lingers."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@contextmanager
def serving(
    arguments: list[str],
    env: dict[str, str],
    *,
    ready: Callable[[str], bool] = port_open,
    timeout: float = 90,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """``openskies serve --port P ARGUMENTS``; yields (base URL, process) once ``ready``."""
    port = free_port()
    command = [OPENSKIES, "serve", "--port", str(port), "--no-access-log", *arguments]
    process = subprocess.Popen(command, env=env, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while not ready(base):
            assert process.poll() is None, f"serve exited with {process.returncode}"
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.005)
        yield base, process
    finally:
        stop(process)
