"""The isolation a submission gets, checked from the inside: a small program runs in a sandbox built the way a
submission's is, and reports its namespaces, the network interfaces it has and which of the worker's folders it
can see. The canary runs it on every worker before grading."""
import json
import subprocess
import tempfile
from pathlib import Path

from .commands import bubblewrap, command, environment, limited

NAMESPACES = ("user", "mnt", "pid", "net", "ipc", "uts")
_REPORT = """
import json, os, socket, sys
print(json.dumps({"namespaces": {n: os.readlink(f"/proc/self/ns/{n}") for n in sys.argv[1].split(",")},
                  "visible": [p for p in json.loads(sys.argv[2]) if os.path.exists(p)],
                  "interfaces": sorted(name for _, name in socket.if_nameindex())}))
"""


def isolation_faults(limits, hidden):
    """What is wrong with the isolation of a sandbox here (an empty list when it is whole): each of NAMESPACES it
    shares with this process, each path of `hidden` (folders a submission must not see) it can see, and each
    network interface other than loopback it has."""
    with tempfile.TemporaryDirectory(prefix="course-kit-inside-") as job_dir:
        args = ["-c", _REPORT, ",".join(NAMESPACES), json.dumps([str(p) for p in hidden])]
        env = None if bubblewrap() else dict(environment(), HOME=job_dir, MPLCONFIGDIR=job_dir, PYTHONPATH="")
        try:
            done = subprocess.run(limited(command(Path(job_dir), args), limits, None), capture_output=True,
                                  env=env, cwd=job_dir, timeout=limits.startup_seconds)
        except subprocess.TimeoutExpired:
            return [f"a sandbox did not report from the inside within {limits.startup_seconds:g} s"]
    try:
        seen = json.loads(done.stdout)
    except ValueError:
        return [f"a sandbox did not report from the inside ({done.stderr.decode('utf-8', 'replace')[-300:]})"]
    faults = [f"shares the worker's {name} namespace" for name in NAMESPACES
              if seen["namespaces"].get(name) == _namespace(name)]
    faults += [f"can see {path}" for path in seen["visible"]]
    faults += [f"has the network interface {name}" for name in seen["interfaces"] if name != "lo"]
    return faults


def _namespace(name):
    try:
        return str(Path(f"/proc/self/ns/{name}").readlink())
    except OSError:
        return None
