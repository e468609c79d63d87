"""A release notebook's prose in another language, kept in step with the English one.

The source notebooks stay one, in English. Each translatable cell of a release notebook (its markdown, and the code
cells whose comments, docstrings or printed sentences students read) has its translation stored against the cell's
id in `assignments/<name>/<language>.toml`, with the English it translates and that English's SHA-256:

    ["cell-id"]
    sha256 = "first 16 hex digits of the English cell's SHA-256"
    english = '''the English cell, as the release has it'''
    text = '''the cell in the other language'''

A translation is *missing* when a translatable cell has none, *stale* when the English cell changed after its
translation was written (its SHA-256 is no longer the one stored), and *unsafe* when a code cell's translation
changes anything but comments and sentences: its code tokens must be the English cell's, so that no line a
translation holds can be code the release does not show (a solution or a hidden test). `problems` lists all three
(a test fails on any), `translated_notebook` refuses to translate a notebook that has any, and
`python -m autograder translate NAME` adds the missing cells to the file and shows what changed in the stale ones.
"""
import dataclasses
import difflib
import hashlib
import io
import json
import re
import tokenize
import tomllib
from pathlib import Path

import nbformat
from nbgrader.utils import compute_checksum, is_solution

from autograder.registry import COURSE_ROOT
from helpers.i18n import DEFAULT_LANGUAGE, LANGUAGES

#: The languages a notebook is translated into (English is the source).
TRANSLATED = tuple(language for language in LANGUAGES if language != DEFAULT_LANGUAGE)
#: nbgrader's marker lines, kept as they are in every language: tools and the student README look for them.
MARKERS = ("YOUR CODE HERE", "YOUR ANSWER HERE")


#: Chinese characters and full-width punctuation.
CJK = re.compile(r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]")


class TranslationError(ValueError):
    """A notebook that cannot be translated: the message lists each problem and how to fix it."""


@dataclasses.dataclass(frozen=True)
class CellTranslation:
    sha256: str
    english: str
    text: str


def english_hash(text):
    """The first 16 hex digits of the SHA-256 of a cell's English source."""
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def translation_file(assignment, language, course_dir=COURSE_ROOT):
    return Path(course_dir) / "assignments" / assignment / f"{language}.toml"


#: Calls whose string arguments are sentences students read (printed, or a check's label).
PROSE_CALLS = {"print", "report_check", "report_match", "Markdown", "title", "set_title", "suptitle", "xlabel",
               "ylabel", "set_xlabel", "set_ylabel", "label", "desc"}


def _tokens(source):
    """The cell's tokens as (type, text, is_prose) triples; None when it does not tokenize (a magic line, say).

    Prose is what a translation may change: a comment, a docstring (a triple-quoted string), or a string argument
    of a call in PROSE_CALLS (a keyword argument `label=`/`title=`/`desc=` included, and the strings joined to one);
    nbgrader's markers never are."""
    try:
        raw = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
               if t.type not in (tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.ENDMARKER)]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    out: list[tuple[int, str, bool]] = []
    for i, token in enumerate(raw):
        before = [t.string for t in raw[max(0, i - 2):i]]
        prose = False
        if any(marker in token.string for marker in MARKERS):
            prose = False
        elif token.type == tokenize.COMMENT:
            prose = bool(re.search(r"[^\W\d_]{2,}", token.string))
        elif token.type == tokenize.STRING:
            body = token.string.lstrip("rbfuRBFU")
            prose = body.startswith(('"""', "'''")) or (
                len(before) == 2 and (before[1] == "(" and before[0] in PROSE_CALLS
                                      or before[1] == "=" and before[0] in PROSE_CALLS)) or \
                (before[-1:] == [","] and _in_prose_call(raw, i)) or \
                (i > 0 and raw[i - 1].type == tokenize.STRING and out[-1][2])
        out.append((token.type, token.string, prose))
    return out


def _in_prose_call(raw, index):
    """Whether the string at `index` is a later positional argument of a PROSE_CALLS call on the same line."""
    depth = 0
    for j in range(index - 1, -1, -1):
        text = raw[j].string
        if text in ")]}":
            depth += 1
        elif text in "([{":
            if depth == 0:
                return text == "(" and j > 0 and raw[j - 1].string in PROSE_CALLS
            depth -= 1
    return False


def _prose_token(kind, text):
    """A comment with words in it (used where a cell does not tokenize)."""
    return kind == tokenize.COMMENT and not any(m in text for m in MARKERS) and bool(re.search(r"[^\W\d_]{2,}", text))


def translatable(cell):
    """Whether students read prose in the cell: a markdown cell (a written answer's "YOUR ANSWER HERE" excepted), or
    a code cell with a comment, a docstring or a printed sentence."""
    if cell.cell_type == "markdown":
        return not is_solution(cell) and bool(cell.source.strip())
    if cell.cell_type != "code":
        return False
    tokens = _tokens(cell.source)
    if tokens is None:
        return any(line.lstrip().startswith("#") and _prose_token(tokenize.COMMENT, line.strip())
                   for line in cell.source.splitlines())
    return any(prose for _, _, prose in tokens)


