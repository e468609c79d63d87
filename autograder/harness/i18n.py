"""The autograder's messages in the course's language (helpers.i18n): its catalogue is
autograder/locale/<locale>/LC_MESSAGES/autograder.po, which the sandbox mounts beside the harness."""
from pathlib import Path

from helpers.i18n import Catalogue

CATALOGUE = Catalogue("autograder", Path(__file__).resolve().parent.parent / "locale")
_ = CATALOGUE.gettext
ngettext = CATALOGUE.ngettext
