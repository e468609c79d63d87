"""Autograder for the course kit: checks, mistake catalogue, release and batch grading over nbgrader.

    checks/     one check per graded part (cases, reference, comparison, diagnosis)
    mistakes/   common student mistakes as mutants of the solution, with the feedback each gets
    notebooks   reading nbgrader notebooks and building submissions from them
    release     source/ -> release/ through nbgrader
    demo        the `make demo` job
"""
