"""API plumbing shared by every app: service errors become HTTP answers."""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import ValidationError as DRFValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from core.services.exceptions import Conflict, NotFound


def validation_error_detail(error: DjangoValidationError) -> dict:
    """Return a Django ValidationError as DRF-style field errors."""
    if hasattr(error, "error_dict"):
        return {field: [str(message) for message in messages]
                for field, messages in error.message_dict.items()}
    return {"non_field_errors": [str(message) for message in error.messages]}


def exception_handler(exc, context):
    """Answer service errors: bad input 400 (an oversized body too), forbidden 403 (DRF), not found 404, conflicts 409."""
    if isinstance(exc, RequestDataTooBig | TooManyFieldsSent):
        # Django's limits on what a request body may hold; its own answer would be an HTML page.
        return Response({"detail": _("The request body is too large or has too many fields.")},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoValidationError):
        return Response(validation_error_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        return Response({"detail": exc.message, "code": exc.code}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, NotFound):
        # The field that named the missing record, when one did, as a field error too.
        fields = {exc.field: [exc.message]} if exc.field else {}
        return Response({"detail": exc.message, **fields}, status=status.HTTP_404_NOT_FOUND)
    response = drf_exception_handler(exc, context)
    if isinstance(exc, DRFValidationError) and response is not None and _names_only_unknown_objects(
            exc.get_codes()):
        # Every refused field names a record that does not exist (or is hidden): the same 404
        # a service's NotFound answers, with the fields that named them.
        response.status_code = status.HTTP_404_NOT_FOUND
    return response


def _names_only_unknown_objects(codes) -> bool:
    if isinstance(codes, dict):
        return bool(codes) and all(_names_only_unknown_objects(code) for code in codes.values())
    if isinstance(codes, list):
        return bool(codes) and all(_names_only_unknown_objects(code) for code in codes)
    return codes == "does_not_exist"


class Pagination(PageNumberPagination):
    """Page numbers, with the page size chosen by the caller up to a cap."""

    page_size_query_param = "page_size"
    max_page_size = 200
