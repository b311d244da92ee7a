"""POST /api/v1/policies/evaluate/: what the rule table offers for a described case."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from policies.serializers import FactsSerializer
from policies.services import rulebook
from policies.views.presentation import decision_as_dict


class ReadsPolicyRules(BasePermission):
    """The rule table's decisions are for those who may read the rule table."""

    def has_permission(self, request, view) -> bool:
        return request.user.has_perm("policies.view_policyrule")


class EvaluateView(APIView):
    permission_classes = [IsAuthenticated, ReadsPolicyRules]

    @extend_schema(request=FactsSerializer, responses=OpenApiTypes.OBJECT)
    def post(self, request):
        """Decide the case with the current rule table: options, amounts and the full trace."""
        serializer = FactsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version, decision = rulebook.decide(serializer.to_facts())
        return Response(decision_as_dict(version, decision))
