"""Notifications to the people who must act (docs/notifications.md): events queue messages in the
register (``notification``) in the same transaction as the action that caused them, a sender
delivers them later with retries, and a daily DAG sweeps the deadlines. Nothing here sends inline."""
