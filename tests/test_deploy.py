"""The deployment recipes in deploy/, each checked as far as a machine with no cluster and no container runtime
allows: the SLURM job script (dask-jobqueue, sbatch stood in for), the Kubernetes resources (validated against
Kubernetes' own schemas), the AppArmor profile (compiled by the real parser), the seccomp profile (compiled by
libseccomp and applied to a real bubblewrap run) and the worker image's Containerfile (parsed)."""
import io
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import kubernetes_validate
import pyseccomp
import pytest
import yaml
from dockerfile_parse import DockerfileParser

from deploy import kubernetes, slurm

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
SECCOMP = DEPLOY / "seccomp-bwrap.json"
APPARMOR = DEPLOY / "apparmor-bwrap"
CONTAINERFILE = DEPLOY / "Containerfile"
#: What bubblewrap and the warm sandboxes call to make their namespaces, which Docker's default profile denies.
NAMESPACE_SYSCALLS = {"clone", "clone3", "unshare", "setns", "mount", "umount2", "pivot_root", "sethostname"}


# SLURM

@pytest.fixture
def fake_slurm(tmp_path, monkeypatch):
    """sbatch and scancel stood in for on PATH: sbatch keeps each job script in `scripts` and answers job id 4242;
    both log their calls in `calls`. Returns the folder of both files."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for program, action in (("sbatch", f'cat "$1" >> "{tmp_path}/scripts"; echo Submitted batch job 4242'),
                            ("scancel", "true")):
        (bin_dir / program).write_text(f'#!/bin/sh\necho "{program} $1" >> "{tmp_path}/calls"\n{action}\n')
        (bin_dir / program).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    return tmp_path


def calls(fake_slurm, program):
    log = fake_slurm / "calls"
    return [line for line in log.read_text().splitlines() if line.startswith(f"{program} ")] if log.exists() else []


@pytest.fixture
def slurm_cluster(fake_slurm):
    """deploy.slurm's cluster of 3 jobs, its scheduler on the loopback."""
    with slurm.cluster(3, 8, "32GB", "/shared/course kit", "02:00:00", queue="teaching", account="cs231",
                       scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0"}) as cluster:
        yield cluster


def test_the_slurm_job_script_starts_one_worker_in_the_kit_with_its_venv(slurm_cluster):
    script = slurm_cluster.job_script()
    lines = script.splitlines()
    for directive in ("-p teaching", "-A cs231", "-n 1", "--cpus-per-task=8", "--mem=30G", "-t 02:00:00"):
        assert f"#SBATCH {directive}" in lines, script
    prologue = ["cd '/shared/course kit'", "source .venv/bin/activate",
                "export DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH=0"]
    worker = next(line for line in lines if "distributed.cli.dask_worker" in line)
    assert lines.index(worker) > max(lines.index(line) for line in prologue)
    command = shlex.split(worker)
    assert command[:4] == ["/shared/course kit/.venv/bin/python", "-m", "distributed.cli.dask_worker",
                           slurm_cluster.scheduler_address]
    def option(name):
        return command[command.index(name) + 1]
    assert option("--nthreads") == "8" and option("--memory-limit") == "29.80GiB"
    assert option("--local-directory") == "${TMPDIR:-/tmp}"
    assert "--nworkers" not in command  # one worker process per job
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0


def test_scaling_the_slurm_cluster_submits_one_job_per_worker(slurm_cluster, fake_slurm):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and len(calls(fake_slurm, "sbatch")) < 3:
        time.sleep(0.1)
    assert len(calls(fake_slurm, "sbatch")) == 3
    scripts = (fake_slurm / "scripts").read_text()
    assert scripts.count("#!/usr/bin/env bash") == 3
    names = re.findall(r"--name (\S+)", scripts)
    assert len(set(names)) == 3 and "dummy-name" not in names


def test_the_slurm_recipe_submits_its_jobs_prints_the_grading_line_and_cancels_them_on_ctrl_c(fake_slurm):
    recipe = subprocess.Popen([sys.executable, "-u", "-m", "deploy.slurm", "--jobs", "2", "--cores", "4", "--memory",
                               "8GB", "--kit", str(ROOT), "--host", "127.0.0.1", "--port", "0"],
                              cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    watchdog = threading.Timer(120, recipe.kill)
    watchdog.start()
    try:
        out = ""
        for line in recipe.stdout:
            out += line
            if "Ctrl-C" in line:
                break
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(calls(fake_slurm, "sbatch")) < 2:
            time.sleep(0.1)
        recipe.send_signal(signal.SIGINT)
        assert recipe.wait() == 0
    finally:
        watchdog.cancel()
        recipe.kill()
    assert "#SBATCH --cpus-per-task=4" in out
    address = re.search(r"Scheduler: (tcp://127\.0\.0\.1:\d+);", out)[1]
    assert f"python -m autograder grade ASSIGNMENT SUBMISSIONS --out DIR --scheduler {address}" in out
    assert len(calls(fake_slurm, "sbatch")) == 2 and calls(fake_slurm, "scancel") == ["scancel 4242"] * 2


# Kubernetes

#: The first Kubernetes with pod user namespaces on by default (appArmorProfile is a field since 1.30).
KUBERNETES_VERSION = "1.33"


def validate(resource):
    kubernetes_validate.validate(resource, KUBERNETES_VERSION, strict=True)


def as_pod(pod_spec):
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "check"}, "spec": pod_spec}


