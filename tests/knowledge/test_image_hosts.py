"""Knowledge-base images come only from the console itself or the hosts of
KNOWLEDGE_IMAGE_HOSTS: an external image is a tracking pixel."""

import pytest
from django.core.exceptions import ValidationError

from knowledge import services
from knowledge.models import ArticleState
from knowledge.models.images import image_url_is_allowed
from knowledge.views.rendering import render_markdown


@pytest.fixture(autouse=True)
def _allow_the_picture_host(settings):
    settings.KNOWLEDGE_IMAGE_HOSTS = ["img.shop.example"]


@pytest.mark.parametrize(("url", "allowed"), [
    ("/media/knowledge/returns.png", True),
    ("returns.png", True),
    ("https://img.shop.example/returns.png", True),
    ("https://IMG.shop.example/returns.png", True),
    ("http://img.shop.example/returns.png", False),
    ("https://tracker.example/pixel.gif", False),
    ("//tracker.example/pixel.gif", False),
    ("/\\tracker.example/pixel.gif", False),
    ("https://img.shop.example.tracker.example/pixel.gif", False),
])
def test_an_image_address_is_allowed_only_from_the_console_or_the_list(url, allowed):
    assert image_url_is_allowed(url) is allowed


def test_markdown_keeps_console_and_listed_images_and_drops_the_others():
    html = render_markdown(
        "![own](/media/a.png) ![listed](https://img.shop.example/b.png) "
        "![pixel](https://tracker.example/p.gif)")

    assert 'src="/media/a.png"' in html
    assert 'src="https://img.shop.example/b.png"' in html
    assert "tracker.example" not in html


@pytest.mark.django_db
def test_a_picture_from_an_unlisted_host_is_refused(agent, make_article):
    article = make_article(state=ArticleState.DRAFT)

    with pytest.raises(ValidationError):
        services.article_media_add(article=article, actor=agent, kind="image",
                                   url="https://tracker.example/pixel.gif")
    services.article_media_add(article=article, actor=agent, kind="image",
                               url="https://img.shop.example/returns.png")
    services.article_media_add(article=article, actor=agent, kind="video",
                               url="https://video.example.com/howto.mp4")

    assert article.media.count() == 2
