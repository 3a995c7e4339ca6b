"""HTTP layer: the resolver factory, request body parsing, routers per function, API models."""