def assert_sandbox_settings(pod_spec):
    assert pod_spec["hostUsers"] is False
    context = pod_spec["securityContext"]
    assert context["seccompProfile"] == {"type": "Localhost", "localhostProfile": "course-kit/seccomp-bwrap.json"}
    assert context["appArmorProfile"] == {"type": "Localhost", "localhostProfile": "course-kit-bwrap"}
    assert context["runAsNonRoot"] is True and context["runAsUser"] != 0
    (container,) = pod_spec["containers"]
    assert container["securityContext"] == {"privileged": False, "allowPrivilegeEscalation": False,
                                             "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"}
    assert container["args"][:2] == ["dask", "worker"]
    assert {"name": "DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH", "value": "0"} in container["env"]


def test_the_worker_pod_is_a_valid_pod_that_lets_bubblewrap_run():
    pod = kubernetes.worker_pod("registry.example/course-kit-worker:1", threads=6, memory="24Gi")
    validate(pod)
    assert_sandbox_settings(pod["spec"])
    (container,) = pod["spec"]["containers"]
    assert container["resources"]["limits"] == {"cpu": "6", "memory": "24Gi"}
    assert {"name": "DASK_SCHEDULER_ADDRESS", "value": "tcp://course-kit-scheduler:8786"} in container["env"]


@pytest.mark.parametrize("field, broken", [
    (("spec", "hostUsers"), "no"),
    (("spec", "securityContext", "appArmorProfile", "kind"), "Localhost"),
    (("spec", "containers", 0, "securityContext", "allowPrivilegeEscalation"), "false"),
])
def test_a_broken_worker_pod_fails_validation(field, broken):
    pod = kubernetes.worker_pod("registry.example/course-kit-worker:1")
    *path, last = field
    place = pod
    for key in path:
        place = place[key]
    place[last] = broken
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(pod)


def test_the_dask_cluster_runs_sandboxing_workers_and_a_scheduler_the_image_has():
    spec = kubernetes.cluster_spec("registry.example/course-kit-worker:1", workers=10, threads=4, memory="16Gi")
    assert spec["apiVersion"] == "kubernetes.dask.org/v1" and spec["kind"] == "DaskCluster"
    worker = spec["spec"]["worker"]
    assert worker["replicas"] == 10
    validate(as_pod(worker["spec"]))
    assert_sandbox_settings(worker["spec"])
    assert worker["spec"]["containers"][0]["args"][:4] == ["dask", "worker", "--nthreads", "4"]
    scheduler = spec["spec"]["scheduler"]["spec"]
    validate(as_pod(scheduler))
    assert scheduler["containers"][0]["args"][:2] == ["dask", "scheduler"]


def test_the_kubernetes_recipe_prints_the_yaml_and_how_to_use_it(capsys):
    kubernetes.main(["--image", "registry.example/course-kit-worker:1", "--workers", "3", "--name", "cs231"])
    out, err = capsys.readouterr()
    resource = yaml.safe_load(out)
    assert resource["metadata"]["name"] == "cs231" and resource["spec"]["worker"]["replicas"] == 3
    assert "/var/lib/kubelet/seccomp/course-kit/seccomp-bwrap.json" in err
    assert "apparmor_parser -r deploy/apparmor-bwrap" in err and "--scheduler tcp://localhost:8786" in err


# AppArmor

