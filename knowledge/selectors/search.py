"""Full-text search over articles: the query parser and the database backends.

Agents type web-search syntax: words (AND), `OR`, `NOT` or a leading `-`, "quoted phrases"
and a trailing `*` for a prefix. Each term is folded and cut into tokens by exactly the
functions that built the index (knowledge.models.text), so a term is a chain of adjacent tokens:
退货退款 is 退货 → 货退 → 退款, which finds the phrase and not 退货 … 退款 far apart.
PostgreSQL gets a `to_tsquery` string, SQLite an FTS5 MATCH expression; both only ever see
quoted tokens made of letters, digits and CJK characters.
"""

import html
import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from knowledge.models import Article
from knowledge.models.text import fold, is_cjk, run_tokens, runs

QUERY_PIECE = re.compile(r'-?"[^"]*"?|\S+')
OR_WORDS = {"OR", "|", "或"}
AND_WORDS = {"AND", "&", "且"}
NOT_WORDS = {"NOT", "非"}
MAX_TERMS = 24


@dataclass(frozen=True)
class Chain:
    """Tokens that must stand next to each other; the last may be a prefix."""

    tokens: tuple[str, ...]
    prefix: bool = False


@dataclass(frozen=True)
class Term:
    text: str
    chains: tuple[Chain, ...]  # all of them (an unquoted term with punctuation inside)
    prefix: bool = False


@dataclass
class ParsedQuery:
    # Each clause is a list of alternatives (OR); clauses are ANDed.
    clauses: list[list[Term]] = field(default_factory=list)
    excluded: list[Term] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.clauses

    def highlight_terms(self) -> list[Term]:
        return [term for clause in self.clauses for term in clause]


def _chain(run_list: list[str], *, prefix: bool) -> Chain | None:
    tokens: list[str] = []
    for run in run_list:
        tokens.extend(run_tokens(run))
    if not tokens:
        return None
    # A lone CJK character is indexed only inside bigrams: find it as their first half.
    lone = len(tokens) == 1 and is_cjk(tokens[0]) and len(tokens[0]) == 1
    return Chain(tuple(tokens), prefix=prefix or lone)


def make_term(text: str, *, phrase: bool = False) -> Term | None:
    """Return the term for a word or phrase the user typed, or None if it has no tokens."""
    prefix = text.endswith("*")
    folded_runs = runs(fold(text.rstrip("*")))
    if not folded_runs:
        return None
    if phrase:
        chains = [_chain(folded_runs, prefix=prefix)]
    else:
        chains = [_chain([run], prefix=prefix and i == len(folded_runs) - 1)
                  for i, run in enumerate(folded_runs)]
    found = [chain for chain in chains if chain is not None]
    if not found:
        return None
    return Term(text=text.rstrip("*"), chains=tuple(found), prefix=prefix)


def parse_query(query: str) -> ParsedQuery:
    """Parse agent search syntax into clauses of alternatives and excluded terms."""
    parsed = ParsedQuery()
    negate_next = False
    join_next = False
    count = 0
    for piece in QUERY_PIECE.findall(query or ""):
        if piece in OR_WORDS:
            join_next = bool(parsed.clauses)
            continue
        if piece in AND_WORDS:
            continue
        if piece in NOT_WORDS:
            negate_next = True
            continue
        negated = negate_next
        negate_next = False
        if piece.startswith("-") and len(piece) > 1:
            negated, piece = True, piece[1:]
        phrase = piece.startswith('"')
        text = piece.strip('"')
        if phrase and piece.endswith('"*'):
            text = piece[1:-2] + "*"
        term = make_term(text, phrase=phrase)
        if term is None:
            join_next = False
            continue
        count += 1
        if count > MAX_TERMS:
            break
        if negated:
            parsed.excluded.append(term)
        elif join_next:
            parsed.clauses[-1].append(term)
        else:
            parsed.clauses.append([term])
        join_next = False
    return parsed


def or_query(text: str, *, max_terms: int = MAX_TERMS) -> ParsedQuery:
    """Return a query that matches any of the words of free text (for suggestions)."""
    seen: dict[str, Term] = {}
    for run in runs(fold(text)):
        for token in run_tokens(run):
            if token not in seen and (len(token) > 1 or not is_cjk(token)):
                seen[token] = Term(text=token, chains=(Chain((token,)),))
            if len(seen) >= max_terms:
                break
        if len(seen) >= max_terms:
            break
    parsed = ParsedQuery()
    if seen:
        parsed.clauses.append(list(seen.values()))
    return parsed


