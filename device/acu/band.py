# The band classifier: filtered force -> NO_CONTACT / UNDER / IN / OVER / TOO_HARD / FAULT, with
# hysteresis around every edge and a short confirmation time, so a steady press on an edge with sensor
# noise does not flicker while a real crossing shows within a few samples. Allocation-free update().
# The numbers and why: docs/feedback.md.
from acu import ticks

from micropython import const

# States are ordered by force (0..4) so the hysteresis walk below can step through them.
NO_CONTACT = const(0)
UNDER = const(1)
IN_BAND = const(2)
OVER = const(3)
TOO_HARD = const(4)
FAULT = const(5)
NAMES = ("no_contact", "under", "in", "over", "too_hard", "fault")

DEFAULT_LO_G = const(3000)
DEFAULT_HI_G = const(5000)
_DEFAULT_TOO_HARD_G = const(7000)
_DEFAULT_CONTACT_G = const(300)


class BandClassifier:
    """Classify a filtered force (grams) into a band state.

    Edges: contact_g (no contact below), lo_g / hi_g (the band), too_hard_g (over-force warning).
    Hysteresis: to cross an edge upward the force must reach edge + h, downward fall below edge - h,
    with h = edge * hyst_pct / 100 (at least min_hyst_g); the contact edge uses contact_g // 3.
    Confirmation: a new state is taken only after the candidate has held for confirm_ms (TOO_HARD uses
    too_hard_confirm_ms, 0 = at once: it is a safety warning). Candidates on the same side of the
    current state keep the confirmation running (a fast ramp is not delayed by passing through IN_BAND).
    update(force_g, now_ms, fault) -> state; fault != 0 gives FAULT at once (drivers already time it).
    Attributes: state, changed_ms (when the state last changed).
    """

    def __init__(self, lo_g=DEFAULT_LO_G, hi_g=DEFAULT_HI_G, too_hard_g=_DEFAULT_TOO_HARD_G,
                 contact_g=_DEFAULT_CONTACT_G, hyst_pct=4, min_hyst_g=40, confirm_ms=5,
                 too_hard_confirm_ms=5):
        self.hyst_pct = hyst_pct
        self.min_hyst_g = min_hyst_g
        self.confirm_ms = confirm_ms
        self.too_hard_confirm_ms = too_hard_confirm_ms
        # up/down thresholds of the 4 edges: [contact, lo, hi, too_hard]
        self._up = [0, 0, 0, 0]
        self._down = [0, 0, 0, 0]
        self.contact_g = contact_g
        self.too_hard_g = too_hard_g
        self.lo_g = lo_g
        self.hi_g = hi_g
        self._set_edge(0, contact_g, contact_g // 3)
        self.set_limit(too_hard_g)
        self.set_band(lo_g, hi_g)
        self.state = NO_CONTACT
        self.changed_ms = 0
        self._pending = -1
        self._pending_ms = 0

    def _hyst(self, edge_g):
        h = edge_g * self.hyst_pct // 100
        return h if h > self.min_hyst_g else self.min_hyst_g

    def _set_edge(self, i, edge_g, h):
        self._up[i] = edge_g + h
        self._down[i] = edge_g - h

    def set_band(self, lo_g, hi_g):
        """New band edges (a routine step's band). The state is re-evaluated on the next update."""
        if not 0 < lo_g < hi_g:
            raise ValueError("band: need 0 < lo_g < hi_g")
        self.lo_g = lo_g
        self.hi_g = hi_g
        self._set_edge(1, lo_g, self._hyst(lo_g))
        self._set_edge(2, hi_g, self._hyst(hi_g))

    def set_limit(self, too_hard_g):
        self.too_hard_g = too_hard_g
        self._set_edge(3, too_hard_g, self._hyst(too_hard_g))

    def set_contact(self, contact_g):
        self.contact_g = contact_g
        self._set_edge(0, contact_g, contact_g // 3)

    def candidate(self, force_g, state):
        """The state force_g points to, starting from `state` (0..4) and honouring hysteresis."""
        c = state
        up = self._up
        down = self._down
        while c < TOO_HARD and force_g >= up[c]:
            c += 1
        while c > NO_CONTACT and force_g < down[c - 1]:
            c -= 1
        return c

    def update(self, force_g, now_ms, fault=0):
        s = self.state
        if fault:
            if s != FAULT:
                self.state = FAULT
                self.changed_ms = now_ms
            self._pending = -1
            return FAULT
        if s == FAULT:
            # Back from a fault: take the plain zone at once (no history to be hysteretic about).
            self.state = self.candidate(force_g, NO_CONTACT)
            self.changed_ms = now_ms
            self._pending = -1
            return self.state
        c = self.candidate(force_g, s)
        if c == s:
            self._pending = -1
            return s
        p = self._pending
        if p < 0 or (p > s) != (c > s):
            self._pending_ms = now_ms  # a new direction: start confirming
        self._pending = c
        need = self.too_hard_confirm_ms if c == TOO_HARD else self.confirm_ms
        if ticks.diff(now_ms, self._pending_ms) >= need:
            self.state = c
            self.changed_ms = now_ms
            self._pending = -1
        return self.state
