"""REST API for channels and integrations: intake, reads, transitions, timeline, history."""

from contextlib import nullcontext

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from core.db.prepared import prepared_statements
from core.services.exceptions import NotFound
from core.services.uploads import StrictMultiPartParser
from desk.api.pagination import TicketListPagination
from desk.api.serializers import (
    TRANSITION_REQUEST,
    AttachmentInSerializer,
    AttachmentSerializer,
    ContactRevealInSerializer,
    ContactRevealOutSerializer,
    CustomerOutSerializer,
    CustomerUpdateInSerializer,
    EscalateInSerializer,
    HistoryEntrySerializer,
    IntakeSerializer,
    MessageInSerializer,
    MessageSerializer,
    PriorityInSerializer,
    ResolutionInSerializer,
    ResolutionSerializer,
    ResolutionTransitionInSerializer,
    TicketDetailSerializer,
    TicketListSerializer,
    TransitionInSerializer,
    TransitionOutSerializer,
    opened_ticket_data,
)
from desk.views.evidence import evidence_response
from policies.views.presentation import decision_as_dict, sees_rule_details
from resolutions import services as resolution_services
from shop import services as shop_services
from shop.models import Customer
from supervision.services import privacy
from tickets import selectors, services
from tickets.models import Priority
from tickets.services.attachments import ALLOWED_TYPES

LIST_FILTERS = ["state", "team", "assignee", "priority", "category", "customer", "channel",
                "complaint_level"]
MAX_IDEMPOTENCY_KEY = 100
# P0-P3 as shown, in either case, or the bare number.
PRIORITY_FILTER_VALUES = [f"{prefix}{value}" for prefix in ("P", "p", "")
                          for value in Priority.values]


def _detail(request, number: str) -> dict:
    ticket = selectors.ticket_get_for_user(user=request.user, number=number, with_timeline=True)
    return TicketDetailSerializer(ticket, context={"request": request}).data


def _result(request, ticket) -> dict:
    """Serialise the ticket the caller has just changed."""
    ticket = selectors.ticket_get_with_timeline(number=ticket.number)
    return TicketDetailSerializer(ticket, context={"request": request}).data


class TicketListCreateView(generics.ListAPIView):
    serializer_class = TicketListSerializer
    # Cursor pages and a capped count: page 1 and page 1,000 cost the same at any size.
    pagination_class = TicketListPagination

    def dispatch(self, request, *args, **kwargs):
        # Intake's statements (the token's user, the customer and order by key, the INSERTs,
        # the least-loaded agent) plan the same whatever their values: prepared, they skip
        # parsing and planning (core.db.prepared). The list's are not, and stay as they are.
        with prepared_statements() if request.method == "POST" else nullcontext():
            return super().dispatch(request, *args, **kwargs)

    @property
    def throttle_scope(self) -> str | None:
        """Count intake (POST) against its own, stricter rate; listing only against the user's."""
        return "intake" if self.request.method == "POST" else None

    def get_queryset(self):
        filters = {key: self.request.query_params.get(key) for key in LIST_FILTERS}
        priority = filters.get("priority")
        if priority:
            if priority not in PRIORITY_FILTER_VALUES:
                raise ValidationError({"priority": [_("Use P0, P1, P2 or P3.")]})
            filters["priority"] = priority.upper().removeprefix("P")
        return selectors.ticket_list(user=self.request.user, filters=filters)

    @extend_schema(
        parameters=[OpenApiParameter(name, str, description=f"Filter by {name}")
                    for name in LIST_FILTERS if name != "priority"]
        + [OpenApiParameter("priority", str, enum=["", *PRIORITY_FILTER_VALUES],
                            description="Filter by priority: P0 (most urgent) to P3")],
        responses=TicketListSerializer(many=True),
    )
    def get(self, request, *args, **kwargs):
        """List the tickets you may read, most urgent and oldest first (or by creation time).

        Pages by cursor: follow `next` and `previous`. `count` is exact up to 1,000; above
        that it says 1,000 and `count_is_exact` is false.
        """
        return super().get(request, *args, **kwargs)

    @extend_schema(
        request=IntakeSerializer,
        responses={201: TicketDetailSerializer, 200: TicketDetailSerializer},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER,
                                     description="Retries with the same key return the same ticket.")],
    )
    def post(self, request, *args, **kwargs):
        """Open a ticket from a channel (intake)."""
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_IDEMPOTENCY_KEY:
            raise ValidationError({"Idempotency-Key": [_("At most 100 characters.")]})
        serializer = IntakeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ticket, created = services.ticket_intake(
            actor=request.user, payload=serializer.validated_data, idempotency_key=key
        )
        if created:
            # The new ticket as intake holds it: reading it back with its timeline (five
            # queries) would answer the same (serializers.opened_ticket_data).
            return Response(opened_ticket_data(ticket), status=status.HTTP_201_CREATED)
        response = Response(_result(request, ticket), status=status.HTTP_200_OK)
        response["Idempotent-Replayed"] = "true"
        return response


