# Study arms (docs/study.md, "Arms"): what the outputs show, set by a study's enrolment (setting `arm`) without
# the participant being told. Loaded only on a device whose arm is not the normal one (no heap otherwise).
# In every arm the device senses, classifies, runs the routine and logs exactly as in the normal arm: only the
# band state handed to the feedback changes. The too-hard warning and the fault cue are never silenced: they
# are safety, not feedback.
from micropython import const

from acu import band

NORMAL = const(0)
NO_FEEDBACK = const(1)   # quiet between the safety cues: the band's under/in/over are not shown
SHAM_BAND = const(2)     # feedback against a band moved away from the target
SHAM_SHIFT_G = const(1500)  # how far the sham band is moved (docs/study.md says why 1.5 kg)
_SHAM_MIN_LO_G = const(800)  # a sham band moved below this (a gentle point's band) is moved up instead


class Arm:
    """code: the setting (1 or 2); real: the app's band classifier (its band is the routine's target)."""

    def __init__(self, code, real):
        self.code = code
        self.real = real
        self.sham = None
        self._lo = -1
        self._hi = -1
        if code == SHAM_BAND:
            self.sham = band.BandClassifier(too_hard_g=real.too_hard_g, contact_g=real.contact_g)

    def shown(self, st, g, now_ms):
        """The band state the feedback shows when the real one is st at force g. Allocation-free."""
        sham = self.sham
        s = st
        if sham is not None:
            r = self.real
            if r.lo_g != self._lo or r.hi_g != self._hi:
                self._lo = r.lo_g
                self._hi = r.hi_g
                d = -SHAM_SHIFT_G if r.lo_g - SHAM_SHIFT_G >= _SHAM_MIN_LO_G else SHAM_SHIFT_G
                sham.set_band(r.lo_g + d, r.hi_g + d)
            s = sham.update(g, now_ms, 0)  # every sample, so its hysteresis and confirmation stay true
        if st == band.TOO_HARD or st == band.FAULT or st == band.NO_CONTACT:
            return st  # safety, and nothing pressed: as in the normal arm
        if sham is None:
            return band.NO_CONTACT  # feedback off: the quiet pattern of no press
        if s == band.TOO_HARD or s == band.FAULT:
            return band.OVER  # (the real classifier owns these)
        if s == band.NO_CONTACT:
            return band.UNDER
        return s
