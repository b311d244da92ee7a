from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.template_utils import HistoricalRecordContextHelper

from core.admin.history import (
    ReadOnlyHistoryAdmin,
    ServiceRefusalsAsMessages,
    ServiceWritesAdmin,
    refusal_text,
)
from core.models.roles import Role
from core.services.exceptions import Conflict
from policies.models import ChangeSetState, Payer, PolicyChangeSet, ResolutionKind, Verdict
from policies.services import changesets
from policies.views.presentation import render_messages
from resolutions.services import backtest as backtests
from shop.models import Customer, mask_contact
from supervision.models.incident import Incident, IncidentBroadcast, IncidentState
from supervision.models.privacy import REVEAL_REASON_MAX_LENGTH, ContactReveal
from supervision.models.qa import QA_SCORES, QaReview
from supervision.models.survey import Survey
from supervision.services import incidents, privacy
from tickets.models import (
    Ticket,
)

"""Admin for supervision: QA reviews, major incidents and legal holds.

Nothing here writes around the services: reviews are scored on the QA page, and incidents
and legal holds change only through their services.
"""




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








class BroadcastInline(admin.TabularInline):
    model = IncidentBroadcast
    extra = 0
    fields = readonly_fields = ("sent_at", "sent_by", "recipients", "body")
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
                 name="supervision_incident_notify"),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "broadcast_form": IncidentBroadcastForm(),
                         "notify_url": reverse("admin:supervision_incident_notify",
                                               args=[object_id])}
        return super().change_view(request, object_id, form_url, extra_context)

    def notify_view(self, request, pk):
        """Message every affected customer at once, through the service and the outbox."""
        incident = get_object_or_404(Incident, pk=pk)
        if not self.has_change_permission(request, incident):
            raise PermissionDenied
        back = redirect(reverse("admin:supervision_incident_change", args=[pk]))
        if request.method != "POST":
            return back
        form = IncidentBroadcastForm(request.POST)
        if not form.is_valid():
            shown = " ".join(str(error) for error in form.errors.get("body", []))
            self.message_user(request, shown, messages.ERROR)
            return back
        try:
            broadcast = incidents.incident_notify_customers(
                incident=incident, actor=request.user, body=form.cleaned_data["body"])
        except (ValidationError, Conflict, PermissionDenied) as error:
            self.message_user(request, refusal_text(error), messages.ERROR)
        else:
            self.message_user(request, _("Message queued for %(count)d customers.")
                              % {"count": broadcast.recipients}, messages.SUCCESS)
        return back


class CustomerAdminForm(forms.ModelForm):
    """The stored phone number is never put into the page: a new one may be typed instead."""

    new_phone = forms.RegexField(
        regex=r"^\+?[0-9\- ]{5,20}$", required=False, max_length=32,
        label=_("New phone number"),
        help_text=_("Leave blank to keep the number on file."),
        error_messages={"invalid": _("Enter a valid phone number.")},
    )

    class Meta:
        model = Customer
        fields = ["external_id", "name", "tier"]


class ContactRevealForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=REVEAL_REASON_MAX_LENGTH,
        help_text=_("Why you need the full number. Your name, the time and this reason are "
                    "logged."))
    ticket = forms.CharField(label=_("For ticket (number, optional)"), required=False,
                             max_length=40)


class MaskedContactHistoryHelper(HistoricalRecordContextHelper):
    """Shows contact fields masked in the history page's "old → new" column."""

    def prepare_delta_change_value(self, change, value):
        return mask_contact(change.field, super().prepare_delta_change_value(change, value))


