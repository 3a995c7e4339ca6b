"""Use cases: each module orchestrates the pure domain, the stores and the adapters for one job."""
