"""The course's settings (helpers/course.toml): what every student of a class and the grading machine share.

COURSE_SETTINGS names another settings file (for a test, or an instructor's trial run) instead.
"""
import functools
import os
import tomllib
from pathlib import Path

SETTINGS_FILE = Path(__file__).with_name("course.toml")
SETTINGS_ENV = "COURSE_SETTINGS"


def settings_file():
    """The settings file in use: $COURSE_SETTINGS when set, else helpers/course.toml."""
    return Path(os.environ.get(SETTINGS_ENV) or SETTINGS_FILE)


def course_setting(section, key):
    """The value of `key` in `[section]` of the course's settings; a clear error when the file or the key is missing."""
    path = settings_file()
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise FileNotFoundError(f"the course's settings file {path} is missing") from None
    settings = _read(path, stat.st_mtime_ns, stat.st_size)
    try:
        return settings[section][key]
    except (KeyError, TypeError):
        raise KeyError(f"the course's settings file {path} has no `{key}` in its [{section}] table") from None


@functools.lru_cache(maxsize=8)
def _read(path, modified, size):
    """The settings file's tables, read once per version of the file (`modified` and `size` tell versions apart)."""
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"the course's settings file {path} is not valid TOML: {error}") from None
