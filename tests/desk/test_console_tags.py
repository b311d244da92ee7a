"""The queue rows' shortcuts render exactly what Django's own filters would."""

import pytest
from django.template.defaultfilters import truncatechars

from desk.templatetags.console import _subject


@pytest.mark.parametrize("text", [
    "",
    "耳机没声音",
    "x" * 48,
    "x" * 49,
    "退款" * 30,
    "Cafe\u0301 " * 12,  # combining accents do not count towards the length
    "e\u0301" * 48,
    "A\u030a and <b>&</b> " * 5,
])
def test_subjects_are_shortened_as_truncatechars_does(text):
    assert _subject(text) == truncatechars(text, 48)
