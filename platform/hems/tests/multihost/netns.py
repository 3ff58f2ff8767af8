"""Several hosts on this one machine, really apart: each host is a network namespace of
its own (its own interfaces, addresses and ports) with its own host name and its own
``/tmp``; the hosts reach each other only through veth pairs joined by a bridge in the
first host's namespace, on a private subnet that exists only between them. Root only
(``ip netns``, iproute2); nothing outside this machine is ever addressed.

    with Network(("a", "b", "c")) as net:
        net["b"].popen([...], env, log)    # runs inside host b, reaching a at net["a"].address

Closing the network kills every process still inside its namespaces and deletes them
(their veths go with them), whatever happened before.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[4]  # the repository, which every host runs
SUBNET = "10.213.0"  # a /24 of our own, only between the namespaces built here
PREFIX = "hemsmh"  # namespace names: hemsmh<pid of the process that built them>-<host>

# Inside a host: its own UTS namespace (a host name of its own, as Celery's node names
# assume) and, unless told otherwise, a private tmpfs on /tmp (nothing left there by one
# host can be read by another). A checkout that itself lives under /tmp (a CI clone) is
# bound back into the private /tmp at its own path, through /mnt of this mount
# namespace only, so the host still runs the same code.
_ENTER = """hostname "$0"
if [ "$HEMS_PRIVATE_TMP" = 1 ]; then
  case "$HEMS_KEEP_DIR" in /tmp/*) mount --bind /tmp /mnt ;; *) HEMS_KEEP_DIR= ;; esac
  mount -t tmpfs -o size=256m,mode=1777 tmpfs /tmp
  if [ -n "$HEMS_KEEP_DIR" ]; then
    mkdir -p "$HEMS_KEEP_DIR" && mount --bind "/mnt/${HEMS_KEEP_DIR#/tmp/}" "$HEMS_KEEP_DIR" && umount /mnt
  fi
fi
exec "$@"
"""


def unavailable() -> str | None:
    """Why hosts cannot be built here (a reason to skip), or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (CI runs as root)"
    for tool in ("ip", "unshare"):
        if shutil.which(tool) is None:
            return f"`{tool}` is not installed (iproute2, util-linux)"
    probe = f"{PREFIX}{os.getpid()}-probe"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` failed: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, text=True)


def _pids(netns: str) -> list[int]:
    found = subprocess.run(["ip", "netns", "pids", netns], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def _kill_inside(netns: str) -> None:
    """SIGKILL every process inside the namespace (all of them started here), and wait."""
    for _ in range(50):
        pids = _pids(netns)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.1)


def remove_stale() -> None:
    """Namespaces left by a run of ours that was killed before it could clean up."""
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split("\n")
    for line in listed:
        name = line.split(" ")[0]
        if not name.startswith(PREFIX):
            continue
        owner = name[len(PREFIX) :].split("-")[0]
        if owner.isdigit() and not Path(f"/proc/{owner}").exists():
            _kill_inside(name)
            subprocess.run(["ip", "netns", "del", name], capture_output=True)


@dataclass
class Host:
    name: str
    netns: str
    address: str
    processes: list[subprocess.Popen] = field(default_factory=list)

    def command(self, argv: list[str], private_tmp: bool = True) -> tuple[list[str], dict[str, str]]:
        """``argv`` run inside this host, and the environment additions that go with it."""
        wrapped = ["ip", "netns", "exec", self.netns, "unshare", "--uts", "--mount", "sh", "-c", _ENTER]
        extra = {"HEMS_PRIVATE_TMP": "1" if private_tmp else "0", "HEMS_KEEP_DIR": str(CHECKOUT)}
        return [*wrapped, f"hems-{self.name}", *argv], extra

    def popen(self, argv: list[str], env: dict[str, str], log: Path, private_tmp: bool = True, **kwargs):
        """Start ``argv`` inside this host, output to ``log``, in a session of its own (so
        it and its children can be killed together)."""
        command, extra = self.command(argv, private_tmp)
        with open(log, "a") as out:
            process = subprocess.Popen(
                command, env={**env, **extra}, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, **kwargs
            )
        self.processes.append(process)
        return process

    def run(self, argv: list[str], env: dict[str, str], timeout: float, private_tmp: bool = True, **kwargs):
        """Run ``argv`` inside this host to its end; its output is returned (and raised on failure)."""
        command, extra = self.command(argv, private_tmp)
        done = subprocess.run(command, env={**env, **extra}, capture_output=True, text=True, timeout=timeout, **kwargs)
        if done.returncode != 0:
            output = done.stdout[-3000:] + done.stderr[-3000:]
            raise RuntimeError(f"{' '.join(argv)} on host {self.name} failed:\n{output}")
        return done.stdout


class Network:
    """Hosts on one private subnet: the first holds the bridge, the others a veth into it."""

    def __init__(self, names: tuple[str, ...] = ("a", "b", "c"), subnet: str = SUBNET):
        tag = f"{PREFIX}{os.getpid()}"
        self.hosts = {name: Host(name, f"{tag}-{name}", f"{subnet}.{n}") for n, name in enumerate(names, 1)}

    def __getitem__(self, name: str) -> Host:
        return self.hosts[name]

    def __enter__(self) -> Network:
        try:
            self.build()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def build(self) -> None:
        remove_stale()
        hub, *others = self.hosts.values()
        for host in self.hosts.values():
            _ip("netns", "add", host.netns)
            _ip("-n", host.netns, "link", "set", "lo", "up")
        _ip("-n", hub.netns, "link", "add", "br0", "type", "bridge")
        _ip("-n", hub.netns, "addr", "add", f"{hub.address}/24", "dev", "br0")
        _ip("-n", hub.netns, "link", "set", "br0", "up")
        for host in others:
            port = f"v{host.name}"
            _ip("-n", host.netns, "link", "add", "eth0", "type", "veth", "peer", "name", port, "netns", hub.netns)
            _ip("-n", hub.netns, "link", "set", port, "master", "br0", "up")
            _ip("-n", host.netns, "addr", "add", f"{host.address}/24", "dev", "eth0")
            _ip("-n", host.netns, "link", "set", "eth0", "up")

    def close(self) -> None:
        for host in reversed(self.hosts.values()):
            for process in host.processes:
                if process.poll() is None:
                    try:
                        os.killpg(process.pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    pass
            _kill_inside(host.netns)
            subprocess.run(["ip", "netns", "del", host.netns], capture_output=True)
