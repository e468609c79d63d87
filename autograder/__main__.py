"""Command line: `python -m autograder {demo,new,check,release,translate,catalogues,grade,export,similarity,
release-feedback,bundle,agreement,manifest} ...`."""
import argparse
import sys


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m autograder", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("demo", help="release the assignment, grade a demo batch, print the grade table")
    new = commands.add_parser("new", help="make a working minimal assignment NAME (assignments/NAME/ and "
                                          "source/NAME/NAME.ipynb) to grow into your own")
    new.add_argument("name")
    new.add_argument("--title", help="its title (default: from the name)")
    check = commands.add_parser("check", help="check the assignments against the authoring rules (manifest, source "
                                              "notebook, checks, harness, catalogues, budgets): each problem says "
                                              "what to change; exit 1 on any")
    check.add_argument("assignment", nargs="*", help="assignment names (default: every assignment)")
    check.add_argument("--course", default=None, help="course folder (default: this kit)")
    release = commands.add_parser("release", help="check the assignments (as `check` does), then regenerate "
                                                  "release/ASSIGNMENT from source/ with nbgrader")
    release.add_argument("assignment", nargs="*", help="assignment names (default: every assignment)")
    release.add_argument("--course", default=None, help="course folder (default: this kit)")
    translate = commands.add_parser("translate", help="bring assignments/ASSIGNMENT/LANGUAGE.toml up to date with "
                                                      "the English release notebook: add the cells it lacks, list "
                                                      "the stale ones with what changed; exit 1 while any is left")
    translate.add_argument("assignment")
    translate.add_argument("--language", default="zh-TW", help="the language (default: zh-TW)")
    translate.add_argument("--refresh", nargs="*", default=(), metavar="CELL",
                           help="cells whose translation already follows the new English: record that English")
    catalogues = commands.add_parser("catalogues", help="extract the kit's messages into each language's gettext "
                                                        "catalogue (.po), then list the ones left to translate; "
                                                        "exit 1 while any is left")
    catalogues.add_argument("--check", action="store_true", help="only list what is left; change no file")
    bundle = commands.add_parser("bundle", help="write the student bundle OUT/ASSIGNMENT-student.zip (notebooks, "
                                                "helpers, environment, README; no solutions or hidden tests)")
    bundle.add_argument("assignment", nargs="*", help="assignment names (default: every assignment)")
    bundle.add_argument("--out", default="dist", help="folder for the zips (default: dist)")
    grade = commands.add_parser("grade", help="grade a batch of submissions in sandboxes, in parallel on Dask")
    grade.add_argument("assignment")
    grade.add_argument("submissions", help="folder of <student_id>.ipynb, nbgrader submitted/ tree, LMS .zip, or "
                       "submission packages <student_id>_<assignment>.zip (one, or a folder of them)")
    grade.add_argument("--out", required=True, help="folder for grades.csv, feedback/, summary.html")
    grade.add_argument("--student", help="grade (or regrade) only this student")
    grade.add_argument("--scheduler", help="address of an existing Dask scheduler, e.g. tcp://10.0.0.5:8786")
    grade.add_argument("--workers", type=int, help="local Dask worker threads (default: one per CPU core)")
    grade.add_argument("--course", default=None, help="nbgrader course folder (default: this kit)")
    grade.add_argument("--no-canary", action="store_true",
                       help="skip the canary: grading the reference solution first, on every worker, and refusing the "
                            "batch unless it gets every autograded point")
    grade.add_argument("--allow-unsandboxed", action="store_true",
                       help="grade even where no sandbox can start (student code then runs with the grader's own "
                            "rights, without filesystem or network isolation); every row's isolation records it")
    grade.add_argument("--cold-sandboxes", action="store_true",
                       help="start a fresh interpreter for every submission instead of forking it from a warm one "
                            "(slower; to compare, or to rule the warm sandboxes out)")
    export = commands.add_parser("export", help="write the grades of a graded batch as an LMS gradebook's import "
                                                "file: autograded points, written answers graded in formgrader, late "
                                                "penalty; refuses incomplete rows, naming each student")
    export.add_argument("assignment")
    export.add_argument("--grades", required=True, help="the folder `grade --out` wrote (its results/)")
    export.add_argument("--to", required=True, choices=("canvas", "moodle", "blackboard", "csv"))
    export.add_argument("--out", help="the file to write (default: ASSIGNMENT-FORMAT.csv)")
    export.add_argument("--course", default=None, help="nbgrader course folder (default: this kit)")
    export.add_argument("--allow-incomplete", action="store_true",
                        help="export anyway: grader-error rows without a grade, written answers not yet graded as 0")
    export.add_argument("--moodle-identifier", default="email", choices=("email", "id_number", "username"),
                        help="the column Moodle matches students by (default: email)")
    compare = commands.add_parser("similarity", help="rank pairs of submissions by how alike their answer code "
                                                     "is (starter code removed); never changes a grade")
    compare.add_argument("assignment")
    compare.add_argument("submissions", help="folder of <student_id>.ipynb, nbgrader submitted/ tree, LMS .zip, or "
                                             "submission packages (as `grade` reads them)")
    compare.add_argument("--against", help="folder of known solutions: each .py or .ipynb file, and each top-level "
                                           "sub-folder, is one source")
    compare.add_argument("--out", help="folder for similarity.html and similarity.csv "
                                       "(default: similarity-output/ASSIGNMENT)")
    compare.add_argument("--course", default=None, help="course folder (default: this kit)")
    feedback = commands.add_parser("release-feedback", help="generate and release students' feedback through "
                                                            "nbgrader's exchange, when term.toml's `feedback` says: "
                                                            "immediately, or after each student's due date")
    feedback.add_argument("assignment")
    feedback.add_argument("--course", default=None, help="nbgrader course folder (default: this kit)")
    commands.add_parser("manifest", help="print the manifest reference: every key, its type, default and meaning "
                                         "(README.md holds it; the tests check it)")
    commands.add_parser("agreement", help="print the table of what each catalogued mistake shows in its visible check "
                                          "and costs in its hidden test (README.md holds it; the tests check it)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from autograder import demo
        demo.main()
    elif args.command == "grade":
        return _grade(args)
    elif args.command == "bundle":
        return _bundle(args)
    elif args.command == "check":
        return _check(args)
    elif args.command == "release":
        return _release(args)
    elif args.command == "new":
        return _new(args)
    elif args.command == "translate":
        return _translate(args)
    elif args.command == "catalogues":
        return _catalogues(args)
    elif args.command == "export":
        return _export(args)
    elif args.command == "similarity":
        from autograder.term import similarity
        return similarity.command(args)
    elif args.command == "release-feedback":
        return _release_feedback(args)
    elif args.command == "manifest":
        from autograder.manifest import reference
        print(reference())
    elif args.command == "agreement":
        from autograder import agreement, registry
        print(agreement.table(registry.assignments(graded=True)))
    return 0


def _new(args):
    from autograder.scaffold import ScaffoldError, new_assignment
    try:
        written = new_assignment(args.name, title=args.title)
    except ScaffoldError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print("Wrote " + "\n      ".join(str(path) for path in written))
    print(f"Next: python -m autograder check {args.name} (the authoring rules), then python -m autograder release "
          f"{args.name}, then pytest tests/test_conformance.py -k {args.name}; give it a due date in term.toml "
          f"([assignments.{args.name}] due = ...)")
    return 0


def _checked(names, course, out):
    """{name: problems} of every assignment `names` (default: every one) of `course`, each problem printed to `out`
    as `NAME: rule: where: message`, each assignment that passes as `NAME: N rules passed (S s)`."""
    import time

    from autograder import authoring, registry
    found = {}
    for name in names or authoring.names(course):
        start = time.perf_counter()
        found[name] = authoring.check(name, course)
        for problem in found[name]:
            print(f"{name}: {problem}", file=out)
        if not found[name]:
            count = len(authoring.rules(registry.assignment(name, course).graded))
            print(f"{name}: {count} rules passed ({time.perf_counter() - start:.1f} s)")
    return found


def _check(args):
    """Exit status: 0 when every assignment follows the authoring rules, 1 when one breaks any."""
    from autograder.registry import COURSE_ROOT
    found = _checked(args.assignment, args.course or COURSE_ROOT, sys.stdout)
    return 1 if any(found.values()) else 0


def _release(args):
    """Exit status 2, nothing released, when an assignment breaks an authoring rule (`check`) or nbgrader refuses."""
    from autograder.course_dir import ReleaseError, generate_release
    from autograder.registry import COURSE_ROOT
    course = args.course or COURSE_ROOT
    found = _checked(args.assignment, course, sys.stderr)
    failed = [name for name, problems in found.items() if problems]
    if failed:
        print(f"error: not released: {', '.join(failed)} break{'s' if len(failed) == 1 else ''} the authoring rules "
              "above; fix them (`python -m autograder check` lists them)", file=sys.stderr)
        return 2
    try:
        for name in found:
            print(f"Released to {generate_release(name, course)}")
    except (ReleaseError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _translate(args):
    """Exit status 0 when every translatable cell has an up-to-date translation, 1 when some have none or a stale
    one (each listed), 2 for an unknown assignment or language."""
    from autograder import registry, translation
    from autograder.notebooks import read_notebook
    from autograder.registry import COURSE_ROOT
    if args.language not in translation.TRANSLATED:
        print(f"error: no translations into {args.language!r}; choose one of {', '.join(translation.TRANSLATED)}",
              file=sys.stderr)
        return 2
    if args.assignment not in registry.names():
        print(f"error: unknown assignment {args.assignment!r}", file=sys.stderr)
        return 2
    found = registry.assignment(args.assignment)
    left = []
    for notebook in found.notebooks:
        release = read_notebook(COURSE_ROOT / "release" / args.assignment / notebook)
        left += translation.update(args.assignment, release, notebook, args.language, set(args.refresh))
    print(f"{translation.translation_file(args.assignment, args.language)}: "
          + ("up to date" if not left else f"{len(left)} to do:\n  " + "\n  ".join(left)))
    return 1 if left else 0


def _catalogues(args):
    from autograder import catalogues, translation
    left = []
    for domain in catalogues.DOMAINS:
        for language in translation.TRANSLATED:
            if not args.check:
                catalogues.update(domain, language)
            left += catalogues.missing(domain, language)
            print(f"{catalogues.po_path(domain, language)}")
    print("every message translated" if not left else f"{len(left)} to do:\n  " + "\n  ".join(left))
    return 1 if left else 0


def _bundle(args):
    from autograder import bundle, registry
    from autograder.term.calendar import CalendarError
    try:
        for name in args.assignment or registry.names():
            print(f"Wrote {bundle.build(name, args.out)}")
    except (bundle.BundleError, CalendarError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def _export(args):
    """Exit status 2, nothing written, when the grades are incomplete or the course's files cannot be read."""
    from autograder.course_dir import COURSE_ROOT
    from autograder.term import calendar, export, lms, roster
    try:
        path, grades = export.export(args.assignment, args.grades, args.to, args.out, args.course or COURSE_ROOT,
                                     args.allow_incomplete, args.moodle_identifier)
    except (lms.ExportError, calendar.CalendarError, roster.RosterError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    late = sum(1 for grade in grades if grade.penalty)
    print(f"Wrote {path}: {len(grades)} students ({late} with a late penalty, recorded in the gradebook too)")
    return 0


def _release_feedback(args):
    from autograder.course_dir import COURSE_ROOT
    from autograder.term import calendar, feedback
    try:
        done = feedback.release(args.assignment, args.course or COURSE_ROOT)
    except (calendar.CalendarError, feedback.FeedbackError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(f"Released the feedback of {len(done.released)} students" +
          (f": {', '.join(done.released)}" if done.released else ""))
    for student, due in sorted(done.held.items(), key=lambda item: item[1]):
        print(f"Held back until {due.isoformat()} (their due date): {student}")
    return 0


def _grade(args):
    """Exit status: 0 when every submission was graded, 1 when some rows are `grader-error` (the grader failed on
    them: fix the cause and regrade them with --student), 2 when the batch was refused (bad input, no sandbox, a
    worker unlike the client, or the canary)."""
    from autograder.course_dir import COURSE_ROOT
    from autograder.grade import grade_batch, intake
    from autograder.grade.canary import CanaryFailed, WorkersRefused
    from autograder.grade.sandbox import SandboxUnavailable, isolation, problem
    from autograder.term.calendar import CalendarError
    from autograder.term.roster import RosterError
    if args.scheduler:
        print("Isolation: each worker's, checked by the canary before grading")
    elif problem() is None or args.allow_unsandboxed:
        print(f"Isolation: {isolation(warm=not args.cold_sandboxes)}")
    if args.allow_unsandboxed:
        print("warning: --allow-unsandboxed: where a worker has no sandbox, student code runs with the grader's own "
              "rights; each such row's isolation says UNSANDBOXED", file=sys.stderr)
    try:
        results = grade_batch(args.assignment, args.submissions, args.out, course_dir=args.course or COURSE_ROOT,
                              student=args.student, scheduler=args.scheduler, workers=args.workers,
                              warm=not args.cold_sandboxes, canary=not args.no_canary,
                              allow_unsandboxed=args.allow_unsandboxed)
    except (intake.IntakeError, FileNotFoundError, CalendarError, RosterError, SandboxUnavailable,
            WorkersRefused) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except CanaryFailed as failure:
        print(f"error: {failure}\n(the canary's results: {args.out}/canary.json)", file=sys.stderr)
        return 2
    statuses: dict[str, int] = {}
    for result in results:
        statuses[result.status] = statuses.get(result.status, 0) + 1
    print(f"Graded {len(results)} submissions: " + ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())))
    print(f"Reports: {args.out}/grades.csv, {args.out}/summary.html, {args.out}/feedback/")
    failed = [r for r in results if r.status == "grader-error"]
    if failed:
        print(f"error: the grader failed on {len(failed)} submission{'s' if len(failed) > 1 else ''} "
              f"({', '.join(r.student_id for r in failed[:10])}{', ...' if len(failed) > 10 else ''}): they are "
              "not graded (status grader-error, left out of the gradebook). The first cause: "
              f"{failed[0].message}\nFix it, then regrade each with --student ID.", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
