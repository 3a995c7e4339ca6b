"""The nurture runner: enrolling on triggers, the minute run over the due-time index, the step
worker that advances enrollments with the pure engine (``leadflow.domain.nurture``) and carries out
its effects once each, and the wake-ups the processor sends when an awaited activity arrives."""
