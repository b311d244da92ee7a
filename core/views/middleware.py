"""The project's middleware: log-in required, refusing malformed input, a lost database, headers."""

import functools
import re
from urllib.parse import unquote_to_bytes

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject
from csp.middleware import CSPMiddleware as DjangoCSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import LoginRequiredMiddleware
from django.core.handlers.wsgi import get_bytes_from_wsgi
from django.core.signals import setting_changed
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from core.api.parsers import MAX_INTEGER, has_unstorable_text

# Seconds a client should wait before trying again after the database went away.
DATABASE_RETRY_AFTER_SECONDS = 5

# A whole number larger than a signed 64-bit integer is no id, page or amount. A long run of
# digits below that (a marketplace's 19-digit order number) is ordinary text.
_WHOLE_NUMBER = re.compile(r"-?[0-9]{19,}")
_MAX_INTEGER_DIGITS = len(str(MAX_INTEGER))


def _is_absurd_number(text: str) -> bool:
    if _WHOLE_NUMBER.fullmatch(text) is None:
        return False
    digits = text.lstrip("-").lstrip("0") or "0"
    return len(digits) > _MAX_INTEGER_DIGITS or int(digits) > MAX_INTEGER


class ConsoleLoginRequiredMiddleware(LoginRequiredMiddleware):
    """Send anonymous users to log in, except on the API (which answers 401/403 itself)."""

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.path_info.startswith("/api/"):
            return None
        return super().process_view(request, view_func, view_args, view_kwargs)


def is_api_request(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _is_clean_utf8(raw: bytes) -> bool:
    if b"\x00" in raw:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _urlencoded_is_clean(encoded: bytes) -> bool:
    """Check a query string or form body, each name and value decoded from %XX."""
    for pair in encoded.replace(b"+", b" ").split(b"&"):
        for part in pair.split(b"=", 1):
            decoded = unquote_to_bytes(part)
            if not _is_clean_utf8(decoded) or _is_absurd_number(decoded.decode()):
                return False
    return True


def _path_is_clean(request: HttpRequest) -> bool:
    # Django has already turned invalid UTF-8 in the path back into %XX text, which any view
    # takes as a name it does not know; a NUL byte it leaves in.
    path = request.path_info
    return not has_unstorable_text(path) and not any(
        _is_absurd_number(part) for part in path.split("/"))


def _headers_are_clean(request: HttpRequest) -> bool:
    """No NUL in a header: some are stored or looked up (Idempotency-Key, the session cookie)."""
    return not any("\x00" in value for key, value in request.META.items()
                   if key.startswith("HTTP_") and isinstance(value, str))


def _form_is_clean(request: HttpRequest) -> bool:
    """Check the fields of a posted form (the API's JSON parser checks JSON bodies itself)."""
    if request.content_type == "application/x-www-form-urlencoded":
        return _urlencoded_is_clean(request.body)
    # Parsing the API's uploads here would pass them by its strict multipart parser.
    if request.content_type == "multipart/form-data" and not is_api_request(request):
        return not any(has_unstorable_text(value)
                       for _name, values in request.POST.lists() for value in values)
    return True


def refusal_response(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """Answer bad input: JSON on the API, the console's error page otherwise."""
    if is_api_request(request):
        return JsonResponse({"detail": message}, status=status)
    return render(request, "bad_input.html", {"status": status, "message": message}, status=status)


class MalformedInputMiddleware:
    """Refuse NUL bytes, invalid UTF-8 and absurdly long numbers before any view runs.

    The database would refuse them with a server error deep inside a query; here they get a
    clear answer once, for every page and API route: 404 for the path, 400 for the query string
    and form fields.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not _path_is_clean(request):
            return refusal_response(request, 404, _(
                "No such page: the address holds a NUL byte, invalid UTF-8 or an absurd number."))
        query = get_bytes_from_wsgi(request.META, "QUERY_STRING", "")
        if not _urlencoded_is_clean(query):
            return refusal_response(request, 400, _(
                "The query string holds a NUL byte, invalid UTF-8 or an absurd number."))
        if not _headers_are_clean(request):
            return refusal_response(request, 400, _("A request header holds a NUL byte."))
        if not _form_is_clean(request):
            return refusal_response(request, 400, _(
                "A form field holds a NUL byte, invalid UTF-8 or an absurd number."))
        return self.get_response(request)


class DatabaseUnavailableMiddleware:
    """Answer 503 with Retry-After when the database connection is lost or refused.

    The request may have committed before the connection went away; clients retry, and the API's
    Idempotency-Key makes a retried intake return the same ticket.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, OperationalError | InterfaceError):
            return None
        message = _("The database is unavailable for a moment. Please try again shortly.")
        response: HttpResponse
        if is_api_request(request):
            response = JsonResponse({"detail": message}, status=503)
        else:
            # A page of its own: the console's layout would ask the lost database for the user.
            response = HttpResponse(render_to_string(
                "503.html", {"message": message, "language": get_language()}), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER_SECONDS)
        return response


# What a view or decorator may put on a response to change its policy (django-csp's names).
_OWN_POLICY_ATTRIBUTES = ("_csp_config", "_csp_update", "_csp_replace", "_csp_exempt")


@functools.cache
def _site_policy() -> str:
    """The Content-Security-Policy header every ordinary response gets, from the settings."""
    return build_policy()


def _forget_site_policy(*, setting: str, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _site_policy.cache_clear()


setting_changed.connect(_forget_site_policy)


class CSPMiddleware(DjangoCSPMiddleware):
    """django-csp's middleware, with the site-wide header built once, not for every response.

    Building it (two policies copied into dataclasses and joined into text, the report-only
    one empty) cost 1.7 % of an intake's CPU. A response that sets its own policy
    (`csp_update` on the API documentation), a request that used a nonce, a report-only
    policy or excluded paths all go through django-csp's own code, as before.
    """

    def process_response(self, request, response):
        if (getattr(request, "_csp_nonce", None) is not None
                or any(hasattr(response, name) for name in _OWN_POLICY_ATTRIBUTES)
                or getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
                or (getattr(settings, "CONTENT_SECURITY_POLICY", None) or {}).get(
                    "EXCLUDE_URL_PREFIXES")
                or settings.DEBUG):
            return super().process_response(request, response)
        policy = _site_policy()
        if policy and HEADER not in response:
            response[HEADER] = policy
        # As django-csp does: a nonce asked for after the header is written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)
        return response


class PermissionsPolicyMiddleware:
    """Send settings.PERMISSIONS_POLICY, switching off browser features the console never uses."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Permissions-Policy", settings.PERMISSIONS_POLICY)
        return response


class NoStoreMiddleware:
    """Keep every page and API answer out of browser and proxy caches.

    Pages and answers show customer names, phone numbers and orders; a shared computer's back
    button or a caching proxy must not give them to the next person. Static files keep the
    long-lived caching WhiteNoise gives them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not request.path_info.startswith(settings.STATIC_URL):
            patch_cache_control(response, no_store=True)
        return response
