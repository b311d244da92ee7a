"""The console's notifications page: a user's internal notifications, and marking them read."""

from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from notifications.services import delivery as notifications
from notifications.services import outbox

PAGE_SIZE = 25


def _back_to_list(request):
    page = request.POST.get("page", "")
    url = reverse("notification-list")
    # Only a page number goes back into the URL; anything else the form sent is ignored.
    return redirect(f"{url}?page={page}" if page.isdigit() else url)


@require_GET
def notification_list(request):
    """Show the signed-in user's console notifications, unread first."""
    rows = notifications.notification_list_for_user(user=request.user)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "notifications/notifications.html",
        {
            "page": page,
            "unread_count": notifications.notification_count_unread(user=request.user),
            "nav_active": "notifications",
        },
    )


@require_POST
def notification_mark_read(request, pk: int):
    """Mark one of the user's notifications read; anyone else's is not found."""
    notification = notifications.notification_get_for_user(user=request.user, pk=pk)
    outbox.notification_mark_read(actor=request.user, notification=notification)
    return _back_to_list(request)


@require_POST
def notification_mark_all_read(request):
    """Mark all of the user's notifications read."""
    outbox.notification_mark_all_read(actor=request.user)
    return _back_to_list(request)
