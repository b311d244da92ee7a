import pytest


@pytest.fixture(autouse=True)
def _english_messages(english_messages):
    """These tests read error messages, so they ask for English ones."""
