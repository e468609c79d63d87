"""The generic part of the autograder that runs student code: it calls the student's functions on hidden cases
(through each assignment's own harness, assignments/<name>/harness.py, with spies, fakes and lookup tables where a
part calls other parts) and returns plain data.

It holds no reference implementation and no judging, so the batch grader mounts it, and the assignments' harness
files, alone into the sandbox (`python -m autograder.harness`); the in-kernel nbgrader checks call the same functions.
Inside the sandbox, `autograder` and `assignments` hold nothing but these files: a harness file imports only the
standard library, torch and friends, `helpers` and `autograder.harness` (tests/test_conformance.py checks it).
"""
