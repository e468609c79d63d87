"""The course's language, and its messages through gettext catalogues (Babel's .po files; English is the source).

    language()     "en" or "zh-TW": $COURSE_LANGUAGE when set (the grader gives its own to each sandbox), else
                   `language` in the [course] table of the course's settings (helpers/course.toml), else "en";
                   inside `with speaking(...)`, that language
    _(message)     `message` in the course's language, from the helpers' catalogue
                   (helpers/locale/<locale>/LC_MESSAGES/helpers.po); English when the language is "en"
    Catalogue      the same for another package's catalogue (the autograder keeps its own)
    lazy.gettext(message)  a constant's message, translated each time it is shown (LazyText)

Messages are written in English in the code, `_("... {name} ...").format(name=...)`, so that one catalogue entry
holds the whole sentence in either word order. `python -m autograder catalogues` extracts them; a test fails on a
message without a zh-TW entry.
"""
import contextlib
import functools
import gettext
import io
import os
from pathlib import Path

from helpers.course import course_setting, settings_file

#: The languages a course can be taught in, with the gettext locale of each one's catalogues.
LANGUAGES = {"en": "en", "zh-TW": "zh_TW"}
DEFAULT_LANGUAGE = "en"
#: The environment variable that sets the language for one process (the grader gives its course's to each sandbox).
LANGUAGE_ENV = "COURSE_LANGUAGE"
LOCALE_DIR = Path(__file__).with_name("locale")
_speaking = []  # languages `speaking` chose, innermost last


def language():
    """The course's language: "en" or "zh-TW" (ValueError naming the settings file for any other)."""
    if _speaking:
        return _speaking[-1]
    chosen = os.environ.get(LANGUAGE_ENV)
    where = f"${LANGUAGE_ENV}"
    if not chosen:
        where = f"the course's settings file {settings_file()}"
        try:
            chosen = course_setting("course", "language")
        except KeyError:
            return DEFAULT_LANGUAGE
    if chosen not in LANGUAGES:
        raise ValueError(f"{where} sets the language {chosen!r}; choose one of {', '.join(map(repr, LANGUAGES))}")
    return chosen


@contextlib.contextmanager
def speaking(language_):
    """Messages in `language_` inside the block, whatever the course's (an instructor's English answer key)."""
    if language_ not in LANGUAGES:
        raise ValueError(f"no language {language_!r}; choose one of {', '.join(map(repr, LANGUAGES))}")
    _speaking.append(language_)
    try:
        yield
    finally:
        _speaking.pop()


@functools.lru_cache(maxsize=None)
def translations(folder, domain, locale):
    """gettext's translations of `domain` for `locale`, read from `folder`/<locale>/LC_MESSAGES/<domain>.po."""
    if locale == LANGUAGES[DEFAULT_LANGUAGE]:
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo  # Babel compiles the catalogue in memory: no .mo file to go stale
    from babel.messages.pofile import read_po
    path = Path(folder) / locale / "LC_MESSAGES" / f"{domain}.po"
    try:
        with open(path, "rb") as f:
            catalog = read_po(f, locale=locale, domain=domain)
    except FileNotFoundError:
        raise FileNotFoundError(f"the {domain} catalogue for {locale} is missing: {path}") from None
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return gettext.GNUTranslations(compiled)


class Catalogue:
    """The messages of one package (its `domain`, in `folder`), in the course's language of the moment."""

    def __init__(self, domain, folder):
        self.domain, self.folder = domain, str(folder)

    def translations(self, language_=None):
        return translations(self.folder, self.domain, LANGUAGES[language_ or language()])

    def gettext(self, message):
        """`message` in the course's language."""
        return self.translations().gettext(message)

    def ngettext(self, singular, plural, n):
        """`singular` or `plural` (by `n`) in the course's language."""
        return self.translations().ngettext(singular, plural, n)


HELPERS = Catalogue("helpers", LOCALE_DIR)
_ = HELPERS.gettext
ngettext = HELPERS.ngettext


class LazyText(str):
    """English text (a constant's value) that shows in the course's language wherever it is printed or formatted:
    str() and format() translate it at that moment, while comparisons and dictionary keys see the English."""

    def __str__(self):
        return HELPERS.gettext(str.__str__(self))

    def __format__(self, spec):
        return format(str(self), spec)


class lazy:
    """`lazy.gettext(message)` marks a constant's message for the catalogue and returns it as a LazyText: it is
    translated when shown, not when the module is imported (the language may be chosen after that)."""
    gettext = LazyText


def preload():
    """Read the catalogue of the course's language now (a warm sandbox does, before it forks a child per job)."""
    HELPERS.translations()
