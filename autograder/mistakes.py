"""Common student mistakes kept as mutants of the solution, each with the feedback it must earn."""
from dataclasses import dataclass


@dataclass(frozen=True)
class Mutant:
    """A one-idea edit of one solution cell.

    name: short id; cell: grade_id of the answer cell; part: grade_id of the test cell that must lose
    points (and no other); edits: (old, new) text replacements, each old text must occur in the solution;
    feedback: a phrase the diagnosis must contain.
    visible_blind: why the notebook's visible check cannot see this mistake with the data a student has; empty for
    a mistake it must catch (autograder.agreement).
    """
    name: str
    cell: str
    part: str
    edits: tuple
    feedback: str
    visible_blind: str = ""

    def applied_to(self, answers):
        """The answer cells `answers` ({grade_id: code}) with this mistake made in its cell."""
        return {**answers, self.cell: self.apply(answers[self.cell])}

    def apply(self, code):
        for old, new in self.edits:
            if old not in code:
                raise ValueError(f"mutant {self.name}: {old!r} is not in the solution of {self.cell}")
            code = code.replace(old, new, 1)
        return code

