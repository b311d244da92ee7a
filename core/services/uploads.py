"""Multipart parsing that refuses file names carrying a path, instead of quietly trimming them.

Django's parser keeps only the last path component of an uploaded file's name. That is safe,
but it hides an attempt to write outside the upload folder; the API answers such a request
with a clear 400 so the caller learns the name was refused.
"""

import html

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import DataAndFiles, MultiPartParser, get_encoding


def is_unsafe_file_name(name: str) -> bool:
    name = html.unescape(name)
    return (
        "/" in name or "\\" in name or name.strip() in {"", ".", ".."}
        or any(not char.isprintable() for char in name)
    )


class _StrictNameParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        if is_unsafe_file_name(file_name):
            raise ValidationError(
                {"file": [_("The file name “%(name)s” is not allowed: use a plain name without "
                            "folders.") % {"name": file_name[:60]}]}
            )
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing path-like file names with a field error."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _StrictNameParser(meta, stream, request.upload_handlers,
                                       get_encoding(parser_context))
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        return DataAndFiles(data, files)
