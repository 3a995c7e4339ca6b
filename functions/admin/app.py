"""Admin: definitions and contacts (IAM-authorised), and the public OpenAPI document."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.api.resolver import build_resolver
from leadflow.api.routes import admin, docs, privacy, reports
from leadflow.observability import logger, metrics, tracer

app = build_resolver(admin.router, privacy.router, docs.router, reports.router)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
