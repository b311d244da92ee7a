"""URLs of the agent console, included at "tickets/"."""

from django.urls import path
from django.views.generic import RedirectView

from desk.views import approvals, evidence, intake, queues, workspace
from supervision.views import privacy

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="console-queue", permanent=False),
         {"key": "mine"}, name="console-home"),
    path("queue/<slug:key>/", queues.queue, name="console-queue"),
    path("queue-counts/", queues.counts, name="console-queue-counts"),
    path("claim-next/", queues.claim_next, name="console-claim-next"),
    path("bulk/", queues.bulk, name="console-bulk"),
    path("new/", intake.phone_intake, name="console-new-ticket"),
    path("new/customers/", intake.customer_search, name="console-customer-search"),
    path("approvals/", approvals.inbox, name="console-approvals"),
    path("approvals/<int:pk>/", approvals.decide, name="console-approval-decide"),
    path("<str:number>/", workspace.workspace, name="console-ticket"),
    path("<str:number>/reply/", workspace.reply, name="console-reply"),
    path("<str:number>/transition/", workspace.transition, name="console-transition"),
    path("<str:number>/escalate/", workspace.escalate, name="console-escalate"),
    path("<str:number>/adopt-reported/", workspace.adopt_reported,
         name="console-adopt-reported"),
    path("<str:number>/propose/", workspace.propose, name="console-propose"),
    path("<str:number>/resolutions/<int:pk>/", workspace.resolution_action,
         name="console-resolution-action"),
    path("<str:number>/audit/", workspace.audit, name="console-audit"),
    path("<str:number>/timeline/", workspace.timeline, name="console-timeline"),
    path("<str:number>/attachments/<int:pk>/", evidence.download, name="console-attachment"),
    path("<str:number>/scripts/", workspace.scripts, name="console-scripts"),
    path("<str:number>/presence/", workspace.presence, name="console-presence"),
    path("<str:number>/customer-history/", workspace.customer_history,
         name="console-customer-history"),
    path("<str:number>/reveal-contact/", privacy.reveal_contact, name="console-reveal-contact"),
]
