from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SupervisionConfig(AppConfig):
    """Looking over the work: QA reviews and sampling, surveys, incidents, legal holds and
    contact reveals."""

    name = "supervision"
    verbose_name = _("Supervision")

    def ready(self) -> None:
        # Imported here, once the models are loaded (Django's rule for ready()).
        from supervision.services.surveys import survey_on_close
        from tickets.services import lifecycle

        lifecycle.register_on_closed(survey_on_close)
