from django.urls import path

from tickets import api

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
    path("tickets/<str:number>/history/", api.TicketHistoryView.as_view(), name="ticket-history"),
]
