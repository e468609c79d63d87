"""The warm sandbox's fork server: `python -m autograder.harness.forkserver MODULE ...`, started once per grading
worker inside bubblewrap.

It imports the named modules (torch, the harness's assignment modules, the helpers) once, answers `{"ready": true}`,
then serves one request per line on stdin, `{"job": NAME}`: a forked child runs the harness
(`autograder.harness.__main__.main`) on /spool/NAME in isolation, and `{"exit": CODE}` comes back on stdout when it is
gone (128 + N for signal N, as bubblewrap reports). This process never runs student code: every submission starts
from the same clean copy of it.

Each submission gets three processes, all forked from this one:
  - a waiter, which enters new mount, PID, IPC, network and UTS namespaces;
  - an init (PID 1 of the new PID namespace), which mounts a fresh /proc (showing this submission's processes
    only), a fresh /tmp and /dev/shm, the job's own folder at /job, hides the spool of job folders and makes
    the rest of the file system read-only; when it ends, every process the submission left behind is killed.
    What bubblewrap mounted below /tmp (the kit's interpreter and virtualenv, when they live under /tmp) is
    mounted again, read-only, in the fresh /tmp: without it, any module not imported yet could not be found;
  - the job process, which drops every capability (effective, permitted, inheritable, bounding), sets
    no_new_privs and runs the harness, under the resource limits the sandbox was started with (a forked
    process counts its CPU time from zero).
Protocol pipes are closed in the waiter; the job's stdout and stderr go to /job/stderr.txt.

`python -m autograder.harness.forkserver --probe NAME` only checks that a child can isolate itself here (nothing
imported).
"""
import ctypes
import importlib
import json
import os
import re
import signal
import stat
import sys
import sysconfig
from pathlib import Path

SPOOL = Path("/spool")
JOB = Path("/job")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
PR_CAPBSET_DROP, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 24, 4, 38
LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_libc.mount(source.encode(), str(target).encode(), fstype.encode() if fstype else None, flags,
                       data.encode() if data else None), f"mount {target}")


def _exit_code(status):
    code = os.waitstatus_to_exitcode(status)
    return 128 - code if code < 0 else code


def _forked():
    """Fork; in the parent, wait for the child and exit with its status. Returns in the child only."""
    pid = os.fork()
    if pid:
        _, status = os.waitpid(pid, 0)
        os._exit(_exit_code(status))


def isolate(job_dir):
    """Called in a process forked for one job: returns in that job's process, isolated (see the module's doc);
    the processes above it wait for it and exit with its status."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS), "unshare")
    _forked()
    # PID 1 of the new namespace: signals sent from inside reach it only where it has a handler.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _mount("none", "/", None, MS_REC | MS_PRIVATE)  # nothing below propagates back to the warm process
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    _fresh_tmp()
    if os.path.isdir("/dev/shm"):
        _mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    _mount(str(job_dir), JOB, None, MS_BIND | MS_REC)
    _mount("tmpfs", SPOOL, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "size=4k,mode=0555")
    for shared in ("/", "/dev"):  # bubblewrap's own folders, shared by every job: nothing may be left there
        _mount("none", shared, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _forked()
    drop_capabilities()
    os.chdir(JOB)


def mounts_below(folder):
    """Mount points strictly below `folder` in this process's mount namespace (from /proc/self/mountinfo)."""
    prefix = folder.rstrip("/") + "/"
    points = []
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        # Field 5 is the mount point, with space, tab, newline and backslash written as octal escapes.
        point = re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), line.split()[4])
        if point.startswith(prefix):
            points.append(point)
    return points


def _fresh_tmp():
    """A fresh, empty /tmp for the job, with whatever bubblewrap mounted below the old one (the interpreter and
    virtualenv of a kit that lives under /tmp) mounted again, read-only, at the same paths.

    Each top-level folder of the old /tmp that holds such a mount is carried over whole (it holds nothing else:
    bubblewrap's /tmp is a tmpfs of its own) and made read-only, so the job can neither write there nor move the
    interpreter's folders out of the way."""
    tops = sorted({"/tmp/" + point[len("/tmp/"):].split("/", 1)[0] for point in mounts_below("/tmp")})
    kept = [(top, os.open(top, os.O_PATH)) for top in tops]
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777")
    for top, fd in kept:
        if stat.S_ISDIR(os.fstat(fd).st_mode):
            os.mkdir(top, 0o555)
        else:
            os.close(os.open(top, os.O_WRONLY | os.O_CREAT, 0o444))
        _mount(f"/proc/self/fd/{fd}", top, None, MS_BIND | MS_REC)
        _mount("none", top, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


def drop_capabilities():
    """No capability left in any set, none to be regained by exec, and none gained through setuid files."""
    last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
    for cap in range(last + 1):
        _check(_libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0), f"drop capability {cap} from the bounding set")
    _check(_libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "no_new_privs")
    header = (ctypes.c_uint32 * 2)(LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable: two 32-bit words each, all zero
    _check(_libc.capset(header, data), "capset")


def _run_job(job_name, job):
    """The forked waiter: stdio to the job's stderr file, every other descriptor closed, isolated, then `job()`."""
    code = 1
    try:
        job_dir = SPOOL / job_name
        log = os.open(job_dir / "stderr.txt", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
        os.dup2(log, 1)
        os.dup2(log, 2)
        os.closerange(3, os.sysconf("SC_OPEN_MAX"))
        sys.stdout = open(1, "w", buffering=1, closefd=False)
        sys.stderr = open(2, "w", buffering=1, closefd=False)
        isolate(job_dir)
        job()
        code = 0
    except SystemExit as stop:  # a student's sys.exit() ends the harness as it would end a fresh interpreter
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported on the job's stderr, like an interpreter's last words
        import traceback
        traceback.print_exc()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:  # noqa: BLE001 - a broken stream must not keep the process alive
                pass
        os._exit(code)


def _serve(modules):
    answers = os.fdopen(os.dup(1), "w", buffering=1)  # the grader's channel: whatever else prints goes to stderr
    os.dup2(2, 1)
    from .__main__ import main, prepare
    prepare()
    for name in modules:
        importlib.import_module(name)
    from .i18n import CATALOGUE
    from helpers import i18n
    i18n.preload()
    CATALOGUE.translations()  # the course's catalogues, read once here rather than in every child
    _libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # nothing may read or write this process's memory through /proc
    answers.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        name = str(json.loads(line).get("job", ""))
        if "/" in name or name in ("", ".", "..") or not (SPOOL / name).is_dir():
            answers.write(json.dumps({"error": f"no job folder {name!r}"}) + "\n")
            continue
        pid = os.fork()
        if pid == 0:
            _run_job(name, lambda: main(JOB))
        _, status = os.waitpid(pid, 0)
        answers.write(json.dumps({"exit": _exit_code(status)}) + "\n")


def _probe(name):
    """Isolate a child on /spool/NAME and have it prove it: it writes /job/isolated once it also sees the
    interpreter's libraries (its standard library and site-packages), as every job must."""
    def prove():
        folders = {sysconfig.get_path(key) for key in ("stdlib", "platstdlib", "purelib", "platlib")}
        missing = sorted(folder for folder in folders if not os.path.isdir(folder))
        if missing:
            raise RuntimeError(f"an isolated job cannot see {', '.join(missing)}")
        (JOB / "isolated").write_text(str(os.getpid()))

    pid = os.fork()
    if pid == 0:
        _run_job(name, prove)
    _, status = os.waitpid(pid, 0)
    sys.exit(_exit_code(status))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--probe"]:
        _probe(sys.argv[2])
    else:
        _serve(sys.argv[1:])
