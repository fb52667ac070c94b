"""The wheel carries the firmware, the boards, the example profiles and the version pins as package data in
host_tools/_data/, where host_tools/paths.py finds them when the tools are installed (a checkout or an
editable install uses the checkout's own files). Everything else is in pyproject.toml."""
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
DATA = {"device": "*.py", "boards": "*.py", "examples": "*.profile"}  # folder -> what ships (recursively)
DOCS = ["docs/versions.md"]  # host_tools/versions.py reads the MicroPython pins from it


class BuildPyWithData(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # the checkout's own files are used in place
        out = Path(self.build_lib) / "host_tools" / "_data"
        shutil.rmtree(out, ignore_errors=True)  # no stale module from an earlier build in build/
        for folder, pattern in DATA.items():
            for src in sorted((HERE / folder).rglob(pattern)):
                if "__pycache__" not in src.parts:
                    self._copy(src, out)
        for rel in DOCS:
            self._copy(HERE / rel, out)

    def _copy(self, src: Path, out: Path):
        dst = out / src.relative_to(HERE)
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)


setup(cmdclass={"build_py": BuildPyWithData})
