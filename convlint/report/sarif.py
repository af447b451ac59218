"""SARIF 2.1.0 as GitHub code scanning accepts it (see ECOSYSTEM.md §4)."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Sequence, Type
from urllib.parse import quote

from convlint import DOCS_URL, __version__
from convlint.diagnostics import Diagnostic
from convlint.report import rule_url
from convlint.rules import ALL_RULES
from convlint.rules.base import Rule

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
FINGERPRINT_KEY = "convlintFingerprint/v1"

_WHAT_IT_DOES = re.compile(r"^## What it does\s*$(?P<body>.*?)(?=^## |\Z)", re.MULTILINE | re.DOTALL)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PLACEHOLDER = re.compile(r"\s*\{[^}]*\}")


def _description(rule: Type[Rule]) -> str:
    """The "What it does" paragraph on one line; the summary without its placeholders when the
    documentation has none, because a message template reads badly as a description."""
    match = _WHAT_IT_DOES.search(rule.documentation())
    if match and match.group("body").strip():
        return " ".join(match.group("body").split())
    return _PLACEHOLDER.sub("", rule.summary).rstrip(" :")


def _rule_descriptor(rule: Type[Rule]) -> Dict[str, Any]:
    description = _description(rule)
    documentation = rule.documentation() or description
    return {
        "id": rule.code,
        "name": rule.name,
        "shortDescription": {"text": _SENTENCE_END.split(description, maxsplit=1)[0]},
        "fullDescription": {"text": description},
        "help": {"text": documentation, "markdown": documentation},
        "helpUri": rule_url(rule.code),
        # Off-by-default rules keep their severity: "note" would misreport them once enabled.
        "defaultConfiguration": {"level": rule.severity},
        # The rule's group, as the rule modules name them ("CL0xx").
        "properties": {"tags": [rule.code[:-2] + "xx"]},
    }


def _artifact_location(path: str) -> Dict[str, str]:
    """Relative to the checkout, which is where GitHub resolves ``%SRCROOT%``; a file outside
    the working directory can only be named by an absolute ``file:`` URI."""
    if Path(path).is_absolute():
        return {"uri": Path(path).as_uri()}
    return {"uri": quote(path), "uriBaseId": "%SRCROOT%"}


def _fingerprint(diagnostic: Diagnostic) -> str:
    """Independent of the line, so an alert survives edits above it."""
    key = json.dumps([diagnostic.code, diagnostic.path, diagnostic.message])
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _result(diagnostic: Diagnostic, rule_index: int, fingerprint: str) -> Dict[str, Any]:
    return {
        "ruleId": diagnostic.code,
        "ruleIndex": rule_index,
        "level": diagnostic.severity,
        "message": {"text": diagnostic.message},
        "locations": [
            {
                "physicalLocation": {
                    "artifactLocation": _artifact_location(diagnostic.path),
                    # GitHub rejects 0 in any of these.
                    "region": {
                        "startLine": max(1, diagnostic.line),
                        "startColumn": max(1, diagnostic.column),
                        "endLine": max(1, diagnostic.end_line),
                        "endColumn": max(1, diagnostic.end_column),
                    },
                }
            }
        ],
        "partialFingerprints": {FINGERPRINT_KEY: fingerprint},
    }


def render(diagnostics: Sequence[Diagnostic]) -> str:
    rule_indices = {rule.code: index for index, rule in enumerate(ALL_RULES)}
    seen: Counter[str] = Counter()
    results = []
    for diagnostic in diagnostics:
        # Identical findings in one file are told apart by their order, as CodeQL's
        # primaryLocationLineHash does; otherwise GitHub would merge them into one alert.
        fingerprint = _fingerprint(diagnostic)
        seen[fingerprint] += 1
        results.append(_result(diagnostic, rule_indices[diagnostic.code], f"{fingerprint}:{seen[fingerprint]}"))
    log = {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "convlint",
                        "version": __version__,
                        "informationUri": DOCS_URL,
                        # Every rule, so that an alert's rule is described even after a run
                        # that no longer reports it.
                        "rules": [_rule_descriptor(rule) for rule in ALL_RULES],
                    }
                },
                # The schema has no default; libcst columns count code points.
                "columnKind": "unicodeCodePoints",
                "results": results,
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"
