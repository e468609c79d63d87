"""A font for the course's language in plots: matplotlib's own (DejaVu Sans) has no Chinese glyphs, so a zh-TW
course's titles and axis labels need a CJK font of the machine's.

`use_course_font()` (the plotting helpers call it) puts the first CJK family found here in front of matplotlib's
sans-serif list: Debian's fonts-noto-cjk on the kit's machines, the platform's own on students' laptops (PingFang on
macOS, Microsoft JhengHei on Windows). Where there is none, it warns once, saying how to install one, and the plots
still draw (with boxes for the Chinese).
"""
import functools
import os
import re
import warnings

from helpers.i18n import DEFAULT_LANGUAGE, _, language

#: Families with Traditional Chinese glyphs, the best first.
CJK_FAMILIES = ("Noto Sans CJK TC", "Noto Sans TC", "Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Sans CJK KR",
                "Source Han Sans TW", "Source Han Sans", "PingFang TC", "Microsoft JhengHei", "Heiti TC",
                "Apple LiGothic", "WenQuanYi Zen Hei", "WenQuanYi Micro Hei", "AR PL UMing TW", "Arial Unicode MS")
INSTALL = ("Debian or Ubuntu: sudo apt-get install fonts-noto-cjk; Fedora: sudo dnf install "
           "google-noto-sans-cjk-fonts; Colab: !apt-get -qq install fonts-noto-cjk, then Runtime → Restart; macOS and "
           "Windows have one already (PingFang TC, Microsoft JhengHei)")


class FontWarning(UserWarning):
    """No font on this machine shows the course's language."""


#: File names of CJK fonts, for a font installed after matplotlib cached its list of the machine's fonts.
CJK_FILES = re.compile(r"CJK|NotoSans(TC|SC|JP)|SourceHanSans|PingFang|msjh|STHeiti|LiGothic|wqy|ukai|uming|"
                       r"Arial Unicode", re.I)


@functools.lru_cache(maxsize=1)
def cjk_family():
    """The first family of CJK_FAMILIES that matplotlib finds on this machine, or None. matplotlib lists the
    machine's fonts once and caches the list: a CJK font installed since is looked for among the font files and
    added."""
    from matplotlib import font_manager

    def first():
        installed = {font.name for font in font_manager.fontManager.ttflist}
        return next((family for family in CJK_FAMILIES if family in installed), None)
    if first() is None:
        for path in font_manager.findSystemFonts():
            if CJK_FILES.search(os.path.basename(path)):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):  # a file FreeType cannot read
                    continue
    return first()


@functools.lru_cache(maxsize=None)
def use_course_font(language_=None):
    """Make matplotlib draw the course's language (`language_`, default the course's); returns the family used
    (None for English, which needs none, or where no CJK font is installed: then a FontWarning says what to do)."""
    if (language_ or language()) == DEFAULT_LANGUAGE:
        return None
    import matplotlib
    family = cjk_family()
    if family is None:
        warnings.warn(_("no font here shows Chinese, so the plots' Chinese labels will be boxes. Install one: "
                        "{install}. Then restart the kernel.").format(install=INSTALL), FontWarning, stacklevel=2)
        return None
    matplotlib.rcParams["font.sans-serif"] = [family, *matplotlib.rcParams["font.sans-serif"]]
    matplotlib.rcParams["font.family"] = "sans-serif"
    return family