def _code_shape(source):
    """What a code cell's translation must keep: its tokens, each comment and sentence-string replaced by a mark
    (an f-string's by its placeholders, whose code must stay). Lines that do not tokenize are kept whole, their
    comments aside."""
    tokens = _tokens(source)
    if tokens is None:
        return [re.sub(r"#.*$", "#", line).rstrip() for line in source.splitlines()]
    return [(kind, _placeholders(text)) if prose else (kind, text) for kind, text, prose in tokens]


QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
PLACEHOLDER = re.compile(r"(?<!\{)\{(?!\{)((?:[^{}'\"]|'[^'\n]*'|\"[^\"\n]*\"|\{[^{}]*\})*)\}")


def _placeholders(string):
    """A sentence-string's mark: for an f-string, the code of its placeholders (the words quoted in them may be
    translated: 'on' if x else 'off'); for another string, nothing."""
    body = string.lstrip("rbfuRBFU")
    if "f" not in string[:len(string) - len(body)].lower():
        return "…"
    body = body.strip("'\"")
    return tuple(QUOTED.sub("'…'", found) for found in PLACEHOLDER.findall(body))


def load(assignment, language, course_dir=COURSE_ROOT):
    """{cell id: CellTranslation} of the assignment's translation file ({} when there is none)."""
    path = translation_file(assignment, language, course_dir)
    if not path.is_file():
        return {}
    try:
        with open(path, "rb") as f:
            tables = tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise TranslationError(f"{path} is not valid TOML: {error}") from None
    found = {}
    for cell_id, table in tables.items():
        if not (isinstance(table, dict) and {"sha256", "english", "text"} <= set(table)):
            raise TranslationError(f"{path}: [{cell_id!r}] needs sha256, english and text")
        found[cell_id] = CellTranslation(table["sha256"], table["english"], table["text"])
    return found


def problems(release_nb, translations, language="zh-TW"):
    """Every missing, stale, unsafe or unused translation of the release notebook's cells, one line each."""
    found = []
    cells = {cell.get("id"): cell for cell in release_nb.cells}
    for cell in release_nb.cells:
        if not translatable(cell):
            continue
        entry = translations.get(cell.id)
        where = f"cell {cell.id} ({cell.cell_type}: {_first_words(cell.source)})"
        if entry is None or not entry.text.strip():
            found.append(f"missing: {where} has no {language} translation")
        elif entry.sha256 != english_hash(cell.source):
            changed = "" if entry.english == cell.source else ":\n" + _diff(entry.english, cell.source)
            found.append(f"stale: {where} changed after its {language} translation was written{changed}")
        elif entry.sha256 != english_hash(entry.english):
            found.append(f"stale: {where}: its sha256 is not that of the English stored beside it")
        elif cell.cell_type == "code" and _code_shape(entry.text) != _code_shape(cell.source):
            found.append(f"unsafe: {where}: the translation changes more than comments and sentences")
        elif any(entry.text.count(marker) != cell.source.count(marker) for marker in MARKERS):
            found.append(f"unsafe: {where}: the translation drops or adds nbgrader's marker")
    for cell_id in translations:
        if cell_id not in cells or not translatable(cells[cell_id]):
            found.append(f"unused: {cell_id} is not a translatable cell of the release notebook")
    return found


def _first_words(text, n=8):
    return " ".join(text.split()[:n])[:60]


def _diff(old, new):
    lines = difflib.unified_diff(old.splitlines(), new.splitlines(), "translated English", "English now",
                                 lineterm="", n=1)
    return "\n".join(f"    {line}" for line in list(lines)[2:])


def translated_notebook(release_nb, translations, language="zh-TW"):
    """A copy of the release notebook with each translatable cell's source in `language` (nbgrader's checksums of
    the read-only cells recomputed). Raises TranslationError listing the problems (see `problems`)."""
    found = problems(release_nb, translations, language)
    if found:
        raise TranslationError(f"the {language} translation is not up to date with the English notebook "
                               f"({len(found)} problem{'s' if len(found) > 1 else ''}):\n  " + "\n  ".join(found))
    nb = nbformat.from_dict(json.loads(json.dumps(release_nb)))
    for cell in nb.cells:
        if translatable(cell):
            cell.source = translations[cell.id].text
            if "checksum" in cell.metadata.get("nbgrader", {}):
                cell.metadata.nbgrader["checksum"] = compute_checksum(cell)
    return nb


def retranslated_gradebook_source(english, translated, stored):
    """The gradebook's copy of a read-only cell, in the translation's language: `stored` is the cell as nbgrader
    saved it (a graded cell's visible lines, then its hidden tests), `english` its release text and `translated`
    the translation of that. Lines are replaced one by one, the hidden tests left as they are."""
    if stored == english:
        return translated
    english_lines, translated_lines = english.splitlines(), translated.splitlines()
    if len(english_lines) != len(translated_lines):
        return stored
    out = stored
    for before, after in zip(english_lines, translated_lines):
        if before != after and before in out:
            out = out.replace(before, after, 1)
    return out


