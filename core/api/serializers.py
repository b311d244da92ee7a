"""Serializer plumbing shared by the apps' APIs."""

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import serializers


class SharedFieldsMixin:
    """Give each serializer instance shallow copies of the declared fields.

    DRF deep-copies them for every instance, which re-creates each field with deep copies
    of its arguments (the choice lists with their translatable labels): a tenth of an API
    intake's Python. The copies only read what they share (choices, validators); binding
    sets name and parent on each copy alone. For input serializers on hot paths.
    """

    # Set on each serializer class by DRF's metaclass.
    _declared_fields: dict[str, serializers.Field]

    def get_fields(self) -> dict[str, serializers.Field]:
        return {name: _shallow_copy(field) for name, field in self._declared_fields.items()}


def _shallow_copy(field: serializers.Field) -> serializers.Field:
    """What copy.copy() makes of a field (a new instance with the same attributes), without
    its generic protocol (__reduce_ex__, copyreg): half the cost, on every request."""
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    return clone


# What a JSON value must be for each kind of field, most specific first. DRF would turn 0 into
# "0" for a text field and "12" into 12 for a number; the schema promises a type, so a value of
# another type is refused (400) instead of guessed at. Form and multipart bodies (uploads) carry
# only text and are left to the fields themselves.
_JSON_TYPES: list[tuple[type[serializers.Field], tuple[type, ...], Promise]] = [
    (serializers.BooleanField, (bool,), gettext_lazy("true or false")),
    (serializers.IntegerField, (int,), gettext_lazy("a whole number")),
    (serializers.FloatField, (int, float), gettext_lazy("a number")),
    (serializers.DecimalField, (str,), gettext_lazy('an amount as text, such as "12.50"')),
    (serializers.DateTimeField, (str,), gettext_lazy("a date and time as text")),
    (serializers.DateField, (str,), gettext_lazy("a date as text")),
    (serializers.MultipleChoiceField, (list,), gettext_lazy("a list")),
    (serializers.ListField, (list,), gettext_lazy("a list")),
    (serializers.CharField, (str,), gettext_lazy("text")),
    (serializers.SlugRelatedField, (str,), gettext_lazy("text")),
    (serializers.PrimaryKeyRelatedField, (int,), gettext_lazy("a whole number")),
    (serializers.BaseSerializer, (dict,), gettext_lazy("an object")),
]


def _json_type_error(field: serializers.Field, value: object) -> Promise | None:
    """What the value should have been, or None if its JSON type fits the field."""
    if value is None:
        return None  # allow_null decides
    if isinstance(field, serializers.ChoiceField) and not isinstance(
            field, serializers.MultipleChoiceField):
        # A choice is text, or a whole number where the choices are numbers (priorities).
        expected_type = int if all(isinstance(key, int) for key in field.choices) else str
        if isinstance(value, bool) or not isinstance(value, expected_type):
            return gettext_lazy("one of the listed values")
        return None
    for field_class, types, expected in _JSON_TYPES:
        if isinstance(field, field_class):
            if (isinstance(value, bool) and bool not in types) or not isinstance(value, types):
                return expected
            if isinstance(field, serializers.ListField) and isinstance(value, list):
                return next((error for item in value
                             if (error := _json_type_error(field.child, item))), None)
            return None
    return None


def strict_json_types(to_internal_value):
    """Wrap Serializer.to_internal_value: refuse unknown fields, and check each JSON value's
    type before DRF coerces it."""

    def checked(self, data):
        if isinstance(data, dict) and not isinstance(data, QueryDict):
            # A field the operation does not take is refused, not silently dropped (a typo
            # would otherwise lose what the caller meant); the schema says so
            # (additionalProperties: false).
            known = {field.field_name for field in self._writable_fields}
            unknown = sorted(str(name) for name in data if name not in known)
            if unknown:
                raise serializers.ValidationError(
                    {name[:100]: [_("This operation takes no such field.")] for name in unknown[:20]},
                    code="invalid")
            errors = {}
            for field in self._writable_fields:
                if field.field_name in data:
                    expected = _json_type_error(field, data[field.field_name])
                    if expected is not None:
                        errors[field.field_name] = [
                            _("Expected %(expected)s.") % {"expected": expected}]
            if errors:
                raise serializers.ValidationError(errors, code="invalid")
        return to_internal_value(self, data)

    checked.strict_json_types = True  # type: ignore[attr-defined]
    return checked


def install_strict_json_types() -> None:
    """Make every serializer check JSON value types (once, at start-up: core.apps)."""
    current = serializers.Serializer.to_internal_value
    if not getattr(current, "strict_json_types", False):
        serializers.Serializer.to_internal_value = strict_json_types(current)  # type: ignore[method-assign]
