# Force conditioning between calibration (grams) and the band classifier: an adaptive low-pass filter
# and zero tracking while unloaded. Integer maths only; update() runs every loop iteration and does not
# allocate. Numbers and their reasons are in docs/feedback.md ("Filtering and the band").
from acu import ticks

from micropython import const

_FRAC = const(4)  # the filter state keeps 4 fractional bits (1/16 g)


class ForceFilter:
    """Adaptive exponential filter with zero tracking.

    update(force_g, now_ms) -> filtered force in grams (>= 0), once per loop iteration.
    - Filter: y += (x - y) / 2**slow_shift while the input moves little (noise), but / 2**fast_shift
      when |x - y| exceeds max(jump_g, jump_pct % of y) so a real press is followed within ~1 sample.
      A jump must show on two samples in a row in the same direction (one outlier is not a press).
      At 200 Hz, slow_shift=3 is a 40 ms time constant (white-noise std down to ~26 %).
    - Zero tracking: while the filtered force is below zero_band_g (a fraction of the contact threshold,
      so a light touch is never tracked away) and steady, the zero offset creeps toward the reading by
      zero_step_g every zero_period_ms (default 1 g / 20 ms = 50 g/s). Negative readings are always
      pulled up (force cannot be negative). The offset is limited to +-max_zero_g.
    - tare(): the current reading becomes zero at once.
    Attributes: offset_g (current zero offset), force_g (last output).
    """

    def __init__(self, contact_g=300, slow_shift=3, fast_shift=1, jump_g=300, jump_pct=10,
                 zero_band_g=None, zero_step_g=1, zero_period_ms=20, max_zero_g=2000):
        self.slow_shift = slow_shift
        self.fast_shift = fast_shift
        self.jump_g = jump_g
        self.jump_pct = jump_pct
        self.set_contact(contact_g, zero_band_g)
        self.zero_step_g = zero_step_g
        self.zero_period_ms = zero_period_ms
        self.max_zero_g = max_zero_g
        self.offset_g = 0
        self.force_g = 0
        self._y = 0            # filtered force (offset removed) << _FRAC
        self._last_x = 0       # last input before offset removal
        self._zero_ms = 0
        self._started = False
        self._big = 0          # direction of the last large deviation (+1/-1), 0 if none
        self._fast_dir = 0     # direction being followed fast after a confirmed jump, 0 if none

    def set_contact(self, contact_g, zero_band_g=None):
        self.contact_g = contact_g
        self.zero_band_g = zero_band_g if zero_band_g is not None else contact_g // 2

    def update(self, force_g, now_ms):
        self._last_x = force_g
        x = (force_g - self.offset_g) << _FRAC
        if not self._started:
            self._started = True
            self._y = x
            self._zero_ms = now_ms
        y = self._y
        d = x - y
        ad = d if d >= 0 else -d
        yg = y >> _FRAC
        thr = yg * self.jump_pct // 100
        if thr < self.jump_g:
            thr = self.jump_g
        # A jump must show on two samples in a row in the same direction: one noise outlier is not a press.
        # Once following a jump, stay fast while the input keeps leading in that direction by more than
        # a quarter of the threshold (the tail of a press settles in a few samples, not 8).
        sgn = 1 if d > 0 else -1
        big = sgn if ad > (thr << _FRAC) else 0
        if self._fast_dir != 0 and (sgn != self._fast_dir or ad <= (thr << (_FRAC - 2))):
            self._fast_dir = 0
        if big != 0 and big == self._big:
            self._fast_dir = big
        self._big = big
        shift = self.fast_shift if self._fast_dir != 0 else self.slow_shift
        y += (d + (1 << (shift - 1))) >> shift if shift > 0 else d
        yg = (y + (1 << (_FRAC - 1))) >> _FRAC
        # Zero tracking: slow, only when unloaded and the reading is steady.
        if ticks.diff(now_ms, self._zero_ms) >= self.zero_period_ms:
            self._zero_ms = now_ms
            steady = ad < (self.jump_g << _FRAC)
            if yg < 0 or (steady and yg < self.zero_band_g and yg != 0):
                step = self.zero_step_g
                if yg < 0:
                    step = -step
                    if yg > step:
                        step = yg
                elif yg < step:
                    step = yg
                off = self.offset_g + step
                if -self.max_zero_g <= off <= self.max_zero_g:
                    self.offset_g = off
                    y -= step << _FRAC
                    yg -= step
        self._y = y
        if yg < 0:
            yg = 0
        self.force_g = yg
        return yg

    def tare(self):
        """Make the current reading zero now (also restarts the filter from zero)."""
        self.offset_g = self._last_x
        self._y = 0
        self.force_g = 0

    def reset(self):
        """Forget the filter state (e.g. after a sensor fault); the next update starts from its input."""
        self._started = False
        self._big = 0
        self._fast_dir = 0
