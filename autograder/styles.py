"""Correct solutions written in the styles students use; every one must earn full marks."""
from dataclasses import dataclass

from autograder.notebooks import submission


@dataclass(frozen=True)
class Style:
    """One student's way of writing one or two answer cells correctly.

    name: short id; answers: grade_id -> the code of that answer cell (other cells keep the solution);
    added_cells: (before_grade_id, code) pairs, a code cell the student added just above the cell with that
    grade_id (a helper function); description: what is particular about the style.
    """
    name: str
    answers: dict
    added_cells: tuple = ()
    description: str = ""

    def applied_to(self, answers):
        """The answer cells `answers` ({grade_id: code}) written in this style, its added cells first (as
        exec_definitions runs them, before the answers)."""
        added = {f"added-{i}": code for i, (_, code) in enumerate(self.added_cells)}
        return {**added, **answers, **self.answers}


def combine(styles):
    """Styles grouped so that no two in a group touch the same answer cell: each group makes one notebook in
    which every answer is correct, written in as many styles at once as fit. Returns a list of lists."""
    groups: list[list] = []
    for style in styles:
        group = next((g for g in groups if not any(set(style.answers) & set(other.answers) for other in g)), None)
        if group is None:
            groups.append([style])
        else:
            group.append(style)
    return groups


def style_notebook(release_nb, source_nb, answers, group):
    """The submission written in every style of `group`, reference answers elsewhere (see `combine`)."""
    merged = dict(answers)
    for style in group:
        merged.update(style.answers)
    return submission(release_nb, source_nb, merged, [cell for style in group for cell in style.added_cells])
