"""Why bubblewrap cannot start on this machine, and the documented fix: the grader refuses to grade without a
sandbox (autograder.grade.SandboxUnavailable) unless told `--allow-unsandboxed`, and its refusal names one of:

- `no-bubblewrap`: no `bwrap` program (the `COURSE_KIT_BWRAP` environment variable names another one);
- `sysctl`: unprivileged user namespaces turned off by the kernel's settings (`kernel.unprivileged_userns_clone`,
  `user.max_user_namespaces`);
- `apparmor`: refused by AppArmor, on the host (Ubuntu 24.04's `kernel.apparmor_restrict_unprivileged_userns`)
  or as a container's profile (Docker's `docker-default` denies the mounts bubblewrap makes);
- `seccomp`: the process runs under a seccomp filter that denies the clone/unshare calls bubblewrap needs
  (Docker's default profile, bubblewrap issue #505);
- `proc`: a container that masks parts of /proc, so that bubblewrap cannot mount a /proc of its own;
- `unknown`: bubblewrap failed for another reason (its own message is kept).

The fixes name the profiles in deploy/ (seccomp-bwrap.json, apparmor-bwrap) and the README's "Grading on a cluster".
"""
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

#: Where the kernel and this process describe themselves (a folder laid out like /proc in tests).
PROC = Path("/proc")
#: The environment variable naming the bubblewrap program, when it is not `bwrap` on PATH.
BWRAP_VARIABLE = "COURSE_KIT_BWRAP"
SECCOMP_PROFILE = "deploy/seccomp-bwrap.json"
APPARMOR_PROFILE = "deploy/apparmor-bwrap"
GUIDE = 'README, "Grading on a cluster"'


@dataclass(frozen=True)
class SandboxProblem:
    """Why bubblewrap cannot isolate a submission here: `mechanism` (see the module's doc), what was seen and the
    fix."""
    mechanism: str
    seen: str
    fix: str

    def __str__(self):
        return f"no working sandbox on {os.uname().nodename}: {self.seen}. Fix: {self.fix}"


def bwrap_program():
    """The bubblewrap program's path, or None when there is none."""
    return shutil.which(os.environ.get(BWRAP_VARIABLE) or "bwrap")


def probe_command(path):
    """The smallest bubblewrap run that needs every namespace the grader's sandboxes use."""
    return [path, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-all", "--die-with-parent",
            "true"]


def diagnose():
    """None when bubblewrap starts here with every namespace the sandboxes use, else the SandboxProblem."""
    path = bwrap_program()
    if path is None:
        wanted = os.environ.get(BWRAP_VARIABLE)
        return SandboxProblem(
            "no-bubblewrap", f"{BWRAP_VARIABLE}={wanted} is not a program" if wanted else
            "bubblewrap (bwrap) is not installed",
            "install it (Debian, Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap); a worker image "
            f"built from deploy/Containerfile has it ({GUIDE})")
    try:
        probe = subprocess.run(probe_command(path), capture_output=True, timeout=60)
    except subprocess.TimeoutExpired:
        return SandboxProblem("unknown", "bubblewrap did not finish a test run in 60 s", f"see {GUIDE}")
    if probe.returncode == 0:
        return None
    return classify(probe.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [""])


def classify(message_lines):
    """The SandboxProblem behind bubblewrap's failure (its last stderr line), read from the kernel's settings and
    this process's own state."""
    said = message_lines[0][:300]
    seen = f"bubblewrap fails ({said or 'no message'})"
    if _setting("sys/kernel/unprivileged_userns_clone") == "0" and os.geteuid() != 0:
        return SandboxProblem("sysctl", f"{seen}: unprivileged user namespaces are turned off "
                                        "(kernel.unprivileged_userns_clone = 0)",
                              "sudo sysctl -w kernel.unprivileged_userns_clone=1, and the same line in "
                              "/etc/sysctl.d/ to keep it after a reboot")
    if _setting("sys/user/max_user_namespaces") == "0":
        return SandboxProblem("sysctl", f"{seen}: user namespaces are turned off (user.max_user_namespaces = 0)",
                              "sudo sysctl -w user.max_user_namespaces=15000, and the same line in /etc/sysctl.d/ "
                              "to keep it after a reboot")
    confined = _apparmor_profile()
    if _setting("sys/kernel/apparmor_restrict_unprivileged_userns") == "1" and confined is None:
        return SandboxProblem("apparmor", f"{seen}: AppArmor restricts unprivileged user namespaces "
                                          "(kernel.apparmor_restrict_unprivileged_userns = 1, as on Ubuntu 24.04)",
                              f"give bwrap a profile that allows them: sudo apparmor_parser -r {APPARMOR_PROFILE} "
                              "(Ubuntu 25.04's own bwrap-userns-restrict lets bwrap start too, but takes the "
                              "capabilities warm sandboxes need: they then fall back to cold ones)")
    if _seccomp_filtered() and ("Operation not permitted" in said or "No permissions" in said
                                or "Function not implemented" in said):
        return SandboxProblem("seccomp", f"{seen}: this process runs under a seccomp filter that denies the "
                                         "clone/unshare calls bubblewrap needs (Docker's default profile does)",
                              f"run the container with --security-opt seccomp={SECCOMP_PROFILE} (Kubernetes: a "
                              f"Localhost seccompProfile, or hostUsers: false; {GUIDE})")
    if confined is not None:
        return SandboxProblem("apparmor", f"{seen}: this process is confined by the AppArmor profile {confined}",
                              f"load {APPARMOR_PROFILE} on the host (sudo apparmor_parser -r {APPARMOR_PROFILE}) and "
                              "run the container with --security-opt apparmor=course-kit-bwrap")
    if "proc" in said.lower():
        return SandboxProblem("proc", f"{seen}: the container masks parts of /proc, so bubblewrap cannot mount "
                                      "a /proc of its own",
                              "run the container with --security-opt systempaths=unconfined (Docker) or "
                              f"--security-opt unmask=/proc/* (Podman); {GUIDE}")
    return SandboxProblem("unknown", seen, f"see {GUIDE}, or run `bwrap --ro-bind / / --unshare-all true` to see "
                                           "what fails")


def _setting(name):
    try:
        return (PROC / name).read_text().strip()
    except OSError:
        return None


def _seccomp_filtered():
    """True when this process runs under a seccomp filter (/proc/self/status: `Seccomp: 2`)."""
    for line in (_setting("self/status") or "").splitlines():
        if line.startswith("Seccomp:"):
            return line.split(":", 1)[1].strip() == "2"
    return False


def _apparmor_profile():
    """The AppArmor profile confining this process when it is enforced (e.g. `docker-default`), else None."""
    label = _setting("self/attr/apparmor/current") or _setting("self/attr/current") or ""
    name, _, mode = label.partition(" ")
    if not name or name == "unconfined" or mode.strip("()") != "enforce":
        return None
    return name
