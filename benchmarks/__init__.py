"""`make bench`: timings and accuracies of the course kit, measured side by side, never asserted.

Each benchmark is one module of this package, listed in BENCHMARKS, with a docstring (its description),
``run()`` returning a dict of figures, and ``summary(figures)`` returning a one-line digest.
``python -m benchmarks [NAME ...]`` runs them and records each in results/<name>.json.
"""
BENCHMARKS = (
    "batched_training",
    "class_throughput",
    "grading",
    "grading_memory",
    "hostile_cases",
    "notebook_grading",
    "notebook_student",
    "part_budgets",
    "sandbox_breakdown",
    "self_check",
    "similarity",
    "step_vs_autograd",
    "transfer_accuracy",
    "transfer_notebook",
    "tuned_accuracy",
    "widget_latency",
)
