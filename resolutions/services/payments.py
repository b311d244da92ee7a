"""The payment-gateway boundary: plain data in, plain data out, idempotent by key.

A refund, a cash compensation, a coupon or points go through `get_gateway().pay(...)` with
the resolution's idempotency key; the gateway promises that the same key never pays twice,
so a retry after a timeout or a double click is harmless.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string
from prometheus_client import Counter

from resolutions.models import SimulatedGatewayRecord

# Every refusal the gateway answered, by payout kind, on /metrics (docs/operations.md).
PAYMENT_FAILURES = Counter(
    "cs_payment_failures", "Payments the gateway refused, by payout kind", ["kind"])


@dataclass(frozen=True)
class PaymentRequest:
    idempotency_key: str
    kind: str            # refund | compensation | coupon | points
    amount: Decimal
    points: int
    order_number: str
    payment_channel: str  # refunds go back the way the money came (原路退回)


@dataclass(frozen=True)
class PaymentResult:
    reference: str
    replayed: bool = False  # the gateway had already paid this key


class PaymentFailed(Exception):
    """The gateway refused; the message says why (closed account, frozen card, ...)."""


class Gateway(Protocol):
    def pay(self, request: PaymentRequest) -> PaymentResult:
        """Pay once per idempotency key; raise PaymentFailed when the gateway refuses."""


class SimulatedGateway:
    """A gateway that pays instantly and remembers every key in the database.

    Orders listed in settings.SIMULATED_GATEWAY_FAILURES (or "*" for all) fail, so the
    failure path can be tried in the demo and the tests.
    """

    def pay(self, request: PaymentRequest) -> PaymentResult:

        existing = SimulatedGatewayRecord.objects.filter(
            idempotency_key=request.idempotency_key).first()
        if existing is not None:
            return PaymentResult(reference=existing.reference, replayed=True)
        failures = getattr(settings, "SIMULATED_GATEWAY_FAILURES", ())
        if "*" in failures or request.order_number in failures:
            raise PaymentFailed(f"account for order {request.order_number} is frozen (simulated)")
        reference = f"SIM-{uuid.uuid4().hex[:16].upper()}"
        try:
            with transaction.atomic():
                SimulatedGatewayRecord.objects.create(
                    idempotency_key=request.idempotency_key, amount=request.amount,
                    reference=reference,
                )
        except IntegrityError:
            # A concurrent attempt with the same key paid first; answer with its payment.
            existing = SimulatedGatewayRecord.objects.get(idempotency_key=request.idempotency_key)
            return PaymentResult(reference=existing.reference, replayed=True)
        return PaymentResult(reference=reference)


def get_gateway() -> Gateway:
    """Return the configured gateway (settings.PAYMENT_GATEWAY)."""
    gateway: Gateway = import_string(settings.PAYMENT_GATEWAY)()
    return gateway
