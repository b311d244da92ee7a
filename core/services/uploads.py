"""Multipart parsing that refuses file names carrying a path, instead of quietly trimming them.

Django's parser keeps only the last path component of an uploaded file's name. That is safe,
but it hides an attempt to write outside the upload folder; the API answers such a request
with a clear 400 so the caller learns the name was refused.
"""

import html
from collections.abc import Mapping
from typing import IO, TYPE_CHECKING, Any, cast

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.parsers import DataAndFiles, MultiPartParser

if TYPE_CHECKING:
    from django.http.request import _ImmutableQueryDict  # a name of the stubs only


def is_unsafe_file_name(name: str) -> bool:
    name = html.unescape(name)
    return (
        "/" in name or "\\" in name or name.strip() in {"", ".", ".."}
        or any(not char.isprintable() for char in name)
    )


class _StrictNameParser(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name: str) -> str | None:
        if is_unsafe_file_name(file_name):
            raise ValidationError(
                {"file": [_("The file name “%(name)s” is not allowed: use a plain name without "
                            "folders.") % {"name": file_name[:60]}]}
            )
        return super().sanitize_file_name(file_name)


class StrictMultiPartParser(MultiPartParser):
    """DRF's multipart parser, refusing path-like file names with a field error."""

    def parse(self, stream: IO[Any], media_type: str | None = None,
              parser_context: Mapping[str, Any] | None = None,
              ) -> "DataAndFiles[_ImmutableQueryDict, MultiValueDict]":
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _StrictNameParser(
                meta,
                stream,  # type: ignore[arg-type]  # DRF's stubs say IO, Django's a protocol
                request.upload_handlers,
                parsers.get_encoding(parser_context),  # type: ignore[attr-defined]  # not in stubs
            )
            data, files = parser.parse()
        except MultiPartParserError as exc:
            raise ParseError(f"Multipart form parse error - {exc}") from exc
        # Django's parser hands its QueryDict back immutable; its stubs do not say so.
        return DataAndFiles(cast("_ImmutableQueryDict", data), files)
