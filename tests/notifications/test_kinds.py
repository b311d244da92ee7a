"""Every notification template has a kind people can read in the outbox and its admin."""

from notifications.models import NotificationKind, OutboxChannel, OutboxMessage
from notifications.services.delivery import TEMPLATES


def test_every_template_is_a_named_kind():
    assert set(TEMPLATES) == set(NotificationKind.values)


def test_an_outbox_message_names_its_kind_not_its_key(settings):
    settings.LANGUAGE_CODE = "en"
    message = OutboxMessage(channel=OutboxChannel.INTERNAL, template="sla.resolution_overdue",
                            subject="Ticket CS1 is past its resolution time")

    assert str(message).startswith("Console notification Resolution overdue:")
