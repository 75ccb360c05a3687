"""Reading the CI kit's files in tests: YAML as CI reads it, and the schemas they are held to.

The schemas are the ones check-jsonschema vendors (GitHub workflows, GitLab CI), so a pipeline
file is checked against what the CI system itself publishes, not against a copy of ours.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml


def load_yaml(path: Path) -> dict[str, Any]:
    """A CI file as a mapping, with YAML 1.1's boolean ``on`` key given back its name."""
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path}: not a mapping"
    if True in data:  # YAML 1.1 reads the key `on` as a boolean
        data["on"] = data.pop(True)
    return data


def vendored_schema(name: str) -> dict[str, Any]:
    """A CI system's published JSON Schema, as check-jsonschema ships it."""
    pytest.importorskip("check_jsonschema", reason="check-jsonschema ships the CI schemas")
    text = resources.files("check_jsonschema.builtin_schemas.vendor").joinpath(name).read_text()
    return json.loads(text)
