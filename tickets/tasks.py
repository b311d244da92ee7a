"""Background jobs for tickets; each takes ids and calls one service."""

from tickets.services import resolutions


def resolution_execute_task(resolution_id: int) -> str:
    """Execute an approved resolution (queued after approval or receipt of the goods)."""
    resolution = resolutions.resolution_execute(resolution_id=resolution_id)
    return resolution.state
