"""The limits a sandbox runs one submission under, from the assignment's manifest ([budgets], and each part's
`seconds`)."""
from dataclasses import dataclass, field

#: Beyond a part's budget, before the sandbox is killed from outside (code that blocks the harness's interruption).
PART_GRACE_SECONDS = 3


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall time is budgeted per step: the harness's start, the set-up cell, each of the
    student's cells, and each part (`part_seconds`, by grade_id; the `seconds` of the manifest's [parts.*]);
    `wall_seconds` caps the whole submission, restarts included. CPU time, memory, file size and processes are per
    sandbox. `notebook_mb` and `side_file_mb` bound what a submitted notebook and best-model file may be, unpacked."""
    wall_seconds: float = 300
    cpu_seconds: int = 600
    memory_mb: int = 4096
    processes: int = 64
    file_mb: int = 256
    startup_seconds: float = 60
    cell_seconds: float = 30
    part_seconds: dict = field(default_factory=dict)
    default_part_seconds: float = 60
    notebook_mb: int = 20
    side_file_mb: int = 256

    @classmethod
    def from_manifest(cls, manifest):
        budgets = dict(manifest.get("budgets", {}))
        return cls(part_seconds={grade_id: part["seconds"] for grade_id, part in manifest.get("parts", {}).items()
                                 if "seconds" in part},
                   **{k: budgets[k] for k in ("wall_seconds", "cpu_seconds", "memory_mb", "processes",
                                              "startup_seconds", "cell_seconds", "notebook_mb", "side_file_mb")
                      if k in budgets})

    def part_budget(self, grade_id):
        """Seconds the part's code may run; the harness interrupts it then."""
        return self.part_seconds.get(grade_id, self.default_part_seconds)

    def step_seconds(self, kind, step_id=None):
        """How long one step of the harness may take before the sandbox is killed: a part gets a grace period
        beyond its budget for the harness's own interruption to take effect."""
        if kind == "part":
            return self.part_budget(step_id) + PART_GRACE_SECONDS
        return self.cell_seconds if kind in ("setup", "cell") else self.startup_seconds
