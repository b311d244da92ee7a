"""Markdown to safe HTML: rendered by `markdown`, then sanitised by `nh3` (Ammonia).

Two fixes for Chinese text around the renderer: a table written straight under a line of
text (no blank line between, as people type it) still becomes a table, and a line break or
space between two Chinese characters is dropped (a browser shows it as a stray space:
"赔偿， 电子产品").
"""

import re

import markdown
import nh3
from django.utils.safestring import SafeString, mark_safe

from knowledge.models.images import image_url_is_allowed

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "div", "dl", "dt", "em",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd", "li", "ol", "p", "pre",
    "s", "span", "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead",
    "tr", "u", "ul",
}
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "abbr": {"title"},
    "td": {"align"},
    "th": {"align"},
}

_FENCE = re.compile(r"^\s*(```|~~~)")
_TABLE_ROW = re.compile(r"^\s*\|?.*\|.*$")
_TABLE_DELIMITER = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")

# Han ideographs, CJK and full-width punctuation, kana: characters written without spaces.
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_INLINE_TAGS = r"(?:</?(?:a|abbr|b|code|del|em|i|kbd|s|span|strong|sub|sup|u)\b[^>]*>)*"
_SPACE_BETWEEN_CJK = re.compile(
    rf"(?<=[{_CJK}])({_INLINE_TAGS})[ \t\r\n]+({_INLINE_TAGS})(?=[{_CJK}])")
_PRE_BLOCK = re.compile(r"(<pre\b.*?</pre>)", re.DOTALL)


def _separate_tables(text: str) -> str:
    """Put a blank line before a table that follows a line of text, outside code fences."""
    lines = text.split("\n")
    out: list[str] = []
    in_fence = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            in_fence = not in_fence
        following = lines[index + 1] if index + 1 < len(lines) else ""
        starts_table = (not in_fence and "|" in line and _TABLE_ROW.match(line)
                        and "-" in following and _TABLE_DELIMITER.match(following))
        if starts_table and out and out[-1].strip() and "|" not in out[-1]:
            out.append("")
        out.append(line)
    return "\n".join(out)


def join_cjk_lines(html: str) -> str:
    """Drop the line breaks and spaces between two CJK characters, except inside <pre>."""
    parts = _PRE_BLOCK.split(html)
    return "".join(part if part.startswith("<pre") else _SPACE_BETWEEN_CJK.sub(r"\1\2", part)
                   for part in parts)


def _drop_foreign_images(element: str, attribute: str, value: str) -> str | None:
    """Keep an image's address only if it is the console's own or an allow-listed host."""
    if element == "img" and attribute == "src" and not image_url_is_allowed(value):
        return None
    return value


def render_markdown(text: str) -> SafeString:
    """Return the Markdown text as HTML without scripts, event handlers, unsafe URLs or
    images from hosts outside KNOWLEDGE_IMAGE_HOSTS."""
    html = markdown.markdown(_separate_tables(text), extensions=["extra", "sane_lists"],
                             output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_drop_foreign_images,
    )
    # After sanitising: only whitespace between characters is removed, no markup is added.
    return mark_safe(join_cjk_lines(clean))  # noqa: S308 - sanitised by nh3 just above
