"""The flow engine: pure functions from (flow, enrollment, contact, now, wake) to a new enrollment and
the effects a runner must carry out, each with a deterministic id. No I/O, no clock: time is an input.

Start with ``engine.enroll`` and ``engine.advance``; docs/FLOWS.md states the contract.
"""
