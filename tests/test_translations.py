"""The translated edition stays in step with the English one: every translatable cell of every release notebook has
a translation of its current English (autograder.translation), every message of the code has an entry in each
language's catalogue (autograder.catalogues), every translation uses the glossary's terms, and plots draw Chinese
with every glyph. Each check is shown failing on a made-up problem too."""
import json
import re
import warnings

import nbformat
import pytest

from autograder import catalogues, registry, translation
from autograder.course_dir import COURSE_ROOT
from autograder.notebooks import read_notebook
from helpers import fonts, i18n

LANGUAGES = translation.TRANSLATED
NOTEBOOKS = [(name, notebook) for name in registry.names() for notebook in registry.assignment(name).notebooks]


def release(name, notebook):
    return read_notebook(COURSE_ROOT / "release" / name / notebook)


# --- Notebooks ---------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, notebook", NOTEBOOKS)
def test_every_cell_students_read_has_a_translation_of_its_current_english(name, notebook, language):
    found = translation.problems(release(name, notebook), translation.load(name, language), language)
    assert found == [], (f"assignments/{name}/{language}.toml is not up to date "
                         f"(`python -m autograder translate {name} --language {language}`):\n" + "\n".join(found))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, notebook", NOTEBOOKS)
def test_every_markdown_cell_but_the_written_answers_is_translated(name, notebook, language):
    english = release(name, notebook)
    translated = translation.translated_notebook(english, translation.load(name, language), language)
    untranslated = [cell.id for before, cell in zip(english.cells, translated.cells) if cell.cell_type == "markdown"
                    and cell.source == before.source and cell.source.strip() != "YOUR ANSWER HERE"]
    assert untranslated == []
    assert all(translation.CJK.search(cell.source) for cell in translated.cells
               if cell.cell_type == "markdown" and cell.source.strip() != "YOUR ANSWER HERE")


def changed_copy(nb, index, source):
    copy = nbformat.from_dict(json.loads(json.dumps(nb)))
    copy.cells[index].source = source
    return copy


def test_a_changed_english_cell_makes_its_translation_stale_and_the_release_refuses_it():
    english = release("two_layer_net", "two_layer_net.ipynb")
    translations = translation.load("two_layer_net", "zh-TW")
    index = next(i for i, cell in enumerate(english.cells) if cell.cell_type == "markdown" and "## 3." in cell.source)
    cell = english.cells[index]
    edited = changed_copy(english, index, cell.source.replace("\n\n", "\n\nA sentence added to the English.\n\n", 1))
    found = translation.problems(edited, translations)
    assert len(found) == 1 and found[0].startswith(f"stale: cell {cell.id}"), found
    assert "+A sentence added to the English." in found[0]  # the diff says what the translator has to follow
    with pytest.raises(translation.TranslationError, match=f"stale: cell {cell.id}"):
        translation.translated_notebook(edited, translations)


def test_a_missing_or_unsafe_translation_is_caught():
    english = release("two_layer_net", "two_layer_net.ipynb")
    translations = translation.load("two_layer_net", "zh-TW")
    markdown_id = next(cell.id for cell in english.cells if cell.cell_type == "markdown")
    code = next(cell for cell in english.cells if cell.cell_type == "code" and translation.translatable(cell))
    assert translation.problems(english, {k: v for k, v in translations.items() if k != markdown_id}) == [
        f"missing: cell {markdown_id} (markdown: {translation._first_words(english.cells[0].source)}) has no zh-TW "
        "translation"]
    entry = translations[code.id]
    for smuggled in (entry.text + "\nimport os", entry.text.replace("(", "( 1 +", 1),
                     entry.text.replace("YOUR CODE HERE", "在這裡寫程式") if "YOUR CODE HERE" in entry.text
                     else entry.text + "\n# YOUR CODE HERE"):
        unsafe = translation.problems(english, {**translations, code.id: translation.CellTranslation(
            entry.sha256, entry.english, smuggled)})
        assert len(unsafe) == 1 and unsafe[0].startswith(f"unsafe: cell {code.id}"), unsafe


