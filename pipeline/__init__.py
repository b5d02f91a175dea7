"""Linked-data publishing pipeline for Chinese historical article records.
The library API: run() publishes a release; the stages live in record, mapping, validate, serialize."""

__version__ = "0.1.0"

from .options import Options  # noqa: E402
from .run import run  # noqa: E402

__all__ = ["Options", "run", "__version__"]
