"""Recipes for grading on a cluster: a worker image (Containerfile), the seccomp and AppArmor profiles that let
bubblewrap sandbox submissions inside a container, and Dask clusters on SLURM (slurm.py) and Kubernetes
(kubernetes.py)."""
