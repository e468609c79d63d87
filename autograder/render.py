"""Jinja2 templates of the kit's own pages and texts (autograder/templates/).

HTML templates (``*.html.j2``) are autoescaped: anything a submission put in a result (student ids, messages,
diagnoses) is escaped wherever it is rendered. Other templates (e.g. the student bundle's README) are plain text.
Their words go through the autograder's catalogue (autograder.catalogues), in the course's language.
"""
from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from autograder.harness.i18n import CATALOGUE

ENVIRONMENT = Environment(loader=PackageLoader("autograder", "templates"),
                          autoescape=select_autoescape(enabled_extensions=("html", "html.j2"), default=False),
                          undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                          extensions=["jinja2.ext.i18n"])
# The templates' text in the course's language: {% trans %} blocks and _() through the autograder's catalogue.
ENVIRONMENT.install_gettext_callables(  # type: ignore[attr-defined]  # added by the i18n extension
    CATALOGUE.gettext, CATALOGUE.ngettext, newstyle=True)


def render(template_name, **context):
    """The template `autograder/templates/<template_name>` rendered with `context`."""
    return ENVIRONMENT.get_template(template_name).render(**context)
