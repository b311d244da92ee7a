"""Names in the order of the language: 王小美 on Chinese pages, 小美 王 on English ones."""

import pytest
from django.utils import translation

from core.models.names import person_name
from tests.factories import UserFactory


@pytest.mark.parametrize(("first", "last", "username", "language", "expected"), [
    ("小美", "王", "xm", "zh-hans", "王小美"),
    ("小美", "王", "xm", "en", "小美 王"),
    ("建国", "欧阳", "jg", "zh-hans", "欧阳建国"),      # a two-character family name
    ("John", "Smith", "js", "zh-hans", "John Smith"),    # Latin script keeps its order
    ("Xiaomei", "Wang", "xw", "zh-hans", "Xiaomei Wang"),
    ("John", "Smith", "js", "en", "John Smith"),
    ("小美", "", "xm", "zh-hans", "小美"),               # one part: that part
    ("", "王", "xm", "zh-hans", "王"),
    ("", "", "xm", "zh-hans", "xm"),                     # no name: the username
    (" 小美 ", " 王 ", "xm", "zh-hans", "王小美"),        # no stray spaces
])
def test_a_name_is_written_in_the_order_of_the_language(first, last, username, language,
                                                        expected):
    assert person_name(first, last, username, language=language) == expected


@pytest.mark.parametrize(("language", "expected"), [("zh-hans", "王小美"), ("en", "小美 王")])
def test_a_user_is_named_in_the_active_language(db, language, expected):
    user = UserFactory(username="xiaomei", first_name="小美", last_name="王")

    with translation.override(language):
        assert str(user) == expected
        assert user.get_full_name() == expected
