# FSR creep compensation (docs/calibration.md): loaded only when the calibration in use has a creep entry
# (acu.calib_parse builds it). adjust() is allocation-free: integer maths on small ints only.


class CreepComp:
    """Undo FSR creep during a long hold: adjust(force_g, hold_ms) -> force_g / (1 + c*log10(t/ref)).

    pct_per_decade: measured creep rate (% of force per decade of hold time); ref_s: the hold time at
    which the calibration points were captured (no correction before it). adjust() allocates nothing.
    """

    def __init__(self, pct_per_decade, ref_s=2.0):
        self.pct_per_decade = pct_per_decade
        self.ref_s = ref_s
        self._c_q = int(pct_per_decade * 100 + 0.5)   # 1e-4 per decade
        self._ref_ms = int(ref_s * 1000)
        if self._ref_ms < 1:
            self._ref_ms = 1
        self._ref_l2 = _log2_q(self._ref_ms)

    def factor_q(self, hold_ms):
        """Reading / true force at this hold time, in 1e-4 (10000 = no creep)."""
        if hold_ms <= self._ref_ms:
            return 10000
        if hold_ms > 1 << 28:
            hold_ms = 1 << 28
        # log10(t/ref) in 1e-4 decades = (log2 diff / 4096) * 0.30103 * 1e4
        l10 = ((_log2_q(hold_ms) - self._ref_l2) * 3010) >> 12
        return 10000 + (self._c_q * l10) // 10000

    def adjust(self, force_g, hold_ms):
        if force_g <= 0:
            return force_g
        if force_g > 100000:
            force_g = 100000
        return (force_g * 10000) // self.factor_q(hold_ms)


def _log2_q(x):
    """log2(x) * 4096 for an int x >= 1 (small ints only; error < 0.01 octave)."""
    k = 0
    y = x
    while y >= 256:
        y >>= 1
        k += 1
    while y < 128:
        y <<= 1
        k -= 1
    m = y - 128
    return (k + 7) * 4096 + ((m * 4096 + m * (128 - m) * 11) >> 7)
