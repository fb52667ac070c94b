"""Where things live: the repo's firmware sources and the user's data directory."""
import os
import sys
from pathlib import Path

import platformdirs

REPO = Path(__file__).resolve().parents[1]
DEVICE_DIR = REPO / "device"
BOARDS_DIR = REPO / "boards"
STUBS_DIR = Path(__file__).resolve().parent / "stubs"  # CPython's `micropython` (const) for device modules


def ensure_device_importable():
    """Put device/ on sys.path so the host imports the firmware's codecs (one codec, both sides), and the
    `micropython` stub those modules import on CPython (host_tools/stubs)."""
    for p in (str(STUBS_DIR), str(DEVICE_DIR)):
        if p not in sys.path:
            sys.path.insert(0, p)


def data_dir() -> Path:
    """The user's data dir (ACUTRAINER_HOME overrides it: tests use a temporary one)."""
    env = os.environ.get("ACUTRAINER_HOME")
    d = Path(env) if env else Path(platformdirs.user_data_dir("acutrainer", appauthor=False))
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    return d