@admin.register(Customer)
class CustomerAdmin(ReadOnlyHistoryAdmin):
    form = CustomerAdminForm
    change_form_template = "admin/shop/customer/change_form.html"
    list_display = ["name", "external_id", "masked_phone_display", "tier", "created_at"]
    list_filter = ["tier"]
    # Finding a caller by the full number is fine: the number is typed, never shown.
    search_fields = ["name", "external_id", "=phone"]
    readonly_fields = ["masked_phone_display", "created_at", "updated_at"]

    @admin.display(description=_("phone"), ordering="phone")
    def masked_phone_display(self, obj: Customer) -> str:
        return obj.masked_phone or "—"

    def get_fields(self, request, obj=None):
        # The new-number input only where the user may change the customer; view-only pages
        # show every field read-only, and the stored number is no field at all.
        if obj is None:
            return ["external_id", "name", "new_phone", "tier"]
        editable = self.has_change_permission(request, obj)
        return [
            "external_id", "name", "masked_phone_display", *(["new_phone"] if editable else []),
            "tier", "created_at", "updated_at",
        ]

    def get_historical_record_context_helper(self, request, historical_record):
        return MaskedContactHistoryHelper(self.model, historical_record)

    def save_model(self, request, obj, form, change):
        new_phone = form.cleaned_data.get("new_phone", "").strip()
        if new_phone:
            obj.phone = new_phone
        super().save_model(request, obj, form, change)

    def get_urls(self):
        custom = [
            path("<int:pk>/reveal/", self.admin_site.admin_view(self.reveal_view),
                 name="shop_customer_reveal"),
        ]
        return custom + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}),
                         "can_reveal_contact": privacy.can_reveal_contact(request.user),
                         "can_read_reveal_log": request.user.has_perm(
                             "supervision.view_contactreveal")}
        return super().change_view(request, object_id, form_url, extra_context)

    def reveal_view(self, request, pk):
        """Ask for a reason, then show this one customer's full number (logged)."""
        customer = get_object_or_404(Customer, pk=pk)
        if not self.has_view_permission(request, customer):
            raise PermissionDenied
        if not privacy.can_reveal_contact(request.user):
            raise PermissionDenied
        form = ContactRevealForm(request.POST or None)
        revealed = None
        if request.method == "POST" and form.is_valid():
            ticket = None
            number = form.cleaned_data["ticket"].strip()
            try:
                if number:
                    ticket = Ticket.objects.get(number=number)
                revealed = privacy.customer_contact_reveal(
                    actor=request.user, customer=customer, reason=form.cleaned_data["reason"],
                    ticket=ticket)
            except Ticket.DoesNotExist:
                form.add_error("ticket", _("No such ticket."))
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Reveal contact details"),
            "opts": self.model._meta,
            "original": customer,
            "form": form,
            "revealed": revealed,
        }
        # A revealed number must not linger in caches: NoStoreMiddleware marks it no-store.
        return TemplateResponse(request, "admin/shop/customer/reveal.html", context,
                                status=400 if form.errors else 200)


@admin.register(ContactReveal)
class ContactRevealAdmin(admin.ModelAdmin):
    """The reveal log: read by QA and risk/legal, written only by the reveal service."""

    list_display = ["revealed_at", "revealed_by", "customer", "ticket", "reason"]
    list_filter = [("revealed_by", admin.RelatedOnlyFieldListFilter), "revealed_at"]
    list_select_related = ["revealed_by", "customer", "ticket"]
    search_fields = ["=customer__external_id", "customer__name", "=ticket__number",
                     "=revealed_by__username"]
    date_hierarchy = "revealed_at"
    raw_id_fields = ["customer", "ticket"]
    show_full_result_count = False
    fields = readonly_fields = ("revealed_at", "revealed_by", "customer", "ticket", "reason")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Survey)
class SurveyAdmin(ServiceWritesAdmin):
    """Answers are the customers' own words: read, never edited."""

    list_display = ["ticket", "sent_at", "answered_at", "csat", "speed", "attitude",
                    "expertise", "nps"]
    list_filter = ["csat", "nps"]
    search_fields = ["=ticket__number"]
    list_select_related = ["ticket"]
    exclude = ["token"]
    readonly_fields = ["ticket", "sent_at", "expires_at", "answered_at", "csat", "speed",
                       "attitude", "expertise", "nps", "comment"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- policy change sets: review, approval and the backtest -----------------------------------
#
# Registered here, not in policies/admin.py, because the approval page shows the backtest,
# which replays resolutions (an app above the policies).

class ChangeSetSubmitForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=200, required=False)
    effective_at = forms.DateTimeField(
        label=_("effective at"), required=False,
        help_text=_("Empty: published as soon as it is approved. Format: 2026-07-01 00:00"))


class ChangeSetRejectForm(forms.Form):
    reason = forms.CharField(label=_("reason for rejecting"), widget=forms.Textarea(
        attrs={"rows": 2}))


class BacktestDaysForm(forms.Form):
    days = forms.IntegerField(label=_("days"), min_value=1, max_value=3650,
                              initial=backtests.DEFAULT_DAYS)


# Kinds, verdicts and payers as the supervisor reads them, not as they are stored.
_LABELS = {**dict(ResolutionKind.choices), **dict(Verdict.choices), **dict(Payer.choices)}


def _label(code: str | None) -> str:
    return str(_LABELS.get(code, code)) if code else "—"


def _option_text(option) -> str:
    if option is None:
        return str(_("No option"))
    return render_messages(option.explanation)


