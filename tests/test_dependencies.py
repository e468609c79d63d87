"""The pinned requirements agree between pyproject.toml and environment.yml; the setup and CI entry points."""

import re
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
