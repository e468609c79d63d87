"""The limits a sandbox runs one submission under, from the assignment's manifest ([budgets], and each part's
`seconds`); their defaults are the manifest model's (autograder.manifest)."""
from dataclasses import dataclass, field

from autograder.manifest import Budgets, Manifest, Part

#: Beyond a part's budget, before the sandbox is killed from outside (code that blocks the harness's interruption).
PART_GRACE_SECONDS = 3
_BUDGETS = Budgets()


@dataclass(frozen=True)
class Limits:
    """Per-submission limits. Wall time is budgeted per step: the harness's start, the set-up cell, each of the
    student's cells, and each part (`part_seconds`, by grade_id; the `seconds` of the manifest's [parts.*]);
    `wall_seconds` caps the whole submission, restarts included. CPU time, memory, file size and processes are per
    sandbox. `notebook_mb` and `side_file_mb` bound what a submitted notebook and best-model file may be, unpacked."""
    wall_seconds: float = _BUDGETS.wall_seconds
    cpu_seconds: int = _BUDGETS.cpu_seconds
    memory_mb: int = _BUDGETS.memory_mb
    processes: int = _BUDGETS.processes
    file_mb: int = _BUDGETS.file_mb
    startup_seconds: float = _BUDGETS.startup_seconds
    cell_seconds: float = _BUDGETS.cell_seconds
    part_seconds: dict[str, float] = field(default_factory=dict)
    default_part_seconds: float = Part.model_fields["seconds"].default
    notebook_mb: int = _BUDGETS.notebook_mb
    side_file_mb: int = _BUDGETS.side_file_mb

    @classmethod
    def from_manifest(cls, manifest: Manifest) -> "Limits":
        budgets = manifest.budgets
        return cls(part_seconds={grade_id: part.seconds for grade_id, part in manifest.parts.items() if part.names},
                   wall_seconds=budgets.wall_seconds, cpu_seconds=budgets.cpu_seconds, memory_mb=budgets.memory_mb,
                   processes=budgets.processes, file_mb=budgets.file_mb, startup_seconds=budgets.startup_seconds,
                   cell_seconds=budgets.cell_seconds, notebook_mb=budgets.notebook_mb,
                   side_file_mb=budgets.side_file_mb)

    def part_budget(self, grade_id: str) -> float:
        """Seconds the part's code may run; the harness interrupts it then."""
        return self.part_seconds.get(grade_id, self.default_part_seconds)

    def step_seconds(self, kind: str, step_id: str | None = None) -> float:
        """How long one step of the harness may take before the sandbox is killed: a part gets a grace period
        beyond its budget for the harness's own interruption to take effect."""
        if kind == "part":
            return self.part_budget(step_id or "") + PART_GRACE_SECONDS
        return self.cell_seconds if kind in ("setup", "cell") else self.startup_seconds
