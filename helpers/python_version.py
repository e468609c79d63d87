"""The oldest Python the kit runs on, checked when `helpers` is imported, before any module that needs it: the
notebooks' set-up cell then says what is wrong instead of failing on a missing module (tomllib is 3.11's)."""
import sys

#: pyproject.toml's requires-python, environment.yml's python and ruff's target (tests/test_dependencies.py keeps
#: them equal). 3.11: the pinned numpy and matplotlib publish no wheels for 3.10.
MINIMUM_PYTHON = (3, 11)


def check_python(version_info=sys.version_info):
    """Raise ImportError, naming both versions and the fix, on a Python older than MINIMUM_PYTHON."""
    if tuple(version_info[:2]) < MINIMUM_PYTHON:
        found = ".".join(str(part) for part in version_info[:3])
        raise ImportError(gettext("the course kit needs Python {needed} or newer, and this kernel runs Python {found}: "
                                  "create the environment again with a newer Python (the bundle's README.md, 'Set "
                                  "up'), or choose a kernel that has one (Colab's does)").format(
            needed=f"{MINIMUM_PYTHON[0]}.{MINIMUM_PYTHON[1]}", found=found))


def gettext(message):
    """`message` in the course's language where its catalogue can be read; on a Python this old it often cannot (the
    settings are read with tomllib, 3.11's), and the message stays in English."""
    try:
        from helpers.i18n import _
        return _(message)
    except Exception:  # noqa: BLE001 - whatever is missing, the refusal itself must still be raised
        return message


check_python()