def test_a_code_translation_may_change_comments_docstrings_and_printed_sentences_only():
    english = ('def f(x):\n    """Square it."""\n    print("the square is", x * x)  # shown\n'
               '    print(f"{x:.2f} squared, {\'big\' if x > 9 else \'small\'}")\n    return g("relu", x)\n')
    allowed = ('def f(x):\n    """平方。"""\n    print("平方是", x * x)  # 顯示\n'
               '    print(f"{x:.2f} 的平方，{\'大\' if x > 9 else \'小\'}")\n    return g("relu", x)\n')
    assert translation._code_shape(allowed) == translation._code_shape(english)
    for changed in (allowed.replace('"relu"', '"線性整流"'), allowed.replace("x * x", "x ** 2"),
                    allowed.replace("{x:.2f}", "{x * 2:.2f}"), allowed.replace("x > 9", "x > 8"),
                    allowed + "secret = 1\n"):
        assert translation._code_shape(changed) != translation._code_shape(english)


# --- Catalogues --------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", catalogues.DOMAINS, ids=lambda d: d.name)
def test_every_message_has_an_entry_in_each_language(domain, language):
    found = catalogues.missing(domain, language)
    assert found == [], "run `python -m autograder catalogues` and translate:\n" + "\n".join(found)


def test_a_message_without_an_entry_or_with_other_placeholders_is_caught(tmp_path):
    domain = catalogues.Domain("helpers", "helpers/locale", (("helpers", (("**.py", "python"),)),))
    (tmp_path / "helpers").mkdir()
    (tmp_path / "helpers" / "talk.py").write_text('from helpers.i18n import _\n'
                                                  'A = _("Loss: {loss}")\nB = _("{name} is not written yet")\n')
    catalogues.update(domain, "zh-TW", tmp_path)
    assert len(catalogues.missing(domain, "zh-TW", tmp_path)) == 2
    po = catalogues.po_path(domain, "zh-TW", tmp_path)
    text = po.read_text().replace('msgid "Loss: {loss}"\nmsgstr ""', 'msgid "Loss: {loss}"\nmsgstr "損失：{loss}"')
    po.write_text(text.replace('msgid "{name} is not written yet"\nmsgstr ""',
                               'msgid "{name} is not written yet"\nmsgstr "{function} 尚未寫好"'))
    assert catalogues.missing(domain, "zh-TW", tmp_path) == [
        "helpers: the zh-TW entry for '{name} is not written yet' has the placeholders ['{function}'], the message "
        "['{name}'] (helpers/talk.py:3)"]


def test_the_course_speaks_its_language_and_refuses_one_it_has_no_catalogue_for(tmp_path, monkeypatch):
    from helpers.visible import not_implemented_message, report_check
    settings = tmp_path / "course.toml"
    settings.write_text('[course]\nlanguage = "zh-TW"\n')
    monkeypatch.setenv("COURSE_SETTINGS", str(settings))
    monkeypatch.delenv(i18n.LANGUAGE_ENV, raising=False)
    assert i18n.language() == "zh-TW"
    message = not_implemented_message(NotImplementedError(), "nn_train")
    assert message.startswith("nn_train ") and translation.CJK.search(message) and "YOUR CODE HERE" in message
    monkeypatch.setenv(i18n.LANGUAGE_ENV, "en")
    assert not_implemented_message(NotImplementedError(), "nn_train").startswith("nn_train is not implemented yet")
    assert report_check("W1 max relative error", 3e-9, 1e-6)
    settings.write_text('[course]\nlanguage = "fr"\n')
    monkeypatch.delenv(i18n.LANGUAGE_ENV)
    with pytest.raises(ValueError, match=r"course.toml sets the language 'fr'; choose one of 'en', 'zh-TW'"):
        i18n.language()


# --- The glossary ------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def terms():
    return translation.glossary()


def test_the_glossary_is_one_term_per_concept(terms):
    forms = [form for term in terms for form in term.english]
    assert len(forms) == len(set(forms)), "an English form is listed twice"
    chosen = {term.zh for term in terms}
    assert not [(other, term.zh) for term in terms for other in term.avoid if other in chosen], \
        "a term one entry avoids is another entry's"
    issue_terms = {"損失函數", "反向傳播", "學習率", "正則化", "過擬合", "欠擬合", "遷移學習", "微調", "凍結"}
    assert issue_terms <= chosen


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name, notebook", NOTEBOOKS)
def test_the_notebooks_translations_use_the_glossarys_terms(name, notebook, language, terms):
    english = {cell.id: cell for cell in release(name, notebook).cells}
    found = {cell_id: translation.term_problems(entry.english, entry.text, terms, english[cell_id].cell_type)
             for cell_id, entry in translation.load(name, language).items() if cell_id in english}
    assert {cell_id: p for cell_id, p in found.items() if p} == {}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("domain", catalogues.DOMAINS, ids=lambda d: d.name)
