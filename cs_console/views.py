from django.shortcuts import render

from cs_console.home import panels_for
from cs_console.roles import Role


def home(request):
    """Show the signed-in user an overview shaped by their roles."""
    roles = [Role(value) for value in request.user.role_names]
    return render(
        request,
        "cs_console/home.html",
        {"roles": roles, "panels": panels_for(request.user), "nav_active": "home"},
    )
