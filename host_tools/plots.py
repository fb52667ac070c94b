"""PNG plots for reports (matplotlib, Agg backend: no display needed). Text that came from a device (point
names, routine names) is drawn as plain text (parse_math=False): a `$...$` in it is not mathtext; its control
characters are drawn as escapes (termsafe.shown), and a glyph the font lacks is drawn as a box without a
warning on the terminal (the warning would repeat the device's text there, raw)."""

from __future__ import annotations

import io
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from host_tools.termsafe import shown  # noqa: E402


def _png(fig) -> bytes:
    buf = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # "Glyph ... missing from font(s)"
        fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def session_trace_png(trace: list[tuple[int, int]], steps: list[dict], title: str = "",
                      band=(3000, 5000)) -> bytes:
    """Force over time with each step's band shaded (3-5 kg by default) and step starts marked."""
    fig, ax = plt.subplots(figsize=(10, 3.6))
    if trace:
        ax.plot([t / 1000.0 for t, _ in trace], [g / 1000.0 for _, g in trace], lw=0.8, color="#1f4e79",
                label="force")
    end_s = max([t for t, _ in trace] + [st.get("t_end_ms") or 0 for st in steps] + [0]) / 1000.0
    shaded = False
    for st in steps:
        t0 = (st.get("t_begin_ms") or 0) / 1000.0
        t1 = (st.get("t_end_ms") or 0) / 1000.0 or end_s
        lo, hi = st.get("band_lo_g"), st.get("band_hi_g")
        if st.get("kind") in (None, "press") and lo and hi:
            ax.fill_between([t0, t1], lo / 1000.0, hi / 1000.0, color="#2ca02c", alpha=0.18,
                            label=None if shaded else "target band")
            shaded = True
        ax.axvline(t0, color="#555", lw=0.8, ls="--")
        label = " ".join(shown(x) for x in (st.get("point") or st.get("kind") or "", st.get("side") or "") if x)
        ax.text(t0, 1.0, " %d %s" % (st["idx"] + 1, label), transform=ax.get_xaxis_transform(),
                fontsize=8, va="bottom", rotation=0, parse_math=False)
    if not shaded and band:
        ax.axhspan(band[0] / 1000.0, band[1] / 1000.0, color="#2ca02c", alpha=0.18, label="target band")
    ax.set_xlabel("time (s)")
    ax.set_ylabel("force (kg)")
    ax.set_ylim(bottom=0)
    if title:
        ax.set_title(shown(title), pad=16, fontsize=10, parse_math=False)
    ax.legend(loc="upper right", fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def weekly_adherence_png(weeks: list[dict], title: str = "Sessions per week") -> bytes:
    """Bars: completed sessions per ISO week; line: the weekly goal."""
    fig, ax = plt.subplots(figsize=(8, 3.4))
    labels = [w["week"] for w in weeks]
    x = list(range(len(weeks)))
    ax.bar(x, [w["sessions"] for w in weeks], color="#1f77b4", label="completed sessions")
    goals = [w["goal"] for w in weeks]
    ax.step([i - 0.5 for i in x] + [len(x) - 0.5], goals + goals[-1:], where="post",
            color="#d62728", lw=1.5, label="weekly goal")
    ax.set_xticks(x)
    ax.set_xticklabels(labels, rotation=45, ha="right", fontsize=8, parse_math=False)
    ax.set_ylabel("sessions")
    ax.set_title(title, fontsize=10, parse_math=False)
    ax.legend(fontsize=8)
    ax.grid(axis="y", alpha=0.3)
    return _png(fig)


def bland_altman_png(mean_g: list[float], diff_g: list[float], stats: dict, title: str = "") -> bytes:
    """Bland-Altman plot (Bland & Altman 1986): each press's difference (device - reference) against the
    mean of the two, with the bias and the 95 % limits of agreement as horizontal lines."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    ax.scatter([m / 1000.0 for m in mean_g], diff_g, s=18, color="#1f4e79", alpha=0.8, label="press")
    for y, name, style in ((stats["bias_g"], "bias %+.0f g", "-"),
                           (stats["loa_hi_g"], "+1.96 SD %+.0f g", "--"),
                           (stats["loa_lo_g"], "-1.96 SD %+.0f g", "--")):
        ax.axhline(y, color="#d62728", lw=1.2, ls=style)
        ax.text(1.0, y, " " + name % y, transform=ax.get_yaxis_transform(), va="center", fontsize=8,
                color="#d62728", parse_math=False)
    ax.axhline(0, color="#555", lw=0.8)
    ax.set_xlabel("mean of device and reference (kg)")
    ax.set_ylabel("device - reference (g)")
    ax.set_title(shown(title), fontsize=10, parse_math=False)
    ax.grid(alpha=0.3)
    return _png(fig)


def drift_png(samples: list[tuple[float, float]], reference_g: float, title: str = "") -> bytes:
    """The device's reading over a constant-load hold, with the reference load as a line."""
    fig, ax = plt.subplots(figsize=(7, 3.2))
    ax.plot([t for t, _ in samples], [g / 1000.0 for _, g in samples], lw=0.8, color="#1f4e79", label="device")
    ax.axhline(reference_g / 1000.0, color="#2ca02c", lw=1.2, label="reference")
    ax.set_xlabel("time from the start of the hold (s)")
    ax.set_ylabel("force (kg)")
    ax.set_title(shown(title), fontsize=10, parse_math=False)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def study_sessions_png(weeks: list[dict], goal: int) -> bytes:
    """A participant x study-week grid: each cell the week's sessions (counted toward the goal), coloured
    from none (red) to the goal or more (green); a week still running is hatched."""
    import numpy as np
    from matplotlib.colors import LinearSegmentedColormap

    people = list(dict.fromkeys(w["participant"] for w in weeks))
    n_weeks = max(w["week"] for w in weeks)
    grid = np.full((len(people), n_weeks), np.nan)
    for w in weeks:
        grid[people.index(w["participant"]), w["week"] - 1] = min(w["sessions"], goal) / goal
    fig, ax = plt.subplots(figsize=(min(3 + 0.6 * n_weeks, 12), min(1.5 + 0.28 * len(people), 16)))
    cmap = LinearSegmentedColormap.from_list("goal", ["#d62728", "#ffdd57", "#2ca02c"])
    ax.imshow(grid, aspect="auto", cmap=cmap, vmin=0, vmax=1, interpolation="nearest")
    small = len(people) <= 60 and n_weeks <= 20  # numbers in the cells only while they stay legible
    for w in weeks:
        y, x = people.index(w["participant"]), w["week"] - 1
        if small:
            ax.text(x, y, "%d" % w["sessions"], ha="center", va="center", fontsize=7)
        if not w["complete"]:
            ax.add_patch(plt.Rectangle((x - 0.5, y - 0.5), 1, 1, fill=False, hatch="//", lw=0))
    ax.set_xticks(range(n_weeks))
    ax.set_xticklabels([str(i + 1) for i in range(n_weeks)], fontsize=8)
    if len(people) <= 60:  # more ids than fit are not drawn: the CSV and the page's tables name everyone
        ax.set_yticks(range(len(people)))
        ax.set_yticklabels([shown(p) for p in people], fontsize=7, parse_math=False)
    else:
        ax.set_ylabel("participants (%d, in the tables' order)" % len(people))
    ax.set_xlabel("study week (from the participant's enrolment)")
    ax.set_title("Sessions per week against the goal of %d (hatched: week still running)" % goal, fontsize=10)
    return _png(fig)


def study_in_band_png(weeks: list[dict]) -> bytes:
    """Mean % of press time in band per study week, one line per arm (participants with practice only)."""
    fig, ax = plt.subplots(figsize=(7, 3.4))
    arms = sorted({w["arm"] or "-" for w in weeks})
    for arm in arms:
        by_week: dict[int, list[float]] = {}
        for w in weeks:
            if (w["arm"] or "-") == arm and w["pct_in_band"] is not None:
                by_week.setdefault(w["week"], []).append(w["pct_in_band"])
        xs = sorted(by_week)
        if xs:  # an arm without press practice yet has no line
            ax.plot(xs, [sum(by_week[x]) / len(by_week[x]) for x in xs], marker="o", label=shown(arm))
    n_weeks = max(w["week"] for w in weeks)
    ax.set_xticks(range(1, n_weeks + 1))
    ax.set_xlim(0.5, n_weeks + 0.5)
    ax.set_xlabel("study week")
    ax.set_ylabel("% of press time in band")
    ax.set_ylim(0, 105)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)


