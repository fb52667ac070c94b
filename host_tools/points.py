"""The acupressure point table (from the seed articles, see docs/routines.md and shared FIELD_NOTES).

Routine files name points by code (``HT7``); the host shows the name, location and how-to text, and warns
about cautions. The device only sees the code.
"""
from __future__ import annotations

from dataclasses import dataclass

# Cautions from the seeds that apply to every point and to mats; printed once by `routine show`.
GENERAL_CAUTIONS = (
    "Acupressure complements sleep hygiene; it is no treatment for a sleep disorder: see a professional "
    "for persistent sleep problems.",
    "Not for young children. Ask a professional first with high or low blood pressure, diabetes or "
    "poor circulation.",
    "Do not press on broken or inflamed skin, eczema, psoriasis or thin skin.",
)
PREGNANCY = "Not during pregnancy: this point is traditionally said to induce labour."


@dataclass(frozen=True)
class Point:
    code: str
    name: str
    english: str
    location: str
    how_to: str
    sides: tuple[str, ...]          # the sides a step may name for this point
    cautions: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()

    def label(self) -> str:
        return "%s %s (%s)" % (self.code, self.name, self.english) if self.english else "%s %s" % (
            self.code, self.name)


_PAIRED = ("left", "right", "both")
_MIDLINE = ("centre",)

POINTS: dict[str, Point] = {p.code: p for p in (
    Point("HT7", "Shenmen", "Spirit Gate",
          "On the pinky side of the inner wrist crease, in the small hollow beside the tendon.",
          "Press steadily with the thumb of the other hand; breathe slowly. The most studied point "
          "for sleep.", _PAIRED, aliases=("SHENMEN", "SPIRIT-GATE")),
    Point("YINTANG", "Yin Tang", "Third Eye",
          "Between the eyebrows, slightly above the bridge of the nose.",
          "Gentle steady pressure with a fingertip; a lower band suits this point.", _MIDLINE,
          aliases=("YIN-TANG", "EX-HN3", "THIRD-EYE")),
    Point("GB20", "Fengchi", "Wind Pool",
          "Where the neck muscles meet the base of the skull, in the hollows between the neck tendons, "
          "both sides.",
          "Press upward into the hollows with the thumbs, with small circles.", _PAIRED,
          aliases=("FENGCHI", "WIND-POOL")),
    Point("SP6", "Sanyinjiao", "Three Yin Intersection",
          "Four finger-widths above the inner ankle bone, just behind the shin bone.",
          "Press firmly; often combined with HT7 for physical tension and restless legs.", _PAIRED,
          cautions=(PREGNANCY,), aliases=("SANYINJIAO",)),
    Point("GV20", "Baihui", "Hundred Meetings",
          "On the crown of the head, on the midline between the tops of the ears.",
          "Press straight down with a fingertip; traditionally used for early waking.", _MIDLINE,
          aliases=("BAIHUI",)),
    Point("KD1", "Yongquan", "Bubbling Spring",
          "On the sole, about a third of the way down from the toes, in the hollow when the toes curl.",
          "Press with the thumb; combine with a gentle foot massage.", _PAIRED,
          aliases=("YONGQUAN", "K1")),
    Point("ANMIAN", "An Mian", "Peaceful Sleep",
          "Behind the ear, midway between the bony bump behind the earlobe and the skull base hollow.",
          "Light to moderate steady pressure with a fingertip.", _PAIRED, aliases=("AN-MIAN",)),
    Point("LV3", "Taichong", "Great Surge",
          "On the top of the foot, in the hollow between the big toe and the second toe bones.",
          "Press with a fingertip toward the bones.", _PAIRED, aliases=("TAICHONG", "LR3")),
    Point("KD3", "Taixi", "Great Stream",
          "Above the heel, in the hollow between the inner ankle bone and the Achilles tendon.",
          "Press gently with the thumb.", _PAIRED, aliases=("TAIXI", "K3")),
    Point("EAR-SHENMEN", "Ear Shenmen", "Spirit Gate of the ear",
          "In the upper ear cartilage, in the triangular hollow near the top of the ear.",
          "Light pressure with a fingertip or a small probe; studied for racing thoughts.", _PAIRED,
          aliases=("EARSHENMEN", "EAR")),
    Point("LI4", "Hegu", "Union Valley",
          "On the back of the hand, in the web between the thumb and index finger.",
          "Press toward the index finger bone with the other thumb.", _PAIRED,
          cautions=(PREGNANCY,), aliases=("HEGU",)),
)}


def _key(text: str) -> str:
    return "".join(c for c in text.upper().replace(" ", "-").replace("_", "-") if c.isalnum() or c == "-")


_ALIASES = {}
for _p in POINTS.values():
    for _a in (_p.code, _p.name, *_p.aliases):
        _ALIASES[_key(_a)] = _p.code
        _ALIASES[_key(_a).replace("-", "")] = _p.code


def find(text: str) -> Point | None:
    """A point by code, name or alias, case and spacing insensitive (``yin tang`` -> YINTANG)."""
    k = _key(text)
    code = _ALIASES.get(k) or _ALIASES.get(k.replace("-", ""))
    return POINTS.get(code) if code else None


def get(code: str) -> Point | None:
    """A point by its exact code (what a routine file must use)."""
    return POINTS.get(code)
