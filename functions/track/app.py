"""Track: website events, the tracking snippet, email open pixels and click redirects, and the
unsubscribe and double opt-in confirm pages."""

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from leadflow.api.resolver import build_resolver
from leadflow.api.routes import preferences, tracking
from leadflow.observability import logger, metrics, tracer

# No validation layer: the routes parse their own bodies and take only a string path parameter,
# so the OpenAPI machinery would only add to the cold start (the document is built by admin).
app = build_resolver(tracking.router, preferences.router, validation=False)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP)
@tracer.capture_lambda_handler(capture_response=False)
@metrics.log_metrics
def lambda_handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
