"""Adapters to AWS messaging: the activity queue and the domain-event bus (later SES, the CRM)."""
