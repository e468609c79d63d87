"""`python -m benchmarks [NAME ...]`: run all (or the named) benchmarks, print a table, record the results."""
import argparse
import importlib
import sys
import time

from benchmarks import BENCHMARKS
from benchmarks.report import print_table, write_readme, write_result


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help=f"benchmarks to run (default: all): {', '.join(BENCHMARKS)}")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")
    command = " ".join(["python -m benchmarks", *(sys.argv[1:] if argv is None else argv)])
    rows = []
    for name in args.names or BENCHMARKS:
        module = importlib.import_module(f"benchmarks.{name}")
        print(f"Running {name} ...", flush=True)
        start = time.perf_counter()
        figures = module.run()
        seconds = time.perf_counter() - start
        summary = module.summary(figures)
        write_result(name, module.__doc__, summary, figures, seconds, command)
        rows.append((name, f"{seconds:.0f} s", summary))
    print()
    print_table(("benchmark", "took", "result"), rows)
    print(f"\nWritten: {write_readme(command)}")


if __name__ == "__main__":
    main()
