"""Which of a submission's code cells the batch grader runs, in notebook order, and how much of each.

Stock `nbgrader autograde` runs every cell. The batch grader runs the trusted set-up cell, then, in the
student's notebook order, the answer cells and the code cells the student added. Answer cells run in full
(statement by statement, so one that needs the notebook's data does not stop the definitions after it);
added cells run only their definitions (imports, functions, classes, constants), so a helper the student
wrote in a cell of their own is there for the answers, while training loops, plots and data loading are not
run. A cell whose run crashes or hangs the sandbox is retried reduced to its definitions, then left out
(`Cell.degrade`); every choice becomes a note in the student's feedback.
"""
import ast
import threading
from dataclasses import dataclass, field

from autograder.harness.i18n import _
from autograder.notebooks import grade_id, source_text


#: Calls cheap enough to keep in an added cell's constant definitions, by the name they end with
#: (``torch.device(...)``, ``functools.partial(...)``, ``re.compile(...)``).
CHEAP_CALLS = frozenset({"device", "partial", "is_available", "namedtuple", "tensor", "float", "int", "str", "bool",
                         "tuple", "list", "dict", "set", "frozenset", "range", "compile", "getLogger", "TypeVar",
                         "dtype", "Path", "defaultdict", "OrderedDict"})
FULL, DEFINITIONS, SKIPPED = "full", "definitions", "skipped"
#: CPython 3.11's parser is not safe to call from two threads at once (grading threads may then fail with
#: "SystemError: AST constructor recursion depth mismatch"): every parse here takes this lock.
_PARSING = threading.Lock()


def parse(source):
    """The statements of `source` (a list of ast nodes), parsed under the lock."""
    with _PARSING:
        return ast.parse(source).body


@dataclass
class Cell:
    """One code cell of the submission as the grader runs it.

    id: the answer cell's grade_id, or "added cell N" (N counts the notebook's code cells from 1);
    source: the student's code; mode: FULL, DEFINITIONS or SKIPPED; notes: what was left out and why.
    """
    id: str
    source: str
    added: bool
    mode: str = FULL
    notes: list = field(default_factory=list)

    @property
    def chunks(self):
        """The code the sandbox runs, one top-level statement at a time: all of them in FULL mode, the definitions
        in DEFINITIONS mode, none when SKIPPED. A statement that fails because it needs what the grader does not
        run (the notebook's data) fails alone, and the definitions after it still run. A cell that does not parse
        is one piece, so its syntax error is reported."""
        if self.mode == SKIPPED:
            return []
        try:
            statements = parse(self.source) if self.mode == FULL else definitions_only(self.source)[0]
        except SyntaxError:
            return [self.source]
        return [ast.unparse(node) for node in statements]

    def degrade(self, why):
        """After the cell crashed or hung the sandbox (`why`): run less of it next time. False when already skipped."""
        if self.mode == SKIPPED:
            return False
        self.mode = DEFINITIONS if self.mode == FULL and not self.added else SKIPPED
        note = (_("{cell} {why}; the grader then ran only its definitions") if self.mode == DEFINITIONS else
                _("{cell} {why}; the grader then left it out"))
        self.notes.append(note.format(cell=self.label, why=why))
        return True

    @property
    def label(self):
        return self.id if self.added else _("the answer cell {cell}").format(cell=self.id)


