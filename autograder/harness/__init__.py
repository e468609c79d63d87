"""The part of the autograder that runs student code: it calls the student's functions on hidden cases
(with spies, fakes and lookup tables where a part calls other parts) and returns plain data.

It holds no reference implementation and no judging, so the batch grader can copy it alone into the
sandbox (`python -m harness`); the in-kernel nbgrader checks call the same functions. Imports are
relative so the package works both as `autograder.harness` and as a top-level `harness`.
"""
