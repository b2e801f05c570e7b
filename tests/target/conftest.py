"""Lets the target tests import their record factory."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
