"""Run a vendor SDK driver in the SDK's own virtualenv (made by `make install`) and talk to it line by line.

The SDKs pin paho-mqtt versions of their own (ThingsBoard's fork tb-paho-mqtt-client, LinkKit's paho 1.x)
that cannot share the platform's virtualenv, so each has one: .venv-sdk-tb, .venv-sdk-linkkit
(`scripts/vendor-sdks.sh`, pins in pyproject's vendor-sdk-* extras)."""

from __future__ import annotations

import json
import queue
import subprocess
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
HERE = Path(__file__).resolve().parent


def sdk_python(sdk: str) -> Path:
    python = ROOT / f".venv-sdk-{sdk}" / "bin" / "python"
    assert python.exists(), f"{python} is missing: `make install` (scripts/vendor-sdks.sh) makes the SDK virtualenvs"
    return python


class SdkProcess:
    """One device on a vendor SDK, in a process of its own."""

    def __init__(self, sdk: str, driver: str, config: dict, timeout_s: float = 40.0):
        self.timeout_s = timeout_s
        self.process = subprocess.Popen(
            [str(sdk_python(sdk)), str(HERE / driver), json.dumps(config)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=str(HERE),
        )
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self._next()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._lines.put(line)
        self._lines.put("")

    def _next(self) -> dict:
        """The driver's next answer ("@@ {json}"); other output (an SDK may run pip at import) is passed over."""
        while True:
            try:
                line = self._lines.get(timeout=self.timeout_s)
            except queue.Empty:
                raise AssertionError(f"the SDK driver did not answer within {self.timeout_s} s") from None
            if not line:
                raise AssertionError(f"the SDK driver exited: {self.process.stderr.read()[-3000:]}")
            if line.startswith("@@ "):
                return json.loads(line[3:])

    def call(self, op: str, **fields) -> dict:
        self.process.stdin.write(json.dumps({"op": op, **fields}) + "\n")
        self.process.stdin.flush()
        return self._next()

    def close(self) -> None:
        if self.process.poll() is None:
            try:
                self.call("stop")
            except (AssertionError, BrokenPipeError, OSError):
                pass
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