def test_the_messages_use_the_glossarys_terms(domain, language, terms):
    found = {}
    for message in catalogues.read(domain, language):
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if ids[0] and all(strings):
            problems = translation.term_problems(ids[0], strings[0], terms, cell_type="message")
            if problems:
                found[ids[0]] = problems
    assert found == {}


def test_a_term_the_glossary_avoids_or_misses_is_caught(terms):
    english = "Lower the learning rate: the network overfits, and its gradients explode."
    assert translation.term_problems(english, "調低學習率（learning rate）：網路過擬合，梯度爆炸。", terms) == []
    assert translation.term_problems(english, "調低學習速率（learning rate）：網絡過度擬合，梯度爆炸。", terms) == [
        "says '學習速率' where the glossary has '學習率' (learning rate)",
        "the English says 'learning rate': the glossary's term is '學習率'",
        "says '過度擬合' where the glossary has '過擬合' (overfitting)",
        "the English says 'overfits': the glossary's term is '過擬合'",
        "says '網絡' where the glossary has '網路' (network)"]
    assert translation.term_problems(english, "調低學習率：網路過擬合，梯度爆炸。", terms) == [
        "'學習率' is in PyTorch's API as 'learning rate': give it once as 學習率（learning rate）"]


# --- Plots -------------------------------------------------------------------------------------------------------

def draw_chinese(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    figure, axes = plt.subplots()
    axes.plot([0, 1, 2], [2.3, 1.1, 0.7], label="訓練損失")
    axes.set(title="學習率（learning rate）與損失函數", xlabel="迭代次數", ylabel="損失")
    axes.legend()
    figure.savefig(tmp_path / "chinese.png")
    plt.close(figure)


def test_a_figure_with_chinese_labels_draws_every_glyph(tmp_path):
    import matplotlib
    saved = matplotlib.rcParams.copy()
    try:
        family = fonts.use_course_font("zh-TW")
        assert family in fonts.CJK_FAMILIES, "no CJK font found: `make setup` installs fonts-noto-cjk"
        with warnings.catch_warnings():
            warnings.filterwarnings("error", message=r".*[Gg]lyph .* missing")
            draw_chinese(tmp_path)
    finally:
        matplotlib.rcParams.update(saved)


def test_a_cjk_font_installed_after_matplotlib_listed_the_fonts_is_found(monkeypatch):
    """matplotlib caches its list of the machine's fonts: fonts-noto-cjk installed by `make setup` on a machine
    whose cache is older is still found."""
    from matplotlib import font_manager
    monkeypatch.setattr(font_manager.fontManager, "ttflist",
                        [f for f in font_manager.fontManager.ttflist if f.name not in fonts.CJK_FAMILIES])
    fonts.cjk_family.cache_clear()
    try:
        assert fonts.cjk_family() in fonts.CJK_FAMILIES
    finally:
        fonts.cjk_family.cache_clear()


def test_without_a_cjk_font_the_glyph_check_fails_and_the_kit_says_what_to_install(tmp_path, monkeypatch):
    import matplotlib
    saved = matplotlib.rcParams.copy()
    try:
        matplotlib.rcParams["font.family"] = "DejaVu Sans"
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            draw_chinese(tmp_path)
        assert any(re.search(r"[Gg]lyph .* missing", str(w.message)) for w in caught)
    finally:
        matplotlib.rcParams.update(saved)
    monkeypatch.setattr(fonts, "cjk_family", lambda: None)
    fonts.use_course_font.cache_clear()
    try:
        with pytest.warns(fonts.FontWarning, match="fonts-noto-cjk"):
            assert fonts.use_course_font("zh-TW") is None
    finally:
        fonts.use_course_font.cache_clear()
    assert fonts.use_course_font("en") is None
