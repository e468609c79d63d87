"""Command line: `python -m autograder {demo,release} ...`."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="release the assignment, grade a demo batch, print the grade table")
    release = commands.add_parser("release", help="regenerate release/ASSIGNMENT from source/ with nbgrader")
    release.add_argument("assignment")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from autograder import demo
        demo.main()
    elif args.command == "release":
        from autograder.course import generate_release
        print(f"Released to {generate_release(args.assignment)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
