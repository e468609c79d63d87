"""The pinned requirements agree between pyproject.toml and environment.yml; the setup and CI entry points."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)\s*$")


def normalise(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(requirements):
    pins = {}
    for requirement in requirements:
        match = PIN.match(requirement)
        assert match, f"not an exact == pin: {requirement!r}"
        name = normalise(match.group(1))
        assert name not in pins, f"{name} is listed twice"
        pins[name] = match.group(2)
    return pins


def pyproject_requirements():
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["dependencies"]


def environment_requirements():
    with open(ROOT / "environment.yml") as f:
        env = yaml.safe_load(f)
    pip_lists = [entry["pip"] for entry in env["dependencies"] if isinstance(entry, dict) and "pip" in entry]
    assert len(pip_lists) == 1, "environment.yml needs exactly one pip: list under dependencies"
    assert "pip" in env["dependencies"], "environment.yml must install pip itself for its pip: list"
    return pip_lists[0]


def test_parse_pins_rejects_loose_requirements():
    for loose in ("torch>=2.0", "numpy", "tqdm~=4.0", "dask==2026.8.0; python_version>'3.9'", "a==1,<2"):
        with pytest.raises(AssertionError):
            parse_pins([loose])
    assert parse_pins(["Py_Yaml==6.0.4"]) == {"py-yaml": "6.0.4"}


def test_every_pyproject_requirement_is_an_exact_pin():
    pins = parse_pins(pyproject_requirements())
    assert len(pins) == len(pyproject_requirements()) > 0


def test_every_environment_pip_requirement_is_an_exact_pin():
    pins = parse_pins(environment_requirements())
    assert len(pins) == len(environment_requirements()) > 0


def test_pyproject_and_environment_pin_the_same_set():
    from_pyproject = parse_pins(pyproject_requirements())
    from_environment = parse_pins(environment_requirements())
    assert set(from_pyproject) == set(from_environment), (
        f"only in pyproject.toml: {sorted(set(from_pyproject) - set(from_environment))}; "
        f"only in environment.yml: {sorted(set(from_environment) - set(from_pyproject))}")
    differing = {name: (version, from_environment[name]) for name, version in from_pyproject.items()
                 if version != from_environment[name]}
    assert not differing, f"pins differ (pyproject.toml, environment.yml): {differing}"


@pytest.mark.parametrize("source", [pyproject_requirements, environment_requirements])
def test_torch_and_torchvision_pins(source):
    pins = parse_pins(source())
    assert pins["torch"] == "2.14.1"
    assert pins["torchvision"] == "0.29.1"


def makefile_variable(text, name):
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", text, re.MULTILINE)
    assert match, f"Makefile defines no {name}"
    return match.group(1).split()


def test_makefile_installs_the_debian_packages():
    text = (ROOT / "Makefile").read_text()
    packages = makefile_variable(text, "APT_PACKAGES")
    assert {"dataset-fashion-mnist", "bubblewrap", "chromium"} <= set(packages)  # data, sandbox, browser tests
    install = [line for line in text.splitlines() if "apt-get install" in line]
    assert install and all("$(APT_PACKAGES)" in line for line in install)
    assert re.search(r"^setup:.*\bsystem\b", text, re.MULTILINE), "setup must depend on the system target"
    assert re.search(r"^test:.*\bsetup\b", text, re.MULTILINE), "make test must run setup first"


def test_ci_runs_make_test_and_nothing_else():
    lines = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    commands = [line for line in lines if line and not line.startswith("#")]
    assert commands.count("make test") == 1, commands
    others = [line for line in commands if line != "make test"]
    allowed = re.compile(r"^(set( +[-+]?[a-z]+)+|cd +\S.*)$")
    assert all(allowed.match(line) for line in others), others
    assert any(line.startswith("set -") and "e" in line.split()[1] for line in others), "CI must set -e"


def declared_minimums():
    """The oldest Python each place declares, as (major, minor)."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)
    with open(ROOT / "environment.yml") as f:
        conda_python = next(d for d in yaml.safe_load(f)["dependencies"]
                            if isinstance(d, str) and d.startswith("python="))
    from helpers.python_version import MINIMUM_PYTHON

    def parse(text):
        return tuple(int(part) for part in text.split(".")[:2])
    requires = re.fullmatch(r">=\s*([\d.]+)", project["project"]["requires-python"])[1]
    return {"pyproject requires-python": parse(requires),
            "environment.yml": parse(conda_python.removeprefix("python=")),
            "ruff target-version": (3, int(re.fullmatch(r"py3(\d+)", project["tool"]["ruff"]["target-version"])[1])),
            "helpers.MINIMUM_PYTHON": MINIMUM_PYTHON}


def test_the_oldest_python_is_the_same_everywhere_the_kit_declares_it():
    minimums = declared_minimums()
    assert len(set(minimums.values())) == 1, minimums


def test_the_bundle_readme_states_the_declared_python():
    from autograder import bundle, registry
    text = bundle.readme(registry.assignment("two_layer_net"), [])
    major, minor = declared_minimums()["helpers.MINIMUM_PYTHON"]
    assert f"Python {major}.{minor} or newer" in text


def test_helpers_refuses_an_older_python_by_name_before_anything_fails():
    """On a Python older than declared, `import helpers` (the set-up cell) says which Python is needed, instead of
    failing on a module that Python lacks (tomllib is 3.11's). The interpreter is this one, told it is 3.10.13."""
    code = ("import sys\nsys.version_info = (3, 10, 13, 'final', 0)\nsys.modules['tomllib'] = None\n"
            "try:\n    import helpers\nexcept ImportError as error:\n    print(error)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "the course kit needs Python 3.11 or newer, and this kernel runs Python 3.10.13" in result.stdout, (
        result.stdout)

