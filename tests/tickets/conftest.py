import pytest


@pytest.fixture(autouse=True)
def _english_messages(settings):
    """Ticket tests read error messages, so they ask for English ones."""
    settings.LANGUAGE_CODE = "en"