def plan(nb, answer_cells):
    """The submission's code cells to run, in notebook order, and notes on what is odd.

    `answer_cells` maps each answer cell's grade_id to the names it defines. An answer cell is found by its
    grade_id, else (lost metadata) by the code cell that defines its first name. Other code cells without an
    nbgrader grade_id are the student's added cells; the kit's own cells (checks, training, plots) are
    not run. Returns (cells, notes).
    """
    code_cells = [c for c in nb.cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    sources = [source_text(c.get("source", "")) for c in code_cells]
    ids = [grade_id(c) for c in code_cells]
    chosen, notes = {}, []
    for cell_id, names in answer_cells.items():
        if cell_id in ids:
            chosen[ids.index(cell_id)] = cell_id
            continue
        found = [i for i, text in enumerate(sources) if names and ids[i] is None
                 and _defines(text, names[0])]
        if found:
            chosen[found[-1]] = cell_id
            notes.append(_("the answer cell {cell} had lost its nbgrader id; graded the cell that defines "
                           "{name}").format(cell=cell_id, name=names[0]))
        else:
            notes.append(_("the answer cell {cell} is missing").format(cell=cell_id))
    cells = []
    for index, text in enumerate(sources):
        if index in chosen:
            cells.append(Cell(chosen[index], text, added=False))
        elif ids[index] is None and text.strip():
            cells.append(_added_cell(_("added cell {number}").format(number=index + 1), text))
    return cells, notes


def _added_cell(cell_id, source):
    """A cell the student added: its definitions to run (nothing if it does not parse), and a note saying so."""
    first = next(line for line in source.splitlines() if line.strip()).strip()
    where = _("{cell} (`{line}`)").format(cell=cell_id, line=first[:60])
    try:
        names, skipped = definitions_only(source)[1:]
    except SyntaxError as error:
        return Cell(cell_id, source, True, SKIPPED, [
            _("{cell} has a syntax error (line {line}: {message}); it was left out and costs nothing").format(
                cell=where, line=error.lineno, message=error.msg)])
    note = (_("{cell}: ran its definitions ({names})").format(cell=where, names=", ".join(names)) if names else
            _("{cell}: found no definitions to run").format(cell=where))
    if skipped:
        lines = ", ".join(str(n) for n in skipped[:5]) + (", ..." if len(skipped) > 5 else "")
        note += _("; left out its other statements (line {lines}): the grader does not train, plot or load "
                  "data").format(lines=lines)
    return Cell(cell_id, source, True, DEFINITIONS, [note])


def definitions_only(code):
    """`code` reduced to its definitions: imports, functions, classes and constant assignments, inside `if` and
    `try` too. Returns (the top-level statements kept, names defined, line numbers of the statements left out);
    SyntaxError if it does not parse."""
    names: list[str] = []
    skipped: list[str] = []
    kept = _keep(parse(code), names, skipped)
    return kept, list(dict.fromkeys(names)), skipped


def _keep(statements, names, skipped):
    kept = []
    for node in statements:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None and _cheap(node.value):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(node, ast.If) and _cheap(node.test):
            node.body = _keep(node.body, names, skipped) or [ast.Pass()]
            node.orelse = _keep(node.orelse, names, skipped)
        elif isinstance(node, ast.Try):
            node.body = _keep(node.body, names, skipped) or [ast.Pass()]
            for handler in node.handlers:
                handler.body = _keep(handler.body, names, skipped) or [ast.Pass()]
            node.orelse, node.finalbody = _keep(node.orelse, names, skipped), _keep(node.finalbody, names, skipped)
        elif isinstance(node, (ast.Pass, ast.Global, ast.Nonlocal)) or _is_docstring(node):
            continue
        else:
            skipped.append(node.lineno)
            continue
        kept.append(node)
    return kept


def _cheap(node):
    """True for an expression that costs nothing to evaluate: literals, names, attributes, arithmetic,
    lambdas, and calls of CHEAP_CALLS on cheap arguments."""
    if isinstance(node, ast.Lambda):
        return True
    if isinstance(node, ast.Call):
        func = node.func
        called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
        return (called in CHEAP_CALLS and _cheap(func) and all(_cheap(a) for a in node.args)
                and all(_cheap(k.value) for k in node.keywords))
    allowed = (ast.Constant, ast.Name, ast.Attribute, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.BinOp, ast.UnaryOp,
               ast.BoolOp, ast.Compare, ast.IfExp, ast.Subscript, ast.Slice, ast.Starred, ast.keyword,
               ast.expr_context, ast.operator, ast.unaryop, ast.boolop, ast.cmpop)
    return isinstance(node, allowed) and all(_cheap(child) for child in ast.iter_child_nodes(node))


def _is_docstring(node):
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _defines(text, name):
    try:
        return any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) and n.name == name for n in parse(text))
    except SyntaxError:
        return f"def {name}(" in text or f"class {name}" in text

