"""Reading the metrics as Prometheus would: the exposition text, parsed."""

from __future__ import annotations

from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families


def parse(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of an exposition, by (name, labels)."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def local(name: str, **labels) -> float:
    """A sample of this process's own registry (tests run without a multiprocess directory)."""
    return REGISTRY.get_sample_value(name, labels) or 0.0
