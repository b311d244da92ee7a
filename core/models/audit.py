"""Records of retention purges of history, which the audit-chain check accepts as anchors."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditPurge(models.Model):
    """One retention delete of a history table's rows older than `before`, and why.

    Written by `purge_audit_history` in the transaction that deletes the rows; append-only
    like the history itself (a trigger refuses UPDATE and DELETE on PostgreSQL). An
    object's first remaining history row may point at a purged row when the purge
    recorded that row's hash as an anchor (AuditPurgeAnchor).
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


class AuditPurgeAnchor(models.Model):
    """The hash of the newest row a purge deleted for one object.

    The object's first remaining history row points at exactly that hash; the check
    accepts such a row only when it finds it here, so deleting rows of an object outside
    a purge stays visible even after a purge of the same table.
    """

    purge = models.ForeignKey(AuditPurge, models.PROTECT, related_name="anchors",
                              verbose_name=_("history purge"))
    object_id = models.BigIntegerField(_("object id"))
    chain_hash = models.CharField(_("row hash"), max_length=64)

    class Meta:
        verbose_name = _("history purge anchor")
        verbose_name_plural = _("history purge anchors")
        indexes = [models.Index(fields=["object_id", "chain_hash"],
                                name="audit_anchor_object_idx")]

    def __str__(self) -> str:
        return f"{self.object_id}:{self.chain_hash[:12]}"
