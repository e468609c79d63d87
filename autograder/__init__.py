"""The generic autograder of the course kit: everything that is not one assignment's own (that is in assignments/).

    registry        finds the assignments (assignments/*/manifest.toml) and imports their modules
    checks/         the part-check core (Check, Part, Report, comparisons) and `hidden_test`, which every
                    hidden-test cell calls
    harness/        the sandbox side: runs the student's code through an assignment's harness.py, returns plain data
    grade/          the batch grader: intake, which cells run, sandbox, canary, one job per submission on Dask, reports
    mistakes, styles        the dataclasses of the mistake catalogues and of the corpora of correct styles
    notebooks               reading nbgrader notebooks and building submissions from them
    course, bundle          release through nbgrader, the student bundle
    gradebook, autograded   nbgrader's gradebook and autograded/ tree
    demo, scaffold, hostile, render   `make demo`, `python -m autograder new`, hostile test inputs, page templates
"""
