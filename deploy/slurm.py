"""Grading workers on a SLURM cluster, with dask-jobqueue.

    python -m deploy.slurm --jobs 4 --cores 8 --memory 32GB --kit /shared/course-kit [--queue Q] [--account A]

run on the login node, in the kit's folder with its venv, starts a Dask scheduler there and submits `--jobs` batch
jobs; each starts one worker in the kit's folder (shared with the compute nodes) with that folder's venv. It prints
the `python -m autograder grade ... --scheduler ADDRESS` line to run, then keeps the workers until Ctrl-C.

What the compute nodes need, since the grader refuses a worker without a working sandbox (its canary):
  - bubblewrap (Debian: apt-get install bubblewrap), not setuid, and unprivileged user namespaces: on RHEL-like
    nodes user.max_user_namespaces > 0, on older Debian kernel.unprivileged_userns_clone = 1, on Ubuntu 24.04
    the AppArmor profile deploy/apparmor-bwrap loaded (`sudo apparmor_parser -r deploy/apparmor-bwrap`).
    SLURM itself needs nothing more: its cgroups limit the job, not the namespaces inside it.
  - the course's data: Debian's dataset-fashion-mnist, or the files in a shared folder named by COURSE_DATA
    (pass `--prologue 'export COURSE_DATA=/shared/data'`).
"""
import argparse
import shlex
import signal

from dask_jobqueue import SLURMCluster

#: Each task carries a notebook: Dask must not keep them in its log.
WORKER_ENVIRONMENT = {"DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH": "0"}
#: Node-local scratch for each worker's spill files, expanded by the job's shell.
LOCAL_DIRECTORY = "${TMPDIR:-/tmp}"


def cluster(jobs, cores, memory, kit_dir, walltime, queue=None, account=None, **extra):
    """A SLURMCluster whose `jobs` batch jobs each run one Dask worker with `cores` threads and `memory`, started in
    `kit_dir` with its .venv; `extra` goes to SLURMCluster as it is (e.g. job_extra_directives, scheduler_options,
    job_script_prologue lines to add)."""
    prologue = [f"cd {shlex.quote(str(kit_dir))}", "source .venv/bin/activate"]
    prologue += [f"export {name}={shlex.quote(value)}" for name, value in WORKER_ENVIRONMENT.items()]
    prologue += extra.pop("job_script_prologue", [])
    slurm = SLURMCluster(cores=cores, processes=1, memory=memory, walltime=walltime, queue=queue, account=account,
                         python=shlex.quote(f"{kit_dir}/.venv/bin/python"), local_directory=LOCAL_DIRECTORY,
                         job_script_prologue=prologue, **extra)
    slurm.scale(jobs=jobs)
    return slurm


def grade_command(address):
    """The instructor's grading command line for a scheduler at `address`."""
    return f"python -m autograder grade ASSIGNMENT SUBMISSIONS --out DIR --scheduler {address}"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.slurm", description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, required=True, help="batch jobs, one worker each")
    parser.add_argument("--cores", type=int, required=True, help="CPU cores per job: the worker's threads")
    parser.add_argument("--memory", required=True, help="memory per job, e.g. 32GB")
    parser.add_argument("--kit", required=True, help="the kit's folder, as the compute nodes see it")
    parser.add_argument("--walltime", default="04:00:00", help="time limit per job (default: 04:00:00)")
    parser.add_argument("--queue", help="partition (#SBATCH -p)")
    parser.add_argument("--account", help="account (#SBATCH -A)")
    parser.add_argument("--host", help="the address the scheduler listens on (default: every interface)")
    parser.add_argument("--port", type=int, default=8786, help="the scheduler's port (default: 8786)")
    parser.add_argument("--prologue", action="append", default=[], help="a shell line for each job to run first")
    args = parser.parse_args(argv)
    scheduler_options = {"port": args.port, **({"host": args.host} if args.host else {})}
    with cluster(args.jobs, args.cores, args.memory, args.kit, args.walltime, args.queue, args.account,
                 scheduler_options=scheduler_options, job_script_prologue=args.prologue) as slurm:
        print(slurm.job_script())
        print(f"Scheduler: {slurm.scheduler_address}; {args.jobs} jobs submitted. Grade with:")
        print(f"    {grade_command(slurm.scheduler_address)}")
        print("Ctrl-C cancels the jobs.")
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
