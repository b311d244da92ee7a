from csp.constants import UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.urls import include, path
from django.utils.translation import gettext_lazy as _
from django.views.i18n import set_language
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from core.observability import health, metrics
from desk import views
from supervision.views import survey as views_survey

admin.site.site_header = _("After-sales console administration")
admin.site.site_title = _("After-sales console")
admin.site.index_title = _("Business rules and data")

handler403 = "desk.views.permission_denied"
handler404 = "core.views.common.page_not_found"

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    # The language can be chosen on the log-in page too, before anyone is signed in.
    path("i18n/setlang/", login_not_required(set_language), name="set_language"),
    path("admin/", admin.site.urls),
    path("policies/", include("policies.urls")),
    path("notifications/", include("notifications.urls")),
    path("tickets/", include("desk.urls")),
    path("knowledge/", include("knowledge.urls")),
    path("qa/", include("supervision.urls")),
    path("dashboard/", include("reporting.urls")),
    path("survey/<str:token>/", views_survey.survey, name="survey"),
    path("api/v1/", include("knowledge.api.urls")),
    path("api/v1/", include("desk.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI loads its start-up script from a URL of its own (the split view), so the
    # policy still refuses inline scripts; its React components set inline styles.
    path("api/docs/", csp_update({"style-src": [UNSAFE_INLINE]})(
        SpectacularSwaggerSplitView.as_view(url_name="api-schema")), name="api-docs"),
    # Probes and metrics are for machines: no log-in; the metrics view checks its own token.
    path("health/live/", login_not_required(health.liveness), name="health-live"),
    path("health/ready/", login_not_required(health.readiness), name="health-ready"),
    path("metrics", login_not_required(metrics.metrics_view), name="metrics"),
]