# --- PostgreSQL: to_tsquery('simple', ...).

def _pg_chain(chain: Chain) -> str:
    parts = [f"'{token}'" for token in chain.tokens]
    if chain.prefix:
        parts[-1] += ":*"
    return " <-> ".join(parts)


def _pg_term(term: Term) -> str:
    return "(" + " & ".join(f"({_pg_chain(c)})" for c in term.chains) + ")"


def to_tsquery(parsed: ParsedQuery) -> str:
    """Return the to_tsquery string of a parsed query."""
    parts = ["(" + " | ".join(_pg_term(t) for t in clause) + ")" for clause in parsed.clauses]
    parts += [f"!{_pg_term(term)}" for term in parsed.excluded]
    return " & ".join(parts)


# --- SQLite: an FTS5 MATCH expression.

def _fts_chain(chain: Chain) -> str:
    return '"' + " ".join(chain.tokens) + '"' + (" *" if chain.prefix else "")


def _fts_term(term: Term) -> str:
    return "(" + " AND ".join(_fts_chain(c) for c in term.chains) + ")"


def to_fts5(parsed: ParsedQuery) -> str:
    """Return the FTS5 MATCH expression of a parsed query."""
    positive = " AND ".join(
        "(" + " OR ".join(_fts_term(t) for t in clause) + ")" for clause in parsed.clauses)
    expression = f"({positive})"
    for term in parsed.excluded:
        expression += f" NOT {_fts_term(term)}"
    return expression


# --- Anything else: substring tests on the token columns (adjacent tokens stay adjacent).

def _q_chain(chain: Chain) -> Q:
    needle = " ".join(chain.tokens)
    return Q(search_title__contains=needle) | Q(search_body__contains=needle)


def _q_term(term: Term) -> Q:
    result = Q()
    for chain in term.chains:
        result &= _q_chain(chain)
    return result


def to_q(parsed: ParsedQuery) -> Q:
    result = Q()
    for clause in parsed.clauses:
        alternatives = Q()
        for term in clause:
            alternatives |= _q_term(term)
        result &= alternatives
    for term in parsed.excluded:
        result &= ~_q_term(term)
    return result


@dataclass(frozen=True)
class Filters:
    states: tuple[str, ...]
    category_ids: tuple[int, ...] | None = None
    tag_id: int | None = None
    article_type: str | None = None
    language: str | None = None


def _where(filters: Filters, alias: str) -> tuple[str, list]:
    clauses = [f"{alias}.state IN ({', '.join(['%s'] * len(filters.states))})"]
    params: list = list(filters.states)
    if filters.category_ids is not None:
        ids = filters.category_ids or (0,)
        clauses.append(f"{alias}.category_id IN ({', '.join(['%s'] * len(ids))})")
        params.extend(ids)
    if filters.article_type:
        clauses.append(f"{alias}.article_type = %s")
        params.append(filters.article_type)
    if filters.language:
        clauses.append(f"{alias}.language = %s")
        params.append(filters.language)
    if filters.tag_id is not None:
        clauses.append(
            "EXISTS (SELECT 1 FROM knowledge_article_tags t "  # noqa: S608 - fixed names only
            f"WHERE t.article_id = {alias}.id AND t.tag_id = %s)")
        params.append(filters.tag_id)
    return " AND ".join(clauses), params


