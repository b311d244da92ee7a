from core.models.audit import AuditPurge, AuditPurgeAnchor
from core.models.user import User

__all__ = ["AuditPurge", "AuditPurgeAnchor", "User"]
