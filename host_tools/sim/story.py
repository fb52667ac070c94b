"""`acutrainer sim trace` for a person: the simulator's output trace (docs/simulator.md) told as what happened.

Per boot: how it started, the band states as a sequence with their virtual times, the cues, what the hand
and the finger did (a press profile, a button) at the virtual instant the board took it, cable pulls and
power cuts, and how many output level changes there were (`sim trace --raw` lists those one by one).
"""

from __future__ import annotations

import textwrap

WIDTH = 100


def _names():
    try:
        from host_tools.paths import ensure_device_importable

        ensure_device_importable()
        from acu import band, feedback_views

        return tuple(band.NAMES), tuple(feedback_views.CUE_NAMES)
    except (ImportError, AttributeError):
        return (), ()


def state_name(v: int) -> str:
    names = _names()[0]
    if v < 0:
        return "none"  # the board module's registration, before the app's first state
    return names[v] if v < len(names) else "state %d" % v


def cue_name(v: int) -> str:
    names = _names()[1]
    if v == 0:
        return "none"
    return names[v] if 0 < v < len(names) else "cue %d" % v


def _s(t_ms: int) -> str:
    return "%.3f" % (t_ms / 1000.0)


def _input_text(rec: dict) -> str:
    if rec.get("name") == "button":
        return "button %s" % rec.get("value")
    if rec.get("name") == "profile":
        n = rec.get("value")
        parts = ["%s force segment%s" % (n, "" if n == 1 else "s")] if n else []
        if rec.get("ms"):
            parts[-1:] = [parts[-1] + " over %.1f s" % (rec["ms"] / 1000.0)] if parts else []
        parts += ["button %s" % k for k in rec.get("buttons") or ()]
        return "press profile (%s)" % ", ".join(parts) if parts else "press profile"
    return "%s %s" % (rec.get("name"), rec.get("value"))


class _Boot:
    def __init__(self, out: list[str], boot: int | None, since_ms: int | None):
        self.out = out
        self.boot = boot
        self.since_ms = since_ms
        self.run: list[tuple[int, int]] = []  # band states not yet printed: (t_ms, state)
        self.levels: dict[str, int] = {}
        self.pending: list[dict] = []  # inputs the launcher sent that the board has not taken yet
        self.buttons_due = False  # the profile just printed has button presses: its button frame comes next

    def line(self, t_ms: int | None, what: str, text: str | list[str]):
        """One event; text as a list: units kept whole when the line wraps (a band state and its time)."""
        if self.since_ms is not None and t_ms is not None and t_ms < self.since_ms:
            return
        head = "%12s  %-5s " % ("" if t_ms is None else _s(t_ms) + " s", what)
        if isinstance(text, str):
            self.out.extend(textwrap.wrap(text, WIDTH, initial_indent=head, subsequent_indent=" " * len(head),
                                          break_on_hyphens=False) or [head.rstrip()])
            return
        cur = head + text[0]
        for unit in text[1:]:
            if len(cur) + 1 + len(unit) > WIDTH:
                self.out.append(cur)
                cur = " " * len(head) + unit
            else:
                cur += " " + unit
        self.out.append(cur)

    def flush_states(self):
        if not self.run:
            return
        t0, v0 = self.run[0]
        self.line(t0, "band", [state_name(v0)] + ["→ %s %s" % (state_name(v), _s(t)) for t, v in self.run[1:]])
        self.run = []

    def state(self, t_ms: int, v: int):
        if v < 0 or (self.since_ms is not None and t_ms < self.since_ms):
            return  # the board module's registration, before the app's first state; or left out
        if self.run and self.run[-1][1] == v:
            return
        self.run.append((t_ms, v))

    def event(self, t_ms: int | None, what: str, text: str):
        self.flush_states()
        self.line(t_ms, what, text)

    def hand(self, t_ms: int, name: str, value):
        """The board took a hand frame (note 'profile' or 'button_input'): say what it was, at that time."""
        if name == "button_input" and self.buttons_due:
            self.buttons_due = False
            return  # the button presses of the profile just printed
        self.buttons_due = False
        if name == "profile":  # a profile with force segments
            sent = next((p for p in self.pending if p.get("name") == "profile" and p.get("value")), None)
        else:  # `sim button`, or a profile of button presses only
            sent = next((p for p in self.pending if p.get("name") == "button"
                         or (p.get("name") == "profile" and not p.get("value") and p.get("buttons"))), None)
        if sent is not None:
            self.pending.remove(sent)
            text = _input_text(sent)
            self.buttons_due = name == "profile" and bool(sent.get("buttons"))
        elif name == "profile":
            text = "press profile (%s force segment%s)" % (value, "" if value == 1 else "s")
        else:
            text = "button presses (%s level change%s)" % (value, "" if value == 1 else "s")
        self.event(t_ms, "hand", text)

    def flush_pending(self):
        """What the launcher sent that this boot never took (it ends: reset, power cut)."""
        for p in self.pending:
            self.event(p.get("t_ms"), "input", _input_text(p) + " (sent; the board did not take it)")
        self.pending = []

    def end(self):
        self.flush_states()
        self.flush_pending()
        if self.levels and self.since_ms is None:
            n = sum(self.levels.values())
            self.out.append("%12s  %-5s %d output level change%s (%s): sim trace --raw lists them" % (
                "", "", n, "" if n == 1 else "s", ", ".join(sorted(self.levels))))


