"""Markdown to safe HTML: rendered by `markdown`, then sanitised by `nh3` (Ammonia)."""

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


def _drop_foreign_images(element: str, attribute: str, value: str) -> str | None:
    """Keep an image's address only if it is the console's own or an allow-listed host."""
    if element == "img" and attribute == "src" and not image_url_is_allowed(value):
        return None
    return value


def render_markdown(text: str) -> SafeString:
    """Return the Markdown text as HTML without scripts, event handlers, unsafe URLs or
    images from hosts outside KNOWLEDGE_IMAGE_HOSTS."""
    html = markdown.markdown(text, extensions=["extra", "sane_lists"], output_format="html")
    clean = nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
        attribute_filter=_drop_foreign_images,
    )
    return mark_safe(clean)  # noqa: S308 - sanitised by nh3 just above
