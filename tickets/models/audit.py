"""Records of retention purges of history, which the audit-chain check accepts as anchors."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditPurge(models.Model):
    """One retention delete of a history table's rows older than `before`, and why.

    Written by `purge_audit_history` in the transaction that deletes the rows; append-only
    like the history itself (a trigger refuses UPDATE and DELETE on PostgreSQL). An
    object's first remaining history row may point at a purged row when its table has a
    purge whose `before` is not later than that row's date.
    """

    table = models.CharField(_("history table"), max_length=100)
    before = models.DateTimeField(_("rows dated before"))
    reason = models.TextField(_("reason"))
    rows = models.PositiveIntegerField(_("rows deleted"))
    purged_by = models.ForeignKey(settings.AUTH_USER_MODEL, models.PROTECT, null=True,
                                  blank=True, related_name="+", verbose_name=_("purged by"))
    purged_at = models.DateTimeField(_("purged at"), default=timezone.now)

    class Meta:
        verbose_name = _("history purge")
        verbose_name_plural = _("history purges")
        ordering = ["purged_at", "id"]
        indexes = [models.Index(fields=["table", "before"], name="audit_purge_table_idx")]

    def __str__(self) -> str:
        return f"{self.table} < {self.before:%Y-%m-%d}"
