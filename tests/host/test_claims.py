"""The library's texts promise no treatment: none holds a word docs/routines.md forbids ("Health statements:
sources, and the words the library avoids"). The list is read from the docs, so they cannot disagree."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from host_tools import points
from host_tools import routines as RT

ROOT = Path(__file__).resolve().parents[2]
MARK = "<!-- forbidden-words: the test reads the next line -->"


def forbidden_words() -> list[str]:
    lines = (ROOT / "docs" / "routines.md").read_text(encoding="utf-8").splitlines()
    i = lines.index(MARK)
    return lines[i + 1].strip().strip("`").split()


def library_texts() -> list[tuple[str, str]]:
    out = []
    for name in RT.library_names():
        d = json.loads(RT.library_routine(name))
        out += [("library/%s.json %s" % (name, k), d[k]) for k in ("title", "description") if d.get(k)]
        for i, s in enumerate(d["steps"], 1):
            out += [("library/%s.json step %d %s" % (name, i, k), s[k]) for k in ("note", "label") if s.get(k)]
    from host_tools import programmes as PR   # the programmes' texts too (docs/programmes.md)
    for name in PR.library_names():
        d = json.loads(PR.library_programme(name))
        out += [("library/programmes/%s.json %s" % (name, k), d[k]) for k in ("title", "description") if d.get(k)]
        for i, s in enumerate(d["stages"], 1):
            out += [("library/programmes/%s.json stage %d title" % (name, i), s["title"])] if s.get("title") else []
    for p in points.POINTS.values():
        out += [("point %s %s" % (p.code, k), getattr(p, k)) for k in ("name", "english", "location", "how_to")]
    return out


def find_forbidden(text: str, words: list[str]) -> list[str]:
    return [w for w in words if re.search(r"\b%s\b" % re.escape(w), text, re.IGNORECASE)]


def test_the_list_is_documented_and_covers_promises():
    words = forbidden_words()
    assert len(words) == len(set(words))
    for w in ("cure", "heal", "treatment", "therapy", "insomnia", "proven", "guaranteed"):
        assert w in words


def test_the_checker_finds_a_promise():
    words = forbidden_words()
    assert find_forbidden("Cures insomnia in a week", words) == ["cures", "insomnia"]
    assert find_forbidden("Press steadily with the thumb", words) == []
    assert find_forbidden("treaty and curated", words) == []      # whole words only


@pytest.mark.parametrize("where, text", library_texts())
def test_library_texts_promise_no_treatment(where, text):
    assert find_forbidden(text, forbidden_words()) == [], where
