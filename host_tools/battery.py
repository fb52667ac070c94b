"""A LiPo cell's state of charge from its voltage: what `acutrainer status` and `doctor` show of the device's
battery (the firmware reports the cell's millivolts through the board's divider: acu.status).

The curve is a typical single-cell LiPo's rest voltage by state of charge (4.20 V full, a long plateau near
3.7-3.9 V, a knee below 10 %); the simulator's cell uses the same one (host_tools/sim/energy.py). The device
reads its cell while awake, under a load of tens of mA: about 5 mV below rest on a 0.2 Ω cell, a fraction of a
percent on the plateau, so the estimate is shown rounded to 5 %.
"""

from __future__ import annotations

# (% charge, mV at rest)
OCV_MV = ((0, 3300), (5, 3610), (10, 3690), (15, 3710), (20, 3730), (25, 3750), (30, 3770), (35, 3790),
          (40, 3800), (45, 3820), (50, 3840), (55, 3850), (60, 3870), (65, 3910), (70, 3950), (75, 3980),
          (80, 4020), (85, 4080), (90, 4110), (95, 4150), (100, 4200))
LOW_MV = 3450       # acu.app's low-battery cue (under load)


def soc_pct(mv: float) -> float:
    """The state of charge (%) whose rest voltage is mv (clamped to 0..100)."""
    if mv <= OCV_MV[0][1]:
        return 0.0
    for (s0, v0), (s1, v1) in zip(OCV_MV[:-1], OCV_MV[1:], strict=True):
        if mv <= v1:
            return s0 + (s1 - s0) * (mv - v0) / (v1 - v0)
    return 100.0


def describe(mv) -> str:
    """'3.84 V, about 50 %' (or why there is no figure)."""
    if mv is None:
        return "no battery fitted (or an older firmware)"
    if not isinstance(mv, int) or isinstance(mv, bool) or not 0 <= mv <= 6000:
        return "unreadable (%r)" % (mv,)
    if mv < 2500:
        return "%.2f V: no cell (powered from USB?)" % (mv / 1000)
    pct = int(round(soc_pct(mv) / 5.0)) * 5
    note = ", LOW: charge it" if mv < LOW_MV else ""
    return "%.2f V, about %d %%%s" % (mv / 1000, pct, note)
