"""Folding and tokenising text for the full-text index, shared by indexing and querying.

Chinese has no spaces between words and the databases here ship no Chinese parser, so the
text is cut in Python: Traditional characters are folded to Simplified (OpenCC), everything
is lower-cased, each run of CJK characters becomes its overlapping two-character pieces
(bigrams) and every other word or number stays whole. The database then indexes the
space-separated tokens with its plain full-text search (PostgreSQL `simple` tsvector,
SQLite FTS5 `unicode61`). Queries are cut by the very same functions.
"""

import re
import unicodedata
from functools import lru_cache

import opencc

# Bump when folding or tokenising changes; `rebuild_search_index` re-tokenises older rows.
SEARCH_VERSION = 1

_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
CJK_RUN = re.compile(f"[{_CJK}]+")
TOKEN_RUN = re.compile(f"[{_CJK}]+|[^\\W_{_CJK}]+")


@lru_cache(maxsize=1)
def _converter() -> opencc.OpenCC:
    # tw2sp also maps Taiwan vocabulary (螢幕 → 屏幕, 軟體 → 软件), not only characters.
    return opencc.OpenCC("tw2sp")


def fold(text: str) -> str:
    """Return the text in Simplified characters and lower case, full-width forms narrowed."""
    return _converter().convert(unicodedata.normalize("NFKC", text)).lower()


def is_cjk(token: str) -> bool:
    return bool(CJK_RUN.fullmatch(token))


def run_tokens(run: str) -> list[str]:
    """Return the tokens of one run: bigrams for CJK (a lone character stays), else itself."""
    if is_cjk(run) and len(run) > 1:
        return [run[i:i + 2] for i in range(len(run) - 1)]
    return [run]


def runs(folded: str) -> list[str]:
    """Return the CJK runs and other words of already folded text, in order."""
    return TOKEN_RUN.findall(folded)


def tokens(text: str) -> list[str]:
    """Return the index tokens of the text, in order."""
    result = []
    for run in runs(fold(text)):
        result.extend(run_tokens(run))
    return result


def index_tokens(text: str) -> str:
    """Return the space-separated index tokens of the text."""
    return " ".join(tokens(text))
