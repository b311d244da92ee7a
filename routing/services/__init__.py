from routing.services.claim import ticket_claim_next

__all__ = ["ticket_claim_next"]
