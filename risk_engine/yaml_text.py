"""YAML files the engine reads (mappings, risk profiles, training configs), with dates as text.

PyYAML builds a date out of anything shaped like one, and an impossible date (``2024-13-01``,
``2024-02-30``) raised a bare ValueError that stopped the command with a traceback. Kept as text,
a date reaches the model that reads the file, whose error names the entry and the field.
"""

from __future__ import annotations

from typing import Any

import yaml

__all__ = ["load_yaml"]

_TIMESTAMP = "tag:yaml.org,2002:timestamp"


class _DatesAsText(yaml.SafeLoader):
    """`yaml.SafeLoader` without the implicit timestamp resolver."""


_DatesAsText.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != _TIMESTAMP]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def load_yaml(text: str) -> Any:
    """``text`` read as YAML, dates left as text; `yaml.YAMLError` when it is not YAML."""
    return yaml.load(text, Loader=_DatesAsText)  # noqa: S506 - a SafeLoader
