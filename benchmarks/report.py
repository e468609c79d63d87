"""Recording benchmark results: one json file per benchmark and a README summarising all of them."""
import datetime
import json
import os
import platform
from pathlib import Path

import torch

RESULTS = Path(__file__).resolve().parent / "results"


def machine():
    """What the figures depend on: CPU model and count, torch and Python versions, and how busy the machine was."""
    return {"cpu": _cpu_model(), "cpu_count": os.cpu_count(), "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(), "python": platform.python_version(),
            "load_average_1_5_15min": [round(x, 2) for x in os.getloadavg()]}


def _cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def write_result(name, description, summary, figures, seconds, command):
    """Write results/<name>.json (atomically) and return its path."""
    record = {"name": name, "description": " ".join(description.strip().split("\n\n")[0].split()), "summary": summary,
              "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": machine(), "command": command, "seconds": round(seconds, 1), "figures": figures}
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(record, indent=2) + "\n")
    partial.replace(path)
    return path


def write_readme(command):
    """Regenerate results/README.md from every results/*.json present; return its path."""
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    here = machine()
    lines = ["# Benchmark results", "",
             f"Regenerated {datetime.date.today().isoformat()} by `{command}` on {here['cpu']} "
             f"({here['cpu_count']} CPUs, torch {here['torch']}). Each benchmark's figures come from its own "
             "run, recorded in `<name>.json` with its date, machine and command; rerun one with "
             "`python -m benchmarks NAME`, all with `make bench`.", "",
             "| benchmark | result | run on | machine | took |", "|---|---|---|---|---|"]
    for r in records:
        m = r["machine"]
        lines.append(f"| {r['name']} | {r['summary']} | {r['date'][:10]} | {m['cpu_count']} CPUs, "
                     f"torch {m['torch']} | {r['seconds']:.0f} s |")
    for r in records:
        lines += ["", f"## {r['name']}", "", r["description"], "", f"Command: `{r['command']}`", ""]
        lines += [f"- {key}: {_format(value)}" for key, value in r["figures"].items()]
    path = RESULTS / "README.md"
    path.write_text("\n".join(lines) + "\n")
    return path


def _format(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else str(value)


def print_table(header, rows):
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        print("  ".join(str(cell).ljust(w) for cell, w in zip(row, widths)).rstrip())
