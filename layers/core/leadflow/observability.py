"""The only Logger, Tracer and Metrics of the process, shared by every handler and module."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
