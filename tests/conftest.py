import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for p in (ROOT / "host_tools" / "stubs", ROOT / "device", ROOT / "tests" / "device", ROOT):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

# Every test's data dir (archive, simulators, time anchors) is private: never the user's own.
import os  # noqa: E402
import tempfile  # noqa: E402

os.environ.setdefault("ACUTRAINER_HOME", tempfile.mkdtemp(prefix="acutests-"))

# Tests are deterministic: hypothesis draws the same examples on every run (a case it once found is pinned
# with @example where it matters)
from hypothesis import settings  # noqa: E402

settings.register_profile("acutrainer", derandomize=True)
settings.load_profile("acutrainer")