def learning_png(weeks: list[dict]) -> bytes:
    """The learning curve (host_tools.learning): per week, with feedback beside without. Left: % in band
    with feedback on, % in band while silent, % of blind checks accurate; right: the mean absolute error
    (g) of each. A week without the figure has no point (not a zero)."""
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.6))
    x = [w["week"] for w in weeks]
    for ax, series, ylabel in (
            (a1, (("fb_pct_in_band", "in band, feedback on", "#1f77b4", "o"),
                  ("silent_pct_in_band", "in band, feedback off", "#ff7f0e", "s"),
                  ("check_accuracy_pct", "blind checks accurate", "#2ca02c", "D")), "%"),
            (a2, (("fb_mae_g", "press, feedback on", "#1f77b4", "o"),
                  ("silent_mae_g", "press, feedback off", "#ff7f0e", "s"),
                  ("check_mae_g", "blind checks", "#2ca02c", "D")), "mean absolute error (g)")):
        for key, label, colour, marker in series:
            if any(w[key] is not None for w in weeks):  # a week without the figure breaks the line (nan)
                ax.plot(x, [float("nan") if w[key] is None else w[key] for w in weeks], marker=marker,
                        color=colour, label=label)
        ax.set_xticks(x)
        ax.set_xlim(0.5, max(x) + 0.5)
        ax.set_xlabel("week of practice")
        ax.set_ylabel(ylabel)
        ax.set_ylim(bottom=0, top=105 if ylabel == "%" else None)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle("Learning curve: with feedback and without", fontsize=10)
    return _png(fig)


def scores_png(scores: list[dict]) -> bytes:
    """The session score (0-100) of each scored session in order; a host figure that differs from the
    device's is marked beside it."""
    fig, ax = plt.subplots(figsize=(8, 3.2))
    dev = [(i, s["score"]) for i, s in enumerate(scores, 1) if s["score"] is not None]
    if dev:
        ax.plot([p[0] for p in dev], [p[1] for p in dev], marker="o", color="#1f4e79", label="score (device)")
    host = [(i, s["score_host"]) for i, s in enumerate(scores, 1)
            if s["score_host"] is not None and s["score_host"] != s["score"]]
    if host:
        ax.scatter([p[0] for p in host], [p[1] for p in host], marker="x", color="#d62728",
                   label="host computes (differs)")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("scored session, in order")
    ax.set_ylabel("score")
    ax.set_ylim(0, 105)
    ax.set_xlim(0.5, len(scores) + 0.5)
    ax.set_title("Session score (docs/score.md)", fontsize=10)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return _png(fig)
