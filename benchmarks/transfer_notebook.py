"""The transfer_learning solution notebook end to end on CPU: as a student runs it (grading budget off) and as nbgrader
grades it (grading budget on, hidden tests included), against the manifest's budgets, with the tables it prints (three
modes, label budgets, features, sources, Keras tools)."""
from autograder import registry
from benchmarks.notebook import cell_seconds, execute, kernel_env, printed, slowest, stdout_of
from benchmarks.notebook_grading import hidden_test_points

ASSIGNMENT = "transfer_learning"


def run():
    budgets = registry.assignment(ASSIGNMENT).manifest.budgets
    student, student_wall = execute(kernel_env(COURSE_GRADING_BUDGET="0"), cell_timeout=900, assignment=ASSIGNMENT)
    graded, graded_wall = execute(kernel_env(NBGRADER_EXECUTION="autograde"), cell_timeout=600, assignment=ASSIGNMENT)
    earned, possible = hidden_test_points(graded)
    return {"student_wall_seconds": round(student_wall, 1), "student_target_seconds": budgets.student_seconds,
            "student_slowest_cells_seconds": slowest(cell_seconds(student)),
            "student_results_table": stdout_of(student, "run_modes").strip().splitlines(),
            "student_printed": printed(student, ("run_budgets", "features", "feature_depth", "run_sources",
                                                 "keras_tools")),
            "grading_wall_seconds": round(graded_wall, 1), "grading_target_seconds": budgets.grading_seconds,
            "grading_slowest_cells_seconds": slowest(cell_seconds(graded)),
            "hidden_test_points": earned, "hidden_test_max_points": possible}


def summary(f):
    return (f"student settings {f['student_wall_seconds']:.0f} s (target {f['student_target_seconds']} s); "
            f"grading budget {f['grading_wall_seconds']:.0f} s (target {f['grading_target_seconds']} s), hidden tests "
            f"{f['hidden_test_points']:g}/{f['hidden_test_max_points']:g}")
