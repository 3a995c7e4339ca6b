"""The in-process moto AWS that the request-counting benchmarks run on: the template's
resources, the environment a Lambda gets, and fresh cached clients and definitions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

BENCH_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Bench",
    "POWERTOOLS_METRICS_DISABLED": "true",  # no EMF JSON lines between the tables
    "DEFINITIONS_CACHE_SECONDS": "300",
}


@contextmanager
def moto_stack() -> Iterator[None]:
    from moto import mock_aws

    os.environ.update(BENCH_ENVIRONMENT)
    os.environ.pop("AWS_ENDPOINT_URL", None)
    from leadflow import aws
    from leadflow.services import definitions
    from leadflow.settings import reset_settings
    from tests.support.moto_stack import create_stack

    with mock_aws():
        os.environ.update({**create_stack().environment(), **BENCH_ENVIRONMENT})  # the bench's settings win
        reset_settings()
        aws.reset_clients()
        definitions.forget_cached()
        yield
