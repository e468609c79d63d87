"""Grading workers on Kubernetes, with the Dask operator (dask-kubernetes).

    python -m deploy.kubernetes --image REGISTRY/course-kit-worker:TAG --workers 10 > cluster.yaml

prints a DaskCluster resource (the image built from deploy/Containerfile for the scheduler and the workers) and, on
stderr, the commands that set up the nodes, start it and grade with it. `worker_pod()` gives the same worker as a
plain Pod, for a cluster without the operator.

Each worker pod runs bubblewrap sandboxes, so it has:
  - `hostUsers: false`: a user namespace of its own (Kubernetes 1.33 or later, or the UserNamespacesSupport
    feature), inside which bubblewrap nests its own;
  - `procMount: Unmasked` (the ProcMountType feature; it needs hostUsers: false): the runtime's masks on /proc would
    stop bubblewrap from mounting a /proc of its own, as Docker's do;
  - the seccomp profile deploy/seccomp-bwrap.json (the runtime's default denies the namespace calls bubblewrap
    makes) and the AppArmor profile deploy/apparmor-bwrap (the runtime's default denies mount), both installed on
    every node;
  - no privilege: no privileged mode, no privilege escalation, every capability dropped, a non-root user.
"""
import argparse
import sys

import yaml
from dask_kubernetes.operator import make_cluster_spec

#: Where the kubelet finds the seccomp profile: relative to its seccomp root, /var/lib/kubelet/seccomp.
SECCOMP_PROFILE = "course-kit/seccomp-bwrap.json"
#: The AppArmor profile's name, as deploy/apparmor-bwrap defines it.
APPARMOR_PROFILE = "course-kit-bwrap"
#: The non-root user of the image (deploy/Containerfile).
WORKER_UID = 1000
#: Each task carries a notebook: Dask must not keep them in its log.
WORKER_ENVIRONMENT = {"DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH": "0"}
SCHEDULER_PORT = 8786


def pod_security():
    """The pod-level fields that let bubblewrap run in a worker pod."""
    return {
        "hostUsers": False,
        "securityContext": {
            "runAsUser": WORKER_UID,
            "runAsGroup": WORKER_UID,
            "runAsNonRoot": True,
            "seccompProfile": {"type": "Localhost", "localhostProfile": SECCOMP_PROFILE},
            "appArmorProfile": {"type": "Localhost", "localhostProfile": APPARMOR_PROFILE},
        },
    }


def container_security():
    """The worker container's securityContext."""
    return {"privileged": False, "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
            "procMount": "Unmasked"}


def worker_resources(threads, memory):
    """Requests and limits of one worker: `threads` CPUs and `memory` (e.g. "16Gi")."""
    amount = {"cpu": str(threads), "memory": memory}
    return {"requests": dict(amount), "limits": dict(amount)}


def worker_pod_spec(image, threads, memory, scheduler=None):
    """The PodSpec of one worker; `scheduler` (its address) is left out where the operator sets it."""
    environment = dict(WORKER_ENVIRONMENT, **({"DASK_SCHEDULER_ADDRESS": scheduler} if scheduler else {}))
    container = {
        "name": "worker",
        "image": image,
        "args": ["dask", "worker", "--nthreads", str(threads)],
        "env": [{"name": name, "value": value} for name, value in environment.items()],
        "resources": worker_resources(threads, memory),
        "securityContext": container_security(),
    }
    return dict(pod_security(), containers=[container])


def worker_pod(image, name="course-kit-worker", threads=4, memory="16Gi",
               scheduler=f"tcp://course-kit-scheduler:{SCHEDULER_PORT}"):
    """A plain Pod running one worker that joins the scheduler at `scheduler`."""
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "course-kit-worker"}},
            "spec": worker_pod_spec(image, threads, memory, scheduler)}


def cluster_spec(image, workers, threads=4, memory="16Gi", name="course-kit"):
    """A DaskCluster resource: one scheduler and `workers` sandboxing workers, all from `image`."""
    spec = make_cluster_spec(name=name, image=image, n_workers=workers, env=WORKER_ENVIRONMENT,
                             worker_command=f"dask worker --nthreads {threads}")
    worker = spec["spec"]["worker"]["spec"]
    worker.update(pod_security())
    container = worker["containers"][0]
    container["resources"] = worker_resources(threads, memory)
    container["securityContext"] = container_security()
    # The image's Dask has the `dask scheduler` command, not the old `dask-scheduler` the template names.
    scheduler = spec["spec"]["scheduler"]["spec"]["containers"][0]
    scheduler["args"] = ["dask", "scheduler", "--host", "0.0.0.0"]
    scheduler["resources"] = {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"memory": "4Gi"}}
    return spec


def setup_commands(name):
    """What to run, after `python -m deploy.kubernetes ... > cluster.yaml`, to grade on the cluster `name`."""
    return f"""\
# On every node (or with a DaemonSet), from the kit's folder:
sudo install -D -m 644 deploy/seccomp-bwrap.json /var/lib/kubelet/seccomp/{SECCOMP_PROFILE}
sudo apparmor_parser -r deploy/apparmor-bwrap
# Once: the Dask operator (dask-kubernetes docs, "Installing": its Helm chart dask-kubernetes-operator).
kubectl apply -f cluster.yaml
kubectl wait --for=condition=Ready pod -l dask.org/cluster-name={name} --timeout=10m
kubectl port-forward svc/{name}-scheduler {SCHEDULER_PORT}:{SCHEDULER_PORT} &
python -m autograder grade ASSIGNMENT SUBMISSIONS --out DIR --scheduler tcp://localhost:{SCHEDULER_PORT}
kubectl delete -f cluster.yaml"""


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes", description=__doc__.splitlines()[0])
    parser.add_argument("--image", required=True, help="the worker image built from deploy/Containerfile")
    parser.add_argument("--workers", type=int, required=True, help="worker pods")
    parser.add_argument("--threads", type=int, default=4, help="threads (and CPUs) per worker (default: 4)")
    parser.add_argument("--memory", default="16Gi", help="memory per worker (default: 16Gi)")
    parser.add_argument("--name", default="course-kit", help="the DaskCluster's name (default: course-kit)")
    args = parser.parse_args(argv)
    yaml.safe_dump(cluster_spec(args.image, args.workers, args.threads, args.memory, args.name), sys.stdout,
                   sort_keys=False)
    print(setup_commands(args.name), file=sys.stderr)


if __name__ == "__main__":
    main()