class TicketDetailView(APIView):
    @extend_schema(responses=TicketDetailSerializer)
    def get(self, request, number):
        """Return one ticket with its timeline."""
        return Response(_detail(request, number))


class TicketTransitionsView(APIView):
    @extend_schema(responses=TransitionOutSerializer(many=True))
    def get(self, request, number):
        """List the transitions you may take on the ticket now."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        specs = services.ticket_available_transitions(ticket=ticket, user=request.user)
        return Response(TransitionOutSerializer(
            [{"name": s.name, "label": str(s.label), "fields": list(s.fields)} for s in specs],
            many=True,
        ).data)

    @extend_schema(request={"application/json": TRANSITION_REQUEST},
                   responses=TicketDetailSerializer)
    def post(self, request, number):
        """Take a transition: 409 if the state does not allow it, 403 if you may not."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = TransitionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = dict(serializer.validated_data)
        if params.get("merged_into"):
            params["merged_into"] = selectors.ticket_target_for_user(
                user=request.user, number=params["merged_into"], field_name="merged_into")
        else:
            params.pop("merged_into", None)
        services.ticket_transition(
            ticket=ticket, actor=request.user, name=params.pop("name"),
            comment=params.pop("comment", ""), **params,
        )
        return Response(_result(request, ticket))


class TicketMessagesView(APIView):
    @extend_schema(request=MessageInSerializer, responses={201: MessageSerializer})
    def post(self, request, number):
        """Add a customer message, a reply to the customer or an internal note."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = MessageInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message = services.message_add(ticket=ticket, actor=request.user, **serializer.validated_data)
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED)


class TicketAttachmentsView(APIView):
    parser_classes = [StrictMultiPartParser]

    @extend_schema(request={"multipart/form-data": AttachmentInSerializer},
                   responses={201: AttachmentSerializer})
    def post(self, request, number):
        """Upload evidence (jpg, png, webp, pdf, mp4), checked by content and size."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = AttachmentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = None
        if data.get("message"):
            message = ticket.messages.filter(pk=data["message"]).first()
            if message is None:
                raise NotFound(_("The ticket has no such message."), field="message")
        attachment = services.attachment_add(
            ticket=ticket, actor=request.user, upload=data["file"],
            evidence_kind=data["evidence_kind"], message=message,
        )
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)


class TicketAttachmentDownloadView(APIView):
    # The file is served with the type its content was checked to be at upload.
    @extend_schema(responses={(200, mime): OpenApiTypes.BINARY for mime in ALLOWED_TYPES})
    def get(self, request, number, attachment_id):
        """Download an evidence file of a ticket you may read."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        return evidence_response(get_object_or_404(ticket.attachments, pk=attachment_id))


class TicketEscalateView(APIView):
    @extend_schema(request=EscalateInSerializer, responses=TicketDetailSerializer)
    def post(self, request, number):
        """Escalate: raise the complaint level and move the ticket to the team for it."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = EscalateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_escalate(ticket=ticket, actor=request.user, **serializer.validated_data)
        return Response(_result(request, ticket))


class TicketPriorityView(APIView):
    @extend_schema(request=PriorityInSerializer, responses=TicketDetailSerializer)
    def post(self, request, number):
        """Change the ticket's priority, with a reason."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = PriorityInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.ticket_change_priority(ticket=ticket, actor=request.user, **serializer.validated_data)
        return Response(_result(request, ticket))


class TicketContactRevealView(APIView):
    @extend_schema(request=ContactRevealInSerializer, responses=ContactRevealOutSerializer)
    def post(self, request, number):
        """Reveal the ticket's customer's full phone number, with a reason; the reveal is logged."""

        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        # A caller who may not reveal is refused (403) before their reason is looked at.
        privacy.require_can_reveal_contact(request.user)
        serializer = ContactRevealInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        revealed = privacy.customer_contact_reveal(
            actor=request.user, customer=ticket.customer, ticket=ticket,
            reason=serializer.validated_data["reason"])
        return Response(ContactRevealOutSerializer(revealed).data)  # no-store: NoStoreMiddleware


class TicketHistoryView(APIView):
    @extend_schema(responses=HistoryEntrySerializer(many=True))
    def get(self, request, number):
        """Return the audit trail: actor, time, reason and changed fields (old → new)."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        return Response(HistoryEntrySerializer(selectors.ticket_history(ticket=ticket), many=True).data)


class TicketOptionsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, number):
        """Return what the rule table offers for the ticket's order and request, with the trace."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        decided = resolution_services.ticket_decision(ticket=ticket)
        if decided is None:
            return Response({"ruleset_version": None, "options": [], "trace": [],
                             "detail": _("Link the ticket to an order first.")})
        version, decision, _facts, _item = decided
        return Response(decision_as_dict(version, decision,
                                         reviewer=sees_rule_details(request.user)))


def _resolution(request, number, resolution_id):
    ticket = selectors.ticket_get_for_user(user=request.user, number=number)
    return get_object_or_404(
        ticket.resolutions.select_related("ticket", "proposed_by", "approved_by", "order_item"),
        pk=resolution_id,
    )


class TicketResolutionsView(APIView):
    @extend_schema(responses=ResolutionSerializer(many=True))
    def get(self, request, number):
        """List the ticket's resolutions."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        resolutions = ticket.resolutions.select_related("proposed_by", "approved_by", "order_item")
        return Response(ResolutionSerializer(resolutions, many=True,
                                             context={"request": request}).data)

    @extend_schema(request=ResolutionInSerializer, responses={201: ResolutionSerializer})
    def post(self, request, number):
        """Propose the resolution the policy offers for this kind (amounts come from the rules)."""
        ticket = selectors.ticket_get_for_user(user=request.user, number=number)
        serializer = ResolutionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        item = None
        if serializer.validated_data.get("sku"):
            item = ticket.order.items.filter(sku=serializer.validated_data["sku"]).first() \
                if ticket.order is not None else None
            if item is None:
                raise NotFound(_("The ticket's order has no item with this SKU."), field="sku")
        resolution = resolution_services.resolution_propose(
            ticket=ticket, actor=request.user, kind=serializer.validated_data["kind"],
            order_item=item,
        )
        resolution.refresh_from_db()
        return Response(ResolutionSerializer(resolution, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


class ResolutionTransitionsView(APIView):
    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request, number, resolution_id):
        """List the resolution transitions you may take now, with the inputs each needs."""
        resolution = _resolution(request, number, resolution_id)
        names = resolution_services.resolution_available_transitions(resolution=resolution, user=request.user)
        return Response([{"name": name, "fields": list(resolution_services.RESOLUTION_TRANSITIONS[name])}
                         for name in names])

    @extend_schema(request=ResolutionTransitionInSerializer, responses=ResolutionSerializer)
    def post(self, request, number, resolution_id):
        """Take a resolution transition: 409 wrong state, 403 not yours to take, 400 bad input."""
        resolution = _resolution(request, number, resolution_id)
        serializer = ResolutionTransitionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        params = dict(serializer.validated_data)
        resolution_services.resolution_transition(resolution=resolution, actor=request.user,
                                       name=params.pop("name"), **params)
        # Read it again rather than refresh_from_db(): django-fsm unprotects the state field
        # class-wide during a refresh, which races with other threads doing the same.
        resolution = _resolution(request, number, resolution_id)
        return Response(ResolutionSerializer(resolution, context={"request": request}).data)


class CustomerUpdateView(APIView):
    @extend_schema(request=CustomerUpdateInSerializer, responses=CustomerOutSerializer)
    def patch(self, request, external_id):
        """Change a customer's name, phone or tier, with a reason (the shop sync; supervisors)."""
        if not request.user.has_perm("shop.view_customer"):
            raise Http404(external_id)
        customer = get_object_or_404(Customer, external_id=external_id)
        serializer = CustomerUpdateInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = dict(serializer.validated_data)
        customer = shop_services.customer_update(customer=customer, actor=request.user,
                                            reason=changes.pop("reason"), **changes)
        return Response(CustomerOutSerializer(customer).data)
