"""Where things live: the firmware sources, boards, examples and pins the tools ship, and the user's data.

From a checkout (or an editable install of it) they are the checkout's own device/, boards/, examples/ and
docs/versions.md, so edits take effect at once. An installed wheel carries copies of them as package data in
host_tools/_data/ (setup.py puts them there at build time; docs/architecture.md "Installed package").
"""
import os
import sys
from importlib import resources
from pathlib import Path

import platformdirs

ROOT = Path(__file__).resolve().parents[1]  # the folder holding host_tools: the checkout, or site-packages
IN_CHECKOUT = (ROOT / "device" / "acu" / "__init__.py").is_file() and (ROOT / "boards").is_dir()
DATA = ROOT if IN_CHECKOUT else Path(str(resources.files("host_tools") / "_data"))
DEVICE_DIR = DATA / "device"
BOARDS_DIR = DATA / "boards"
EXAMPLES_DIR = DATA / "examples"  # press profiles (docs/press-profiles.md)
VERSIONS_MD = DATA / "docs" / "versions.md"
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


def build_dir() -> Path:
    """Where compiled firmware is cached: the checkout's build/, or the user's data dir when installed."""
    return ROOT / "build" if IN_CHECKOUT else data_dir() / "build"