def search_ids(parsed: ParsedQuery, filters: Filters, *, limit: int, offset: int = 0) -> list[int]:
    """Return the ids of the best matching articles, best first, in one query."""
    if parsed.is_empty:
        return []
    where, params = _where(filters, "a")
    vendor = connection.vendor
    if vendor == "postgresql":
        tsquery = to_tsquery(parsed)
        sql = (
            "SELECT c.id FROM ("  # noqa: S608 - values are all parameters
            " SELECT a.id, a.search_vector FROM knowledge_article a"
            " WHERE a.search_vector @@ to_tsquery('simple', %s) AND " + where +
            " LIMIT %s) c"
            " ORDER BY ts_rank(c.search_vector, to_tsquery('simple', %s)) DESC, c.id DESC"
            " LIMIT %s OFFSET %s"
        )
        args = [tsquery, *params, settings.KNOWLEDGE_SEARCH_CANDIDATES, tsquery, limit, offset]
    elif vendor == "sqlite":
        # The same cap as on PostgreSQL: bm25 is computed for the first matches only.
        # CROSS JOIN keeps the FTS table outermost; otherwise the planner may scan the
        # articles and run the MATCH once per article.
        sql = (
            "SELECT c.id FROM ("  # noqa: S608 - values are all parameters
            " SELECT a.id AS id, bm25(knowledge_article_fts, 5.0, 1.0) AS score"
            " FROM knowledge_article_fts CROSS JOIN knowledge_article a"
            " ON a.id = knowledge_article_fts.rowid"
            " WHERE knowledge_article_fts MATCH %s AND " + where +
            " LIMIT %s) c ORDER BY c.score, c.id DESC LIMIT %s OFFSET %s"
        )
        args = [to_fts5(parsed), *params, settings.KNOWLEDGE_SEARCH_CANDIDATES, limit, offset]
    else:

        articles = Article.objects.filter(to_q(parsed), state__in=filters.states)
        if filters.category_ids is not None:
            articles = articles.filter(category_id__in=filters.category_ids)
        if filters.article_type:
            articles = articles.filter(article_type=filters.article_type)
        if filters.language:
            articles = articles.filter(language=filters.language)
        if filters.tag_id is not None:
            articles = articles.filter(tags=filters.tag_id)
        return list(articles.order_by("-updated_at", "-id").values_list("id", flat=True)
                    [offset:offset + limit])
    with connection.cursor() as cursor:
        cursor.execute(sql, args)
        return [row[0] for row in cursor.fetchall()]


# --- Snippets.

SNIPPET_LENGTH = 160
SNIPPET_LEAD = 40


_MARKUP = [
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),  # images: keep the alt text
    (re.compile(r"\[([^\]]*)\]\([^)]*\)"), r"\1"),  # links: keep the text
    (re.compile(r"<[^>]*>"), " "),  # raw HTML tags
    (re.compile(r"^\s{0,3}(?:#{1,6}|>|[-*+]|\d+\.)\s+", re.MULTILINE), ""),  # block markers
    (re.compile(r"^\s*\|?[\s:|-]*-[\s:|-]*$", re.MULTILINE), ""),  # table rules
    (re.compile(r"[*_`|~]+"), " "),  # emphasis, code and table pipes
]


def plain_text(markdown_text: str) -> str:
    """Return roughly the readable text of Markdown, for snippets.

    Cheap regular expressions instead of a full render: snippets are escaped anyway, and
    rendering ten bodies per search cost more than the search itself.
    """
    text = html.unescape(markdown_text)
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return re.sub(r"\s+", " ", text).strip()


def _highlight_pattern(terms: list[Term]) -> re.Pattern | None:
    alternatives = set()
    for term in terms:
        for run in runs(fold(term.text)):
            if is_cjk(run):
                alternatives.add(re.escape(run))
            else:
                alternatives.add(r"(?<![^\W_])" + re.escape(run) + (r"\w*" if term.prefix else
                                                                   r"(?![^\W_])"))
    if not alternatives:
        return None
    return re.compile("|".join(sorted(alternatives, key=len, reverse=True)))


def _folded_same_length(text: str) -> str:
    folded = fold(text)
    if len(folded) == len(text):
        return folded
    # Rare: a character folds into several (NFKC ligatures); fold one by one and pad.
    return "".join((fold(ch) + " ")[:1] if len(fold(ch)) != 1 else fold(ch) for ch in text)


def snippet(text: str, terms: list[Term]) -> SafeString:
    """Return an escaped excerpt of the text around the first match, matches in <mark>."""
    pattern = _highlight_pattern(terms)
    folded = _folded_same_length(text)
    matches = list(pattern.finditer(folded)) if pattern else []
    start = max(0, matches[0].start() - SNIPPET_LEAD) if matches else 0
    end = min(len(text), start + SNIPPET_LENGTH)
    pieces = ["…" if start > 0 else ""]
    cursor = start
    for match in matches:
        if match.start() < cursor or match.end() > end:
            continue
        pieces.append(escape(text[cursor:match.start()]))
        pieces.append("<mark>" + escape(text[match.start():match.end()]) + "</mark>")
        cursor = match.end()
    pieces.append(escape(text[cursor:end]))
    if end < len(text):
        pieces.append("…")
    return mark_safe("".join(pieces))  # noqa: S308 - every piece of text is escaped above
