"""One message of the sync queue, carried out: parsed, synced, and when it fails, given back to the
queue after a backoff (the worker sets the message's visibility timeout) or put in the dead-letter
queue for ``leadflow connectors replay``. Logs and metrics name ids, never contacts."""

from __future__ import annotations

from leadflow.adapters import sync_queue
from leadflow.observability import logger, metrics, redacted_failures
from leadflow.services import crm_sync


def run(body: str, *, message_id: str, receipt_handle: str, attempt: int, max_attempts: int) -> str:
    """The outcome's name; raises ``RetryLater`` (its text holds no personal data) so that the batch
    reports the record failed and the queue delivers it again after the backoff."""
    with redacted_failures(
        "sync message unreadable; it goes to the dead-letter queue", message_id=message_id
    ):
        try:
            message = crm_sync.SyncMessage.model_validate_json(body)
        except ValueError:
            metrics.add_metric(name="CrmSyncMalformed", unit="Count", value=1)
            sync_queue.dead_letter(body, reason="malformed")
            return "malformed"
    detail = message.detail
    later: crm_sync.RetryLater | None = None
    dead: crm_sync.DeadLetter | None = None
    with redacted_failures(
        "sync not done; it returns to the queue",
        message_id=message_id,
        event_id=detail.event_id,
        contact_id=detail.contact_id,
        campaign_id=detail.campaign_id,
    ):
        try:
            report = crm_sync.handle(message, attempt=attempt, max_attempts=max_attempts)
        except crm_sync.RetryLater as error:
            later = error
            sync_queue.retry_later(receipt_handle, error.seconds)
        except crm_sync.DeadLetter as error:
            dead = error
            sync_queue.dead_letter(body, reason=error.reason)
    if later is not None:  # raised outside the redacting block
        metrics.add_metric(name="CrmSyncRetried", unit="Count", value=1)
        logger.info(
            "sync retried",
            extra={"event_id": detail.event_id, "in_seconds": later.seconds, "reason": later.reason},
        )
        raise later
    if dead is not None:
        metrics.add_metric(name="CrmSyncDeadLettered", unit="Count", value=1)
        logger.warning("sync dead-lettered", extra={"event_id": detail.event_id, "reason": dead.reason})
        return "dead_letter"
    metrics.add_metric(name=f"CrmSync_{report.outcome}", unit="Count", value=1)
    logger.info(
        "sync", extra={"event_id": detail.event_id, "contact_id": detail.contact_id, **report.as_log()}
    )
    return report.outcome
