"""How a person's name is written: the one rule every page, script and export uses.

Chinese names are written family name first with no space (王小美) when the console speaks
Chinese; English pages keep the Western order (小美 王, Xiaomei Wang). A name written in
Latin letters stays in its own order with a space on Chinese pages too (John Smith): only
names in Chinese script are turned round.
"""

import re

from django.utils import translation

# Han ideographs (with extensions A and the compatibility block), kana and hangul syllables.
_CJK_NAME = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af]+$")


def writes_family_name_first(language: str | None = None) -> bool:
    """Return True if names are written family name first in the language (default: active)."""
    language = (language or translation.get_language() or "").lower()
    return language.startswith("zh")


def person_name(first_name: str, last_name: str, username: str = "", *,
                language: str | None = None) -> str:
    """Return the full name in the order of the language (default: the active one).

    `first_name` is the given name, `last_name` the family name. Without either, the
    username stands in, as Django's User.__str__ does.
    """
    first_name, last_name = (first_name or "").strip(), (last_name or "").strip()
    if not first_name or not last_name:
        return first_name or last_name or username
    if writes_family_name_first(language) and _CJK_NAME.match(first_name + last_name):
        return f"{last_name}{first_name}"
    return f"{first_name} {last_name}"