# --- the translators' tool: `python -m autograder translate NAME --language zh-TW` --------------------------------

def _toml_string(text):
    """A TOML string for `text`: a multi-line literal string where it can be one, else a basic string."""
    if "'''" not in text and not text.endswith("'") and "\r" not in text:
        return "'''\n" + text + "'''"
    return json.dumps(text, ensure_ascii=False)


def _toml_key(key):
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def write(path, entries, header):
    """Write {cell id: CellTranslation} to `path`, in the given order, under a comment `header`."""
    parts = [header.rstrip() + "\n"]
    for cell_id, entry in entries.items():
        parts.append(f"\n[{_toml_key(cell_id)}]\nsha256 = \"{entry.sha256}\"\nenglish = {_toml_string(entry.english)}"
                     f"\ntext = {_toml_string(entry.text)}\n")
    Path(path).write_text("".join(parts), encoding="utf-8")


HEADER = """# {notebook} in {language}: one table per translatable cell of the release notebook, keyed by the cell's id.
# `english` is the release's English cell this translates and `sha256` the first 16 hex digits of its SHA-256: when
# the English changes, the translation is stale (tests/test_translations.py fails) until `text` follows it and
# `python -m autograder translate {assignment} --language {language} --refresh CELL` records the new English.
# Code cells: only comments, docstrings and printed sentences change; nbgrader's markers stay in English.
# Terms: helpers/locale/zh_TW/glossary.toml."""


def update(assignment, release_nb, notebook_name, language="zh-TW", refresh=(), course_dir=COURSE_ROOT):
    """Bring the translation file up to date with the release notebook: add each untranslated cell (its English,
    an empty `text`), drop the cells the notebook no longer has, and record the current English of the cells in
    `refresh` (their text already follows it). Returns the problems left (see `problems`)."""
    old = load(assignment, language, course_dir)
    entries = {}
    for cell in release_nb.cells:
        if not translatable(cell):
            continue
        entry = old.get(cell.id) or CellTranslation(english_hash(cell.source), cell.source, "")
        if cell.id in refresh:
            entry = CellTranslation(english_hash(cell.source), cell.source, entry.text)
        entries[cell.id] = entry
    write(translation_file(assignment, language, course_dir), entries,
          HEADER.format(notebook=notebook_name, language=language, assignment=assignment))
    return problems(release_nb, entries, language)


# --- the glossary: helpers/locale/<locale>/glossary.toml ---------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class Term:
    english: tuple
    zh: str
    avoid: tuple = ()
    follow: bool = True
    api: bool = False

    def used_in(self, english_prose):
        """The first of the term's English forms that `english_prose` uses (whole words, any case), or None."""
        for form in self.english:
            if re.search(rf"(?<![\w-]){re.escape(form)}(?![\w-])", english_prose, re.I):
                return form
        return None


def glossary(language="zh-TW", root=COURSE_ROOT):
    """The glossary's terms for `language`."""
    path = Path(root) / "helpers" / "locale" / LANGUAGES[language] / "glossary.toml"
    with open(path, "rb") as f:
        terms = tomllib.load(f)["term"]
    return [Term(tuple(t["english"]), t["zh"], tuple(t.get("avoid", ())), t.get("follow", True), t.get("api", False))
            for t in terms]


INLINE_CODE = re.compile(r"```.*?```|`[^`\n]*`|\$\$.*?\$\$|\$[^$\n]*\$|\]\([^)]*\)", re.S)


def prose(text, cell_type="markdown"):
    """The sentences of a cell: markdown (or a message) without its code, math and link targets; a code cell's
    comments and sentence-strings."""
    if cell_type != "code":
        return INLINE_CODE.sub(" ", text)
    tokens = _tokens(text)
    if tokens is None:
        return "\n".join(re.findall(r"#(.*)$", text, re.M))
    return "\n".join(t for _, t, prose in tokens if prose)


def term_problems(english, translated, terms, cell_type="markdown"):
    """How a translation departs from the glossary: a rendering it avoids, a term the English uses that the
    translation does not, an API term without its English in parentheses."""
    english_prose, translated_prose = prose(english, cell_type), prose(translated, cell_type)
    found = []
    for term in terms:
        for other in term.avoid:
            if other in translated_prose:
                found.append(f"says {other!r} where the glossary has {term.zh!r} ({term.english[0]})")
        form = term.used_in(english_prose)
        if form is None or not term.follow:
            continue
        if term.zh not in translated_prose:
            found.append(f"the English says {form!r}: the glossary's term is {term.zh!r}")
        elif term.api and not any(re.search(rf"{re.escape(term.zh)}\s*[（(]\s*{re.escape(f)}", translated_prose, re.I)
                                  for f in term.english):
            found.append(f"{term.zh!r} is in PyTorch's API as {form!r}: give it once as {term.zh}（{form}）")
    return found
