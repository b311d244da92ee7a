"""Names that are data yet shown in the interface: a tag written in English by whoever made it
carries its Chinese label beside it, and the page picks the one of its language."""

from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def pick_label(name: str, label_zh: str, language: str | None = None) -> str:
    """The Chinese label on a Chinese page (where one is set), the name everywhere else."""
    language = language if language is not None else (get_language() or "")
    return label_zh if label_zh and language.startswith("zh") else name


class LabelledName(models.Model):
    """A unique name (the key searches and filters use) with its Chinese display label."""

    name = models.CharField(_("name"), max_length=40, unique=True)
    label_zh = models.CharField(
        _("Chinese label"), max_length=40, blank=True,
        help_text=_("Shown instead of the name on Chinese pages; leave empty when the name "
                    "is Chinese already."))

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return pick_label(self.name, self.label_zh)
