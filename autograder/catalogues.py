"""The gettext catalogues of the kit's messages (Babel): English in the code, one .po file per domain and language.

    helpers     helpers/**.py: verdicts, widget status lines, plot labels, the self-check (students' machines)
    autograder  autograder/**.py, autograder/templates/*.j2, assignments/**.py: the grader's diagnoses and hints, the
                feedback and summary pages, the student README

`python -m autograder catalogues` extracts every message and merges it into each language's .po file (new messages
get an empty entry; messages no longer in the code are dropped), then lists what is left to translate.
`missing` is what the tests fail on: a message without an entry in a language, a fuzzy entry, or an entry whose
placeholders are not the message's.
"""
import dataclasses
import re
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from autograder.registry import COURSE_ROOT
from helpers.i18n import LANGUAGES

KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2)}
JINJA_OPTIONS = {"trim_blocks": "true", "lstrip_blocks": "true", "extensions": "jinja2.ext.i18n"}
#: Placeholders: str.format's {name} (Python) and %(name)s (Jinja's trans blocks and newstyle gettext).
PLACEHOLDER = re.compile(r"\{[A-Za-z_][\w.]*(?:![rsa])?(?::[^{}]*)?\}|%\([A-Za-z_]\w*\)[sdfr]")


@dataclasses.dataclass(frozen=True)
class Domain:
    name: str
    locale_dir: str            # relative to the kit
    sources: tuple             # (folder, Babel method map) pairs, folders relative to the kit


DOMAINS = (
    Domain("helpers", "helpers/locale", (("helpers", (("**.py", "python"),)),)),
    Domain("autograder", "autograder/locale", (("autograder", (("**.py", "python"), ("**.j2", "jinja2"))),
                                               ("assignments", (("**.py", "python"),)))),
)


def po_path(domain, language, root=COURSE_ROOT):
    return Path(root) / domain.locale_dir / LANGUAGES[language] / "LC_MESSAGES" / f"{domain.name}.po"


def extract(domain, root=COURSE_ROOT):
    """A template Catalog of every message the domain's code gives gettext."""
    template = Catalog(project="deep-learning-course-kit", domain=domain.name)
    for folder, method_map in domain.sources:
        options = {"**.j2": JINJA_OPTIONS}
        for filename, lineno, message, comments, context in extract_from_dir(
                Path(root) / folder, method_map=list(method_map), options_map=options, keywords=KEYWORDS,
                comment_tags=("Translators:",), strip_comment_tags=True):
            if "locale" in Path(filename).parts or "/templates/assignment/" in f"/{filename}":
                continue
            template.add(message, None, [(f"{folder}/{filename}", lineno)], auto_comments=comments, context=context)
    return template


def read(domain, language, root=COURSE_ROOT):
    path = po_path(domain, language, root)
    if not path.is_file():
        return Catalog(locale=LANGUAGES[language], domain=domain.name)
    with open(path, "rb") as f:
        return read_po(f, locale=LANGUAGES[language], domain=domain.name)


def update(domain, language, root=COURSE_ROOT):
    """Merge the code's messages into the language's .po file (keeping every translation that still applies)."""
    catalog = read(domain, language, root)
    catalog.update(extract(domain, root), no_fuzzy_matching=True)
    catalog.obsolete.clear()
    path = po_path(domain, language, root)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as f:
        write_po(f, catalog, width=120, omit_header=False, sort_output=False)


def placeholders(text):
    return sorted(PLACEHOLDER.findall(text))


def missing(domain, language, root=COURSE_ROOT):
    """One line per message of the code that the language's catalogue does not translate, or translates with other
    placeholders."""
    catalog = read(domain, language, root)
    found = []
    for message in extract(domain, root):
        if not message.id:
            continue
        where = ", ".join(f"{f}:{n}" for f, n in message.locations[:2])
        entry = catalog.get(message.id, context=message.context)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = entry.string if entry is not None and isinstance(entry.string, tuple) else \
            ((entry.string,) if entry is not None else ())
        if entry is None or not all(strings) or not strings:
            found.append(f"{domain.name}: no {language} entry for {ids[0]!r} ({where})")
        elif entry.fuzzy:
            found.append(f"{domain.name}: the {language} entry for {ids[0]!r} is fuzzy ({where})")
        elif any(placeholders(s) != placeholders(ids[0]) and placeholders(s) != placeholders(ids[-1])
                 for s in strings):
            found.append(f"{domain.name}: the {language} entry for {ids[0]!r} has the placeholders "
                         f"{placeholders(strings[0])}, the message {placeholders(ids[0])} ({where})")
    return found
