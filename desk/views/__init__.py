from django.shortcuts import render

from core.models.roles import Role
from desk.selectors.home import day_for, panels_for


def home(request):
    """Show the signed-in user an overview shaped by their roles."""
    roles = [Role(value) for value in request.user.role_names]
    return render(
        request,
        "desk/home.html",
        {"roles": roles, "day": day_for(request.user), "panels": panels_for(request.user),
         "nav_active": "home"},
    )


def permission_denied(request, exception=None):
    """Explain a refused action kindly; htmx requests get the message where alerts go."""
    message = str(exception) if exception and str(exception) else ""
    if getattr(request, "htmx", False):
        response = render(request, "403_fragment.html", {"exception": message}, status=403)
        response["HX-Retarget"] = "#flash"
        response["HX-Reswap"] = "innerHTML"
        return response
    return render(request, "403.html", {"exception": message}, status=403)