def apparmor_parser():
    return shutil.which("apparmor_parser", path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"]))


def compile_apparmor(text, tmp_path):
    """Compile the profile `text` with the real parser, without a kernel, every warning an error. AppArmor 3 (Debian
    12) predates the `userns` rule and the 4.0 ABI: there the profile is compiled without that one rule, under 3.0."""
    parser = apparmor_parser()
    version = subprocess.run([parser, "--version"], capture_output=True, text=True).stdout
    major = int(re.search(r"version (\d+)\.", version)[1])
    abi = "4.0" if major >= 4 else "3.0"
    if major < 4:
        text = re.sub(r"^\s*userns,\n", "", text.replace("abi <abi/4.0>,", "abi <abi/3.0>,"), flags=re.MULTILINE)
    profile = tmp_path / "profile"
    profile.write_text(text)
    return subprocess.run([parser, "--skip-kernel-load", "--skip-cache", "--warn=all", "--Werror",
                           "-M", f"/etc/apparmor.d/abi/{abi}", str(profile)], capture_output=True, text=True,
                          timeout=60)


needs_apparmor_parser = pytest.mark.skipif(not apparmor_parser(), reason="no apparmor_parser (make setup installs it)")


@needs_apparmor_parser
def test_the_apparmor_profile_compiles(tmp_path):
    result = compile_apparmor(APPARMOR.read_text(), tmp_path)
    assert result.returncode == 0, result.stderr


@needs_apparmor_parser
def test_a_broken_apparmor_profile_does_not_compile(tmp_path):
    broken = APPARMOR.read_text().replace("  pivot_root,\n", "  pivot_rot,\n")
    assert broken != APPARMOR.read_text()
    result = compile_apparmor(broken, tmp_path)
    assert result.returncode != 0 and "syntax error" in result.stderr


def test_the_apparmor_profile_is_the_one_the_containers_name_and_allows_what_bubblewrap_does():
    text = APPARMOR.read_text()
    assert re.search(r"^profile course-kit-bwrap /usr/bin/bwrap flags=\(attach_disconnected, mediate_deleted\) \{$",
                     text, re.MULTILINE)
    assert "abi <abi/4.0>," in text
    rules = {line.strip() for line in text.splitlines()}
    assert {"userns,", "capability,", "mount,", "umount,", "pivot_root,", "file,", "network,"} <= rules
    assert "unconfined" not in re.search(r"^profile .*$", text, re.MULTILINE)[0]


def test_the_graders_refusal_names_the_profiles_here():
    from autograder.grade.sandbox import diagnosis
    assert (ROOT / diagnosis.SECCOMP_PROFILE) == SECCOMP and (ROOT / diagnosis.APPARMOR_PROFILE) == APPARMOR


# seccomp

def seccomp_profile():
    return json.loads(SECCOMP.read_text())


def test_the_seccomp_profile_has_the_shape_docker_reads():
    profile = seccomp_profile()
    assert set(profile) <= {"comment", "defaultAction", "defaultErrnoRet", "archMap", "syscalls"}
    assert profile["defaultAction"] == "SCMP_ACT_ERRNO" and profile["defaultErrnoRet"] == 1
    assert {entry["architecture"] for entry in profile["archMap"]} == {"SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"}
    assert all(isinstance(entry["subArchitectures"], list) for entry in profile["archMap"])
    names = []
    for rule in profile["syscalls"]:
        assert set(rule) <= {"comment", "names", "action", "args", "errnoRet"}, rule
        assert rule["action"] in {"SCMP_ACT_ALLOW", "SCMP_ACT_ERRNO"}
        assert rule["names"] and all(isinstance(name, str) for name in rule["names"])
        names += rule["names"]
    assert len(names) == len(set(names)), "a syscall is named twice"
    unconditional = {name for rule in profile["syscalls"] if rule["action"] == "SCMP_ACT_ALLOW" and "args" not in rule
                     for name in rule["names"]}
    assert NAMESPACE_SYSCALLS <= unconditional


def test_every_syscall_in_the_seccomp_profile_is_known_to_libseccomp():
    profile = seccomp_profile()
    arches = [getattr(pyseccomp.Arch, entry["architecture"].removeprefix("SCMP_ARCH_")) for entry in profile["archMap"]]
    names = [name for rule in profile["syscalls"] for name in rule["names"]]
    unknown = [name for name in names if pyseccomp.resolve_syscall(pyseccomp.Arch.NATIVE, name) == -1]
    assert not unknown, f"libseccomp knows no syscall {unknown}"
    nowhere = [name for name in names if all(pyseccomp.resolve_syscall(arch, name) < 0 for arch in arches)]
    assert not nowhere, f"no architecture of the profile has {nowhere}"


#: Run in a fresh interpreter: argv[1] is a seccomp profile (JSON, or "none"), the rest the command to exec under it.
#: Run as root, it first becomes `nobody`, as a container's worker is no root; libseccomp sets no_new_privs.
APPLY_PROFILE = """
import json, os, sys
import pyseccomp as seccomp
if os.geteuid() == 0:
    os.setgroups([]); os.setgid(65534); os.setuid(65534)
if sys.argv[1] != "none":
    profile = json.loads(sys.argv[1])
    ops = {"SCMP_CMP_EQ": seccomp.EQ, "SCMP_CMP_NE": seccomp.NE, "SCMP_CMP_MASKED_EQ": seccomp.MASKED_EQ}
    errno = profile["defaultErrnoRet"]
    profile_filter = seccomp.SyscallFilter(seccomp.ERRNO(errno))
    for rule in profile["syscalls"]:
        action = seccomp.ALLOW if rule["action"] == "SCMP_ACT_ALLOW" else seccomp.ERRNO(rule.get("errnoRet", errno))
        args = [seccomp.Arg(a["index"], ops[a["op"]], a["value"], a.get("valueTwo", 0)) for a in rule.get("args", [])]
        for name in rule["names"]:
            profile_filter.add_rule(action, name, *args)
    profile_filter.load()
os.execv(sys.argv[2], sys.argv[2:])
"""
#: The warm sandbox's child: new mount, PID, network, IPC and UTS namespaces, then a /proc of its own.
WARM_CHILD = """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
new_namespaces = 0x00020000 | 0x20000000 | 0x40000000 | 0x08000000 | 0x04000000  # mount, PID, network, IPC, UTS
assert libc.unshare(new_namespaces) == 0, os.strerror(ctypes.get_errno())
child = os.fork()
if child == 0:
    assert libc.mount(b"proc", b"/proc", b"proc", 0, None) == 0, os.strerror(ctypes.get_errno())
    os._exit(0)
os._exit(os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]))
"""
BWRAP = shutil.which("bwrap")
SYSTEM_PYTHON = shutil.which("python3", path="/usr/bin:/bin") or sys.executable
SANDBOXES = {
    "cold": [BWRAP, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL", "--ro-bind", "/", "/",
             "--proc", "/proc", "--dev", "/dev", "--chdir", "/", "true"],
    "warm": [BWRAP, "--unshare-all", "--die-with-parent", "--new-session", "--unshare-user", "--uid", "0", "--gid", "0",
             "--cap-add", "ALL", "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--chdir", "/",
             SYSTEM_PYTHON, "-c", WARM_CHILD],
}


def run_under(profile, command):
    """`command` run unprivileged under `profile` (None: no seccomp filter)."""
    return subprocess.run([sys.executable, "-c", APPLY_PROFILE, json.dumps(profile) if profile else "none", *command],
                          capture_output=True, text=True, timeout=60, cwd="/")


def docker_default_namespace_rules(profile):
    """`profile` with Docker's default rules for a process without CAP_SYS_ADMIN in place of its namespace calls:
    clone only without namespace flags, clone3 'not implemented' (so that the C library falls back to clone)."""
    namespace_flags = 0x7E020000  # CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET
    rules = [dict(rule, names=[name for name in rule["names"] if name not in NAMESPACE_SYSCALLS])
             for rule in profile["syscalls"]]
    rules += [{"names": ["clone"], "action": "SCMP_ACT_ALLOW",
               "args": [{"index": 0, "value": namespace_flags, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
              {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}]
    return dict(profile, syscalls=[rule for rule in rules if rule["names"]])


@pytest.fixture(scope="module")
def unprivileged_bubblewrap():
    """Skip unless an unprivileged bubblewrap runs both sandboxes here without any seccomp filter."""
    if not BWRAP:
        pytest.skip("no bubblewrap")
    for kind, command in SANDBOXES.items():
        result = run_under(None, command)
        if result.returncode != 0:
            pytest.skip(f"an unprivileged bubblewrap cannot make a {kind} sandbox here: {result.stderr.strip()}")


@pytest.mark.parametrize("kind", sorted(SANDBOXES))
def test_bubblewrap_sandboxes_run_under_the_seccomp_profile(unprivileged_bubblewrap, kind):
    result = run_under(seccomp_profile(), SANDBOXES[kind])
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("kind", sorted(SANDBOXES))
def test_bubblewrap_fails_under_dockers_default_rules_for_namespaces(unprivileged_bubblewrap, kind):
    docker_like = docker_default_namespace_rules(seccomp_profile())
    result = run_under(docker_like, SANDBOXES[kind])
    assert result.returncode != 0 and "namespace" in result.stderr, result.stderr
    # The same filter still lets a process start others: only the namespaces are missing.
    started = run_under(docker_like, [SYSTEM_PYTHON, "-c", "import subprocess; subprocess.run(['true'], check=True)"])
    assert started.returncode == 0, started.stderr


# The worker image

def containerfile():
    return DockerfileParser(fileobj=io.BytesIO(CONTAINERFILE.read_bytes()))


def instructions(parsed, name):
    return [item["value"] for item in parsed.structure if item["instruction"] == name]


def test_the_worker_image_has_the_sandbox_the_data_and_the_kits_venv():
    parsed = containerfile()
    assert parsed.baseimage.startswith("debian:bookworm")  # Python 3.11, as the kit declares
    runs = instructions(parsed, "RUN")
    apt = next(run for run in runs if "apt-get install" in run).split()
    assert {"bubblewrap", "dataset-fashion-mnist", "make", "python3-venv"} <= set(apt)
    (setup,) = [run for run in runs if run.startswith("make setup")]
    # make installs no Debian package as the non-root user: each one it checks for is installed above.
    override = shlex.split(setup.removeprefix("make setup"))
    (packages,) = [item.removeprefix("APT_PACKAGES=").split() for item in override if item.startswith("APT_PACKAGES=")]
    assert set(packages) <= set(apt) and {"bubblewrap", "dataset-fashion-mnist"} <= set(packages)
    copied = {source for copy_ in instructions(parsed, "COPY")
              for source in [word for word in copy_.split() if not word.startswith("--")][:-1]}
    assert {"pyproject.toml", "Makefile", "README.md", "helpers", "autograder", "assignments"} <= copied
    assert all((ROOT / source).exists() for source in copied), copied
    assert parsed.envs["DASK_DISTRIBUTED__ADMIN__LOW_LEVEL_LOG_LENGTH"] == "0"
    assert json.loads(parsed.cmd)[:2] == ["dask", "worker"]


def test_the_worker_image_runs_as_the_non_root_user_kubernetes_expects():
    parsed = containerfile()
    order = [item["instruction"] for item in parsed.structure]
    users = instructions(parsed, "USER")
    assert users and users[-1] not in {"root", "0"}
    last_user = max(i for i, instruction in enumerate(order) if instruction == "USER")
    setup = next(i for i, item in enumerate(parsed.structure) if item["value"].startswith("make setup"))
    assert last_user < setup  # the venv belongs to the worker's user
    useradd = next(run for run in instructions(parsed, "RUN") if "useradd" in run)
    assert f"--uid {kubernetes.WORKER_UID}" in useradd and users[-1] in useradd.split()


def test_the_run_commands_in_the_containerfile_name_profiles_that_exist():
    header = "\n".join(item["value"] for item in containerfile().structure if item["instruction"] == "COMMENT")
    runs = [" ".join(shlex.split(command.replace("\\\n", " "))) for command in re.findall(
        r"^((?:docker|podman) run (?:.*\\\n)*.*)$", header, re.MULTILINE)]
    assert [run.split()[0] for run in runs] == ["docker", "podman"]
    proc_option = {"docker": "systempaths=unconfined", "podman": "unmask=/proc/*"}
    for run in runs:
        options = re.findall(r"--security-opt (\S+)", run)
        assert "seccomp=deploy/seccomp-bwrap.json" in options and "apparmor=course-kit-bwrap" in options
        assert proc_option[run.split()[0]] in options
        assert "--privileged" not in run
        for option in options:
            kind, _, value = option.partition("=")
            if kind == "seccomp":
                assert (ROOT / value).is_file(), value
            if kind == "apparmor":
                assert re.search(rf"^profile {re.escape(value)} ", APPARMOR.read_text(), re.MULTILINE), value
    assert "sudo apparmor_parser -r deploy/apparmor-bwrap" in header
