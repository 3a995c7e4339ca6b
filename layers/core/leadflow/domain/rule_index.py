"""A compiled index of scoring rules, so matching an activity costs the same at 10 or 1,000 rules.

Rules are already grouped by activity type; inside a type this narrows them by the value the
rule names: the form of a form_submit, the name of a custom event, the asset type of a
download, and for URL globs their longest literal path segment (``*/pricing/*`` is only a
candidate for URLs with a ``pricing`` segment). Candidates are then checked in full.
Built once per scoring model and cached while the model is in use.
"""

from __future__ import annotations

import re
from fnmatch import translate
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from leadflow.definitions.scoring import Scoring, ScoringRule
    from leadflow.domain.activities import Activity

_WILDCARDS = re.compile(r"[*?\[]")
_KEYED = {"form_submit": "form", "custom": "name", "download": "asset_type"}
_PROPERTY = {"form": "form_id", "name": "name", "asset_type": "asset_type"}


def _literal_segment(glob: str) -> str | None:
    """The longest wildcard-free path segment of a URL glob (lower-cased), if any."""
    segments = [part for part in glob.lower().split("/")[1:] if part and not _WILDCARDS.search(part)]
    return max(segments, key=len) if segments else None


def url_segments(url: str) -> set[str]:
    parts = urlsplit(url.lower())
    return {part for part in (parts.netloc + parts.path).split("/") if part}


class RuleIndex:
    def __init__(self, scoring: Scoring) -> None:
        self._order: dict[str, int] = {}
        self._any: dict[str, list[ScoringRule]] = {}
        self._by_value: dict[tuple[str, str], list[ScoringRule]] = {}
        self._by_segment: dict[tuple[str, str], list[ScoringRule]] = {}
        self._url_pattern: dict[str, re.Pattern[str]] = {}
        for position, rule in enumerate(scoring.rules):
            self._order[rule.id] = position
            self._add(rule)

    def _add(self, rule: ScoringRule) -> None:
        kind = str(rule.activity)
        when = rule.when
        if when.url is not None:
            self._url_pattern[rule.id] = re.compile(translate(when.url.lower()))
        key_field = _KEYED.get(kind)
        key_value = getattr(when, key_field) if key_field else None
        if key_value is not None:
            self._by_value.setdefault((kind, str(key_value)), []).append(rule)
            return
        segment = _literal_segment(when.url) if when.url else None
        if segment is not None:
            self._by_segment.setdefault((kind, segment), []).append(rule)
            return
        self._any.setdefault(kind, []).append(rule)

    def candidates(self, activity: Activity) -> list[ScoringRule]:
        """The rules that may match, in bundle order; each still needs its full condition."""
        kind = activity.type
        found = list(self._any.get(kind, ()))
        key_field = _KEYED.get(kind)
        if key_field is not None:
            value = activity.properties.get(_PROPERTY[key_field])
            if value is not None:
                found += self._by_value.get((kind, str(value)), ())
        url = self.url_of(activity)
        if url and self._by_segment:
            for segment in url_segments(url):
                found += self._by_segment.get((kind, segment), ())
        if len(found) > 1:
            found.sort(key=lambda rule: self._order[rule.id])
        return found

    def url_matches(self, rule: ScoringRule, activity: Activity) -> bool:
        pattern = self._url_pattern.get(rule.id)
        return pattern is None or pattern.match(self.url_of(activity).lower()) is not None

    @staticmethod
    def url_of(activity: Activity) -> str:
        return str(activity.properties.get("url") or activity.context.page_url or "")


_cache: dict[int, tuple[Any, RuleIndex]] = {}


def index_for(scoring: Scoring) -> RuleIndex:
    """The index of a scoring model; the cache holds the model itself, so its id stays unique."""
    entry = _cache.get(id(scoring))
    if entry is None or entry[0] is not scoring:
        if len(_cache) >= 4:
            _cache.clear()
        entry = (scoring, RuleIndex(scoring))
        _cache[id(scoring)] = entry
    return entry[1]
