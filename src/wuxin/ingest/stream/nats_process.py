"""nats-server processes of our own (tests, `wuxin bench cluster`): one node or a JetStream cluster on loopback.

Each node gets free ports, a store directory under `data_dir` and a config file; `start` returns once
JetStream answers (on a cluster: once its meta leader is elected). The machine's own nats-server is
never touched.
"""

from __future__ import annotations

import asyncio
import secrets
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from wuxin.ingest.stream import jetstream

NATS_SERVER_CANDIDATES = ("/usr/sbin/nats-server", "/usr/bin/nats-server")


def nats_server_binary() -> str:
    for candidate in NATS_SERVER_CANDIDATES:
        if Path(candidate).exists():
            return candidate
    found = shutil.which("nats-server")
    if not found:
        raise RuntimeError("nats-server is not installed (Debian package nats-server)")
    return found


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


@dataclass
class NatsNode:
    name: str
    host: str
    client_port: int
    cluster_port: int
    store_dir: Path
    config: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.client_port}"

    @property
    def pid(self) -> int:
        if self.process is None:
            raise RuntimeError(f"NATS node {self.name} was never started")
        return self.process.pid

    def running(self) -> bool:
        return self.live_process() is not None

    def live_process(self) -> subprocess.Popen | None:
        """The server process while it runs, else None."""
        return self.process if self.process is not None and self.process.poll() is None else None


@dataclass
class NatsCluster:
    """`size` nodes (1: a single JetStream server, no cluster block)."""

    data_dir: Path
    size: int = 1
    host: str = "127.0.0.1"
    nodes: list[NatsNode] = field(default_factory=list)
    user: str = "wuxin"  # the only account: clients (front ends, workers) must present it
    password: str = field(default_factory=lambda: secrets.token_urlsafe(18))

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        for n in range(1, self.size + 1):
            name = f"n{n}"
            self.nodes.append(
                NatsNode(
                    name,
                    self.host,
                    _free_port(self.host),
                    _free_port(self.host),
                    self.data_dir / name,
                    self.data_dir / f"{name}.conf",
                )
            )

    def url_of(self, node: NatsNode) -> str:
        """The node's URL with the cluster's credentials (nats://user:password@host:port)."""
        return f"nats://{self.user}:{self.password}@{node.host}:{node.client_port}"

    @property
    def urls(self) -> list[str]:
        return [self.url_of(node) for node in self.nodes]

    @property
    def urls_arg(self) -> str:
        return ",".join(self.urls)

    def _render(self, node: NatsNode) -> str:
        lines = [
            f"server_name: {node.name}",
            f"listen: {node.host}:{node.client_port}",
            f'jetstream {{ store_dir: "{node.store_dir}", max_memory_store: 256MB, max_file_store: 8GB }}',
            f'authorization {{ user: "{self.user}", password: "{self.password}" }}',
        ]
        if self.size > 1:
            routes = ", ".join(f"nats-route://{other.host}:{other.cluster_port}" for other in self.nodes)
            lines.append(f"cluster {{ name: wuxin, listen: {node.host}:{node.cluster_port}, routes: [{routes}] }}")
        return "\n".join(lines) + "\n"

    def start(self, timeout_s: float = 30.0) -> NatsCluster:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        for node in self.nodes:
            self.start_node(node)
        self.wait_ready(timeout_s)
        return self

    def start_node(self, node: NatsNode) -> None:
        node.store_dir.mkdir(parents=True, exist_ok=True)
        node.config.write_text(self._render(node))
        log = (self.data_dir / f"{node.name}.log").open("ab")
        node.process = subprocess.Popen([nats_server_binary(), "-c", str(node.config)], stdout=log, stderr=log)

    def kill_node(self, node: NatsNode) -> None:
        """kill -9: no goodbye to the cluster."""
        process = node.live_process()
        if process is not None:
            process.kill()
            process.wait()

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Until JetStream answers an account-info request through the running nodes."""
        deadline = time.monotonic() + timeout_s
        urls = [self.url_of(node) for node in self.nodes if node.running()]
        last: Exception | None = None
        while time.monotonic() < deadline:
            try:
                asyncio.run(_account_info(urls))
                return
            except Exception as exc:  # not listening yet, or the meta leader not elected yet
                last = exc
                time.sleep(0.2)
        raise RuntimeError(
            f"JetStream on {','.join(urls)} not ready after {timeout_s} s: {last!r}; logs in {self.data_dir}"
        )

    def stop(self) -> None:
        for node in self.nodes:
            process = node.live_process()
            if process is not None:
                process.terminate()
        for node in self.nodes:
            if node.process is not None:
                try:
                    node.process.wait(10)
                except subprocess.TimeoutExpired:
                    node.process.kill()
                    node.process.wait()


async def _quiet(_error: Exception) -> None:
    """Connection errors while the nodes start are expected: the caller retries."""


async def _account_info(urls: list[str]) -> None:
    nc = await jetstream.connect(
        urls, "wuxin-ready-check", max_reconnect_attempts=0, allow_reconnect=False, connect_timeout=1, error_cb=_quiet
    )
    try:
        await nc.jetstream(timeout=1).account_info()
    finally:
        await nc.close()
