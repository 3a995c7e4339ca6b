"""``load_stored``: a bundle read back from the store, trusted as the apply that stored it checked it.

Every Lambda reads the active bundle this way on each cache refresh, so it must be cheap (no
cross-reference walk, no Jinja2 import) and must never refuse what is already running: the
checks of a newer release apply to the next bundle applied, not to the one in the store.
"""

from __future__ import annotations

from typing import Any

from leadflow.definitions.base import STORED
from leadflow.definitions.bundle import Bundle

_CONTEXT = {STORED: True}


def load_stored(data: dict[str, Any]) -> Bundle:
    """The ``Bundle`` of stored JSON data (``Bundle.to_json_dict()``), its shape validated only."""
    return Bundle.model_validate(data, context=_CONTEXT)
