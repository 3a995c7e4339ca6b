"""The `leadflow` command: apply definitions, look up contacts, run the local stack."""