def summarize(recs: list[dict], since_ms: int | None = None) -> list[str]:
    """Lines for a person from trace records (one boot or several, in file order). since_ms: leave out what
    happened before this virtual time (for one boot)."""
    out: list[str] = []
    cur: _Boot | None = None
    for r in recs:
        boot = r.get("boot")
        t = r.get("t_ms", 0)
        kind = r.get("kind")
        if cur is None or boot != cur.boot:
            if cur is not None:
                cur.end()
            cur = _Boot(out, boot, since_ms)
            if out:
                out.append("")
            if kind != "boot":
                out.append("boot %s (virtual seconds since it started)" % boot)
        if kind == "boot":
            out.append("boot %s%s (times: virtual seconds since it started)" % (
                boot, ", reset into the raw REPL: main.py not run" if r.get("mode") == "raw" else ""))
            continue
        if kind == "level" and (since_ms is None or t >= since_ms):
            cur.levels[r.get("name", "?")] = cur.levels.get(r.get("name", "?"), 0) + 1
        elif kind == "note":
            name = r.get("name")
            if name == "state":
                cur.state(t, r.get("value", -1))
            elif name == "cue":
                if r.get("value"):
                    cur.event(t, "cue", cue_name(r["value"]))
            elif name in ("profile", "button_input"):
                cur.hand(t, name, r.get("value"))
            else:
                cur.event(t, "note", "%s %s" % (name, r.get("value")))
        elif kind == "input":
            cur.pending.append(r)
        elif kind == "power_cut":
            cur.flush_states()
            cur.flush_pending()
            cur.event(t, "power", "cut")
        elif kind == "unplug":
            cur.event(t, "cable", "pulled for %s ms" % r.get("value"))
        elif kind == "interrupt_reset":
            cur.flush_states()
            cur.flush_pending()
            cur.event(t, "reset", "the firmware did not take the host's Ctrl-C: rebooted into the raw REPL")
        elif kind == "deep_sleep":
            cur.flush_states()
            cur.flush_pending()
            wakes = (["timer %.1f s" % (r["ms"] / 1000.0)] if r.get("ms") else []) + \
                (["GPIO%d" % r["ext0"]] if r.get("ext0", -1) >= 0 else []) + (["ext1"] if r.get("ext1") else [])
            cur.event(t, "power", "deep sleep (wakes on %s)" % (" or ".join(wakes) or "nothing: only a reset"))
        elif kind == "wake":
            cur.event(t, "power", "woken by %s after %.1f s asleep" % (r.get("reason"), r.get("slept_ms", 0) / 1000.0))
        elif kind == "battery_empty":
            cur.flush_states()
            cur.event(t, "power", "battery flat: off until charged (sim battery charge)")
        elif kind == "rom_failed":
            cur.event(t, "rom", "the board failed to boot (the simulator stopped)")
        else:
            cur.event(t, str(kind), str(r.get("value", r.get("mode", ""))))
    if cur is not None:
        cur.end()
    return out
