"""Clients of external CRMs (Salesforce, Dynamics 365, SugarCRM) behind one interface.

``base`` holds the interface and the errors, ``http`` the JSON-over-HTTP plumbing every client
shares, one module per vendor, and ``registry.connector_for`` picks the client for a kind.
See docs/CONNECTORS.md. This package never imports boto3: credentials come in as values.
"""
