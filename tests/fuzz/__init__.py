"""Fuzz targets (hypothesis) for the wire decoder, the whole request handler and the key store
at rest; see README.md."""

import os
import tempfile
from pathlib import Path

from hypothesis.configuration import set_hypothesis_home_dir

# Hypothesis keeps caches (and, by default, its example database: the targets turn that off)
# under ./.hypothesis; keep everything it writes out of the checkout.
set_hypothesis_home_dir(Path(tempfile.gettempdir()) / f"pqparsec-hypothesis-{os.getuid()}")
