"""Leadflow: serverless marketing automation. The shared package of every Lambda, the CLI and the local stack."""

__version__ = "0.1.0"
