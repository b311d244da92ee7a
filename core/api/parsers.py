"""The API's JSON parser: bounded in depth, numbers and text before anything recurses.

The body's size is bounded by Django (DATA_UPLOAD_MAX_MEMORY_SIZE) as DRF reads it."""

import json
import math
import re
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Deeper than any request this API takes; deep enough never to bother a real client.
MAX_JSON_DEPTH = 32
# A signed 64-bit integer: what the database's biggest integer column holds. Serializers bound
# their integer fields by it (or by less), so no absurd number reaches a query.
MAX_INTEGER = 2**63 - 1
_MAX_INT_DIGITS = len(str(MAX_INTEGER))

# A JSON string, escapes included: the unrolled loop stays linear on long strings.
_JSON_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
# PostgreSQL refuses NUL in text; lone surrogates cannot be encoded to UTF-8 at all.
_UNSTORABLE_TEXT = re.compile("[\x00\ud800-\udfff]")


def has_unstorable_text(text: str) -> bool:
    """True if the text holds a character no database column can store (NUL, lone surrogate)."""
    return _UNSTORABLE_TEXT.search(text) is not None


def _check_depth(text: str) -> None:
    """Count brackets outside strings, so json never recurses deeper than the limit."""
    if text.count("[") + text.count("{") <= MAX_JSON_DEPTH:
        return
    depth = 0
    for bracket in _BRACKET.finditer(_JSON_STRING.sub('""', text)):
        depth += 1 if bracket.group() in "[{" else -1
        if depth > MAX_JSON_DEPTH:
            raise ParseError(_("The JSON is nested more than %(depth)d levels deep.")
                             % {"depth": MAX_JSON_DEPTH})


def _bounded_int(literal: str) -> int:
    digits = literal.lstrip("-")
    if len(digits) > _MAX_INT_DIGITS or abs(int(literal)) > MAX_INTEGER:
        raise ParseError(_("The number %(number)s is too large.") % {"number": literal[:30]})
    return int(literal)


def _finite_float(literal: str) -> float:
    value = float(literal)
    if not math.isfinite(value):
        raise ParseError(_("The number %(number)s is too large.") % {"number": literal[:30]})
    return value


def _refuse_constant(literal: str) -> None:
    raise ParseError(_("%(constant)s is not a number JSON allows.") % {"constant": literal})


def _check_text(value: Any) -> None:
    """Refuse keys and strings a database cannot store (NUL, lone surrogates)."""
    if isinstance(value, str):
        if has_unstorable_text(value):
            raise ParseError(_("Text may not contain NUL characters or invalid Unicode."))
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_text(key)
            _check_text(item)
    elif isinstance(value, list):
        for item in value:
            _check_text(item)


class StrictJSONParser(JSONParser):
    """DRF's JSON parser, answering 400 for bodies the database or Python's recursion cannot take."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise ParseError(_("The request body is not valid %(encoding)s.")
                             % {"encoding": encoding}) from exc
        _check_depth(text)
        try:
            data = json.loads(text, parse_int=_bounded_int, parse_float=_finite_float,
                              parse_constant=_refuse_constant)
        except ValueError as exc:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": exc}) from exc
        _check_text(data)
        return data
