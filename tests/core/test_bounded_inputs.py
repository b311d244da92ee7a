"""Every value the API takes in is bounded: no absurd number or endless text reaches a query."""

import pytest
from rest_framework import serializers

from desk.api import serializers as desk_serializers
from knowledge.api import serializers as knowledge_serializers
from policies import serializers as policy_serializers

INPUT_SERIALIZERS = [
    *(getattr(module, name) for module in (desk_serializers, knowledge_serializers)
      for name in dir(module) if name.endswith(("InSerializer", "QuerySerializer"))),
    desk_serializers.IntakeSerializer,
    policy_serializers.FactsSerializer,
]
# Fields bounded elsewhere, with the reason.
BOUNDED_ELSEWHERE = {
    # The reveal service refuses an overlong reason after its permission check (403 first).
    "ContactRevealInSerializer.reason",
}


def _unbounded_fields(fields, prefix: str):
    for name, field in fields.items():
        if field.read_only:
            continue
        if isinstance(field, serializers.ListField):
            field = field.child
        if isinstance(field, serializers.Serializer):
            yield from _unbounded_fields(field.fields, f"{prefix}{name}.")
        elif _is_unbounded(field):
            yield prefix + name


def _is_unbounded(field) -> bool:
    if isinstance(field, serializers.IntegerField):
        return field.max_value is None
    if isinstance(field, serializers.DecimalField):
        return field.max_digits is None
    return type(field) is serializers.CharField and field.max_length is None


@pytest.mark.parametrize("serializer", INPUT_SERIALIZERS, ids=lambda cls: cls.__name__)
def test_input_serializers_bound_their_numbers_and_texts(serializer):
    unbounded = set(_unbounded_fields(serializer().fields, f"{serializer.__name__}."))

    assert unbounded <= BOUNDED_ELSEWHERE


def test_an_absurd_count_in_the_facts_is_refused(api, supervisor):
    api.force_authenticate(supervisor)

    response = api.post("/api/v1/policies/evaluate/",
                        {"item": {"quantity": 10**15}, "customer_history": {"refunds_90d": 10**15}},
                        format="json")

    assert response.status_code == 400
    assert "quantity" in response.json()["item"]