@admin.register(PolicyChangeSet)
class PolicyChangeSetAdmin(ReadOnlyHistoryAdmin):
    """The page of one change set: its diff, who approved, the backtest, and its actions."""

    list_display = ["__str__", "state", "author", "submitted_at", "effective_at",
                    "published_at", "item_count"]
    list_filter = ["state"]
    list_select_related = ["author"]
    search_fields = ["title", "=id"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(item_total=Count("items"))

    @admin.display(description=_("changes"), ordering="item_total")
    def item_count(self, obj) -> int:
        return obj.item_total

    def has_add_permission(self, request):
        return False  # a draft starts with a proposed change (the rule or limit pages)

    def has_change_permission(self, request, obj=None):
        return False  # every step is an action of the review page, through the services

    def has_delete_permission(self, request, obj=None):
        return False

    def change_view(self, request, object_id, form_url="", extra_context=None):
        """Show the change set for review; POST runs one action through the services."""
        change_set = get_object_or_404(
            PolicyChangeSet.objects.select_related("author", "rollback_of", "rejected_by"),
            pk=object_id)
        if not self.has_view_permission(request, change_set):
            raise PermissionDenied
        if request.method == "POST":
            return self._act(request, change_set)
        return self._review(request, change_set)

    def _act(self, request, change_set):
        back = redirect(reverse("admin:policies_policychangeset_change", args=[change_set.pk]))
        action = request.POST.get("action", "")
        user = request.user
        try:
            if action == "submit":
                form = ChangeSetSubmitForm(request.POST)
                if not form.is_valid():
                    raise ValidationError([str(error) for errors in form.errors.values()
                                           for error in errors])
                changesets.submit(actor=user, change_set=change_set,
                                  title=form.cleaned_data["title"],
                                  effective_at=form.cleaned_data["effective_at"])
                message = _("Submitted for approval.")
            elif action == "remove_item":
                item = get_object_or_404(change_set.items, pk=request.POST.get("item"))
                changesets.remove_item(actor=user, item=item)
                message = _("The change was taken out of the draft.")
            elif action == "approve":
                approved = changesets.approve(actor=user, change_set=change_set)
                message = {
                    ChangeSetState.PUBLISHED: _("Approved and published."),
                    ChangeSetState.APPROVED: _("Approved; it is published at its effective "
                                               "time."),
                }.get(approved.state, _("Approved; it waits for the other approval."))
            elif action == "reject":
                changesets.reject(actor=user, change_set=change_set,
                                  reason=request.POST.get("reason", ""))
                message = _("Rejected.")
            elif action == "rollback":
                rollback = changesets.roll_back(actor=user, change_set=change_set)
                self.message_user(request, _("Rollback change set #%(id)s submitted for "
                                             "approval.") % {"id": rollback.pk},
                                  messages.SUCCESS)
                return redirect(reverse("admin:policies_policychangeset_change",
                                        args=[rollback.pk]))
            else:
                raise ValidationError(_("Unknown action."))
        except (ValidationError, Conflict, PermissionDenied) as error:
            self.message_user(request, refusal_text(error), messages.ERROR)
        else:
            self.message_user(request, message, messages.SUCCESS)
        return back

    def _review(self, request, change_set):
        user = request.user
        items = list(change_set.items.select_related("rule", "limit").order_by("id"))
        approvals = list(change_set.approvals.select_related("approver"))
        given = [approval.role for approval in approvals]
        state = change_set.state
        days_form = BacktestDaysForm(request.GET or None)
        days = days_form.cleaned_data["days"] if days_form.is_valid() \
            else backtests.DEFAULT_DAYS
        result = None
        if state in (ChangeSetState.DRAFT, ChangeSetState.SUBMITTED, ChangeSetState.APPROVED):
            result = backtests.backtest(change_set, days=days)
        is_author = change_set.author_id == user.pk
        can_draft = user.has_perm("policies.change_policychangeset")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": str(change_set),
            "original": change_set,
            "items": [(item, changesets.diff(item)) for item in items],
            "approvals": approvals,
            "missing_roles": [Role(role).label for role in
                              changesets.missing_roles(change_set, given)]
            if state == ChangeSetState.SUBMITTED else [],
            "can_submit": is_author and can_draft and state == ChangeSetState.DRAFT,
            "can_edit": is_author and can_draft and state == ChangeSetState.DRAFT,
            "can_approve": state == ChangeSetState.SUBMITTED
            and changesets.approving_role(change_set, user, given) is not None,
            "can_reject": state == ChangeSetState.SUBMITTED and (
                is_author or user.has_perm("policies.approve_policychangeset")),
            "can_roll_back": state == ChangeSetState.PUBLISHED and can_draft
            and not any(rb.state != ChangeSetState.REJECTED
                        for rb in change_set.rollbacks.all()),
            "submit_form": ChangeSetSubmitForm(initial={"title": change_set.title}),
            "reject_form": ChangeSetRejectForm(),
            "days_form": BacktestDaysForm(initial={"days": days}),
            "backtest": result,
            "cases": [
                {"case": case, "kind": _label(case.kind), "before": _option_text(case.before),
                 "after": _option_text(case.after)}
                for case in (result.cases if result else [])
            ],
            "kinds": [(_label(kind), counts) for kind, counts in result.by_kind.items()]
            if result else [],
            "verdicts": [((_label(kind), _label(before), _label(after)), count)
                         for (kind, before, after), count in sorted(result.by_verdict.items())]
            if result else [],
            "money": [(payer, _label(payer), amount)
                      for payer, amount in result.money_delta.items()] if result else [],
            "needs_every_role": changesets.needs_both_roles(change_set),
        }
        return TemplateResponse(request, "admin/policies/policychangeset/review.html", context)
