"""Reading what a sandbox leaves in its job folder: a regular file, safely (`read_regular`), and the harness's
progress file, step by step (`Progress`), which tells how long the current step may still take."""
import json
import os
import stat
import time


def read_regular(path, max_bytes, offset=0):
    """At most `max_bytes` of the regular file `path` from `offset`; b"" for anything else (a missing file, a
    symbolic link, a FIFO or device a submission left in its job folder: reading them could block or leak)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return b""
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return b""
        f.seek(offset)
        return f.read(max_bytes)


class Progress:
    """Follows the harness's progress file: the current step, when it began (by this process's clock) and its
    budget. Malformed lines are ignored; at most 1 MB is read."""

    def __init__(self, path, limits):
        self.path, self.limits, self.offset = path, limits, 0
        self.start = self.step_start = time.perf_counter()
        self.step, self.budget = ("start", None), limits.startup_seconds
        self.steps = [["start", None, None, self.start]]  # [kind, id, seconds, began]; both clocks are monotonic

    def poll(self):
        data = read_regular(self.path, 2**20 - self.offset, self.offset) if self.offset < 2**20 else b""
        complete = data[:data.rfind(b"\n") + 1]
        self.offset += len(complete)
        for line in complete.splitlines():
            try:
                event = json.loads(line)
                kind, step_id = str(event["step"]), event.get("id")
            except (ValueError, KeyError, TypeError):
                continue
            now, stamp = time.perf_counter(), event.get("t")
            last = self.steps[-1]  # the harness's own clock times steps finer than this polling does
            clocked = isinstance(stamp, float) and isinstance(last[3], float)
            last[2] = round(stamp - last[3] if clocked else now - self.step_start, 4)
            self.step, self.step_start, self.budget = (kind, step_id), now, self.limits.step_seconds(kind, step_id)
            self.steps.append([kind, step_id, None, stamp])

    def overdue(self):
        return time.perf_counter() - self.step_start > self.budget

    def elapsed(self):
        return time.perf_counter() - self.start
