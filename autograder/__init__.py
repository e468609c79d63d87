"""The generic autograder of the course kit: everything that is not one assignment's own (that is in assignments/).

    manifest        the manifest model: every key of assignments/<name>/manifest.toml, typed, with its default
    registry        finds the assignments (assignments/*/manifest.toml), their code and file parts, and imports
                    their modules from the course's own folder
    authoring       `python -m autograder check`: the rules an assignment folder and its notebook must keep
    judging         what every part check shares: Check, Report, sub-checks, comparisons and diagnoses
    hidden          `hidden_test`, which every hidden-test cell calls: one part graded in process
    harness/        the sandbox side: runs the student's code through an assignment's harness.py, returns plain data
    grade/          the batch grader: intake, which cells run, sandbox, canary, typed jobs and results, one job per
                    submission on Dask, reports
    mistakes, styles        the dataclasses of the mistake catalogues and of the corpora of correct styles
    notebooks               reading nbgrader notebooks and building submissions from them
    course_dir, bundle      the nbgrader course directory and release through nbgrader, the student bundle
    gradebook, autograded   nbgrader's gradebook and autograded/ tree
    demo, scaffold, hostile, render   `make demo`, `python -m autograder new`, hostile test inputs, page templates
"""
