"""Admin for supervision: QA reviews, major incidents and legal holds.

Nothing here writes around the services: reviews are scored on the QA page, and incidents
and legal holds change only through their services.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from core.admin.history import ReadOnlyHistoryAdmin
from core.services.exceptions import Conflict
from tickets.models import (
    QA_SCORES,
    Incident,
    IncidentBroadcast,
    IncidentState,
    LegalHold,
    QaReview,
)
from tickets.services import incidents, legal_holds


@admin.register(QaReview)
class QaReviewAdmin(ReadOnlyHistoryAdmin):
    """Reviews are read here and scored on the QA page, through the service."""

    list_display = ["ticket", "source", "state", "reviewer", "created_at", "completed_at",
                    *QA_SCORES, "score_link"]
    list_filter = ["state", "source", "sampled_on", "reviewer"]
    search_fields = ["=ticket__number", "findings", "reviewer__username"]
    list_select_related = ["ticket", "reviewer"]
    date_hierarchy = "created_at"
    readonly_fields = ["ticket", "source", "state", "survey", "sampled_on", "reviewer",
                       *QA_SCORES, "findings", "created_at", "completed_at"]

    @admin.display(description=_("QA page"))
    def score_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("qa-review", args=[obj.pk]),
                           pgettext_lazy("open a page", "Open"))

    def has_add_permission(self, request):
        return False  # queued by the sampling job, complaints and low ratings

    def has_change_permission(self, request, obj=None):
        return False  # scored on the QA page through qa_review_submit

    def has_delete_permission(self, request, obj=None):
        return False


def _refusal_text(error) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return getattr(error, "message", "") or str(error) or _("You may not do that.")


class ServiceRefusalsAsMessages:
    """Save the whole change form in one transaction; a service's refusal undoes it all and
    comes back as an error message on the same page."""

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            with transaction.atomic():
                return super().changeform_view(request, object_id, form_url, extra_context)
        except (ValidationError, Conflict, PermissionDenied) as error:
            self.message_user(request, _refusal_text(error), messages.ERROR)
            return redirect(request.get_full_path())


@admin.register(LegalHold)
class LegalHoldAdmin(ServiceRefusalsAsMessages, ReadOnlyHistoryAdmin):
    """Place a hold by adding one; release it by giving a reason for release."""

    list_display = ["ticket", "placed_by", "placed_at", "is_active_display", "released_by",
                    "released_at"]
    list_filter = [("released_at", admin.EmptyFieldListFilter), "placed_by"]
    search_fields = ["=ticket__number", "reason", "=ticket__order__number"]
    list_select_related = ["ticket", "placed_by", "released_by"]
    raw_id_fields = ["ticket"]
    date_hierarchy = "placed_at"

    @admin.display(description=_("active"), boolean=True)
    def is_active_display(self, obj) -> bool:
        return obj.is_active

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["ticket", "reason"]
        return ["ticket", "reason", "placed_by", "placed_at", "released_by", "released_at",
                "release_reason"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        frozen = ["ticket", "reason", "placed_by", "placed_at", "released_by", "released_at"]
        return frozen if obj.is_active else [*frozen, "release_reason"]

    def save_model(self, request, obj, form, change):
        if not change:
            hold = legal_holds.legal_hold_place(ticket=obj.ticket, actor=request.user,
                                                reason=obj.reason)
            obj.pk = hold.pk
        elif "release_reason" in form.changed_data:
            legal_holds.legal_hold_release(hold=obj, actor=request.user,
                                           reason=form.cleaned_data["release_reason"])

    def has_delete_permission(self, request, obj=None):
        return False  # a hold is evidence too: released, never deleted


class BroadcastInline(admin.TabularInline):
    model = IncidentBroadcast
    extra = 0
    fields = ["sent_at", "sent_by", "recipients", "body"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class IncidentBroadcastForm(forms.Form):
    body = forms.CharField(label=_("Message to every affected customer"), max_length=500,
                           widget=forms.Textarea(attrs={"rows": 4, "cols": 80}))


@admin.register(Incident)
class IncidentAdmin(ServiceRefusalsAsMessages, ReadOnlyHistoryAdmin):
    """Open an incident, group tickets under it, message their customers, close it."""

    list_display = ["title", "kind", "state", "opened_by", "opened_at", "ticket_count",
                    "closed_at"]
    list_filter = ["state", "kind"]
    search_fields = ["title", "description", "=tickets__number"]
    list_select_related = ["opened_by"]
    raw_id_fields = ["tickets"]
    date_hierarchy = "opened_at"
    inlines = [BroadcastInline]
    actions = ["close_incidents"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(ticket_total=Count("tickets"))

    @admin.display(description=_("tickets"), ordering="ticket_total")
    def ticket_count(self, obj) -> int:
        return obj.ticket_total

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["title", "kind", "description", "tickets"]
        return ["title", "kind", "state", "description", "tickets", "opened_by", "opened_at",
                "closed_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        fixed = ["title", "kind", "state", "description", "opened_by", "opened_at", "closed_at"]
        return [*fixed, "tickets"] if obj.state == IncidentState.CLOSED else fixed

    def save_model(self, request, obj, form, change):
        if not change:
            incident = incidents.incident_open(
                actor=request.user, title=obj.title, kind=obj.kind, description=obj.description)
            obj.pk = incident.pk

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)  # read-only: writes nothing
        # Tickets join an incident only through the service (never removed: it is history).
        if "tickets" in form.changed_data:
            incidents.incident_add_tickets(incident=form.instance, actor=request.user,
                                           tickets=form.cleaned_data["tickets"])

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Close the selected incidents"),
                  permissions=["change"])
    def close_incidents(self, request, queryset):
        closed = 0
        for incident in queryset.filter(state=IncidentState.OPEN):
            incidents.incident_close(incident=incident, actor=request.user)
            closed += 1
        self.message_user(request, _("Incidents closed: %(count)d") % {"count": closed},
                          messages.SUCCESS)

    def get_urls(self):
        custom = [
            path("<int:pk>/notify/", self.admin_site.admin_view(self.notify_view),
                 name="tickets_incident_notify"),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "broadcast_form": IncidentBroadcastForm(),
                         "notify_url": reverse("admin:tickets_incident_notify",
                                               args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def notify_view(self, request, pk):
        """Message every affected customer at once, through the service and the outbox."""
        incident = get_object_or_404(Incident, pk=pk)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        back = redirect(reverse("admin:tickets_incident_change", args=[pk]))
        if request.method != "POST":
            return back
        form = IncidentBroadcastForm(request.POST)
        if not form.is_valid():
            self.message_user(request, " ".join(form.errors.get("body", [])), messages.ERROR)
            return back
        try:
            broadcast = incidents.incident_notify_customers(
                incident=incident, actor=request.user, body=form.cleaned_data["body"])
        except (ValidationError, Conflict, PermissionDenied) as error:
            self.message_user(request, _refusal_text(error), messages.ERROR)
        else:
            self.message_user(request, _("Message queued for %(count)d customers.")
                              % {"count": broadcast.recipients}, messages.SUCCESS)
        return back
