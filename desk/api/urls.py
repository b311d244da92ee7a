from django.urls import path

from desk.api import tickets as api
from policies import api as policies_api

urlpatterns = [
    path("tickets/", api.TicketListCreateView.as_view(), name="ticket-list"),
    path("tickets/<str:number>/", api.TicketDetailView.as_view(), name="ticket-detail"),
    path("tickets/<str:number>/transitions/", api.TicketTransitionsView.as_view(),
         name="ticket-transitions"),
    path("tickets/<str:number>/messages/", api.TicketMessagesView.as_view(), name="ticket-messages"),
    path("tickets/<str:number>/attachments/", api.TicketAttachmentsView.as_view(),
         name="ticket-attachments"),
    path("tickets/<str:number>/attachments/<int:attachment_id>/",
         api.TicketAttachmentDownloadView.as_view(), name="ticket-attachment-download"),
    path("tickets/<str:number>/escalate/", api.TicketEscalateView.as_view(), name="ticket-escalate"),
    path("tickets/<str:number>/priority/", api.TicketPriorityView.as_view(), name="ticket-priority"),
    path("tickets/<str:number>/reveal-contact/", api.TicketContactRevealView.as_view(),
         name="ticket-reveal-contact"),
    path("tickets/<str:number>/history/", api.TicketHistoryView.as_view(), name="ticket-history"),
    path("tickets/<str:number>/options/", api.TicketOptionsView.as_view(), name="ticket-options"),
    path("tickets/<str:number>/resolutions/", api.TicketResolutionsView.as_view(),
         name="ticket-resolutions"),
    path("tickets/<str:number>/resolutions/<int:resolution_id>/transitions/",
         api.ResolutionTransitionsView.as_view(), name="resolution-transitions"),
    path("customers/<str:external_id>/", api.CustomerUpdateView.as_view(),
         name="customer-update"),
    path("policies/evaluate/", policies_api.EvaluateView.as_view(), name="policy-evaluate"),
]
