"""The moto server on a free loopback port: started, checked ready, always stopped."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType

from tools.emulator.common import LOOPBACK, EmulatorError


def _minimal_env(extra: Mapping[str, str]) -> dict[str, str]:
    """A child environment with nothing AWS- or Terraform-related inherited (no real credentials)."""
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "USER", "TERM", "TF_LOG", "TF_LOG_PATH")
    env = {k: os.environ[k] for k in keep if k in os.environ}
    env.update(extra)
    return env


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def moto_server_binary() -> Path:
    """``moto_server`` next to the running interpreter (the project's .venv)."""
    candidate = Path(sys.executable).parent / "moto_server"
    if candidate.exists():
        return candidate
    found = shutil.which("moto_server")
    if not found:
        raise EmulatorError("moto_server is missing: install moto[server] (Pipfile dev-packages; run `make setup`)")
    return Path(found)


class MotoServer:
    """A moto server on a free loopback port: started, checked ready, always stopped.

    Use as a context manager; an ``atexit`` hook stops it too if the interpreter exits
    first. :meth:`detach` leaves it running on purpose (``try-dev --keep``).
    """

    def __init__(self, log_path: Path, *, ready_timeout: float = 60.0) -> None:
        self.log_path = log_path
        self.ready_timeout = ready_timeout
        self.port = 0
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise EmulatorError("the emulator is not running")
        return self.process.pid

    def start(self) -> MotoServer:
        binary = moto_server_binary()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        last_error = ""
        for _ in range(3):  # a port taken between probing and binding: try another
            self.port = free_loopback_port()
            with self.log_path.open("ab") as log:
                self.process = subprocess.Popen(
                    [str(binary), "-H", LOOPBACK, "-p", str(self.port)],
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=_minimal_env(
                        {
                            # ACM: issue DNS-validated certificates at once (default: after 60 s).
                            "MOTO_ACM_VALIDATION_WAIT": "0",
                            # IAM: AWS managed policies (AmazonEKSClusterPolicy, ...) exist, as in AWS.
                            "MOTO_IAM_LOAD_MANAGED_POLICIES": "true",
                            "PYTHONUNBUFFERED": "1",
                        }
                    ),
                    start_new_session=True,  # its own process group: stop() ends it and nothing else
                )
            atexit.register(self.stop)
            try:
                self._wait_ready()
                return self
            except EmulatorError as exc:
                last_error = str(exc)
                self.stop()
        raise EmulatorError(f"the emulator did not start: {last_error}")

    def _wait_ready(self) -> None:
        assert self.process is not None
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        deadline = time.monotonic() + self.ready_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorError(f"moto_server exited with {self.process.returncode}; see {self.log_path}")
            try:
                with opener.open(f"{self.url}/moto-api/data.json", timeout=2) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.2)
        raise EmulatorError(f"moto_server did not answer on {self.url} within {self.ready_timeout:.0f}s; see {self.log_path}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        """Stop the server's process group (SIGTERM, then SIGKILL after 10 s). Idempotent."""
        process, self.process = self.process, None
        atexit.unregister(self.stop)
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)

    def detach(self) -> None:
        """Leave the server running after this process exits (``try-dev --keep``)."""
        atexit.unregister(self.stop)
        self.process = None

    def __enter__(self) -> MotoServer:
        return self.start() if self.process is None else self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
