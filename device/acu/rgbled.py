# RGB feedback drivers: a NeoPixel (WS2812/SK6812) pixel and a discrete RGB LED on three PWM pins. Only
# boards with an RGB LED load this module (acu.parts imports it for them). set(r, g, b) runs in the loop:
# integer maths only, no allocation, the hardware written only when a value changes.
from acu.outputs import PwmLed


class NeoPixelLed:
    """One pixel of a WS2812/SK6812 strip (neopixel.NeoPixel). set(r, g, b) with 0..255 components,
    scaled by max_level/255 so a pixel is not blinding in a dark bedroom. Writes the NeoPixel's byte
    buffer directly (np[i] = (r, g, b) would allocate a tuple)."""

    def __init__(self, np, index=0, max_level=80):
        self._np = np
        self._max = max_level
        bpp = np.bpp if hasattr(np, "bpp") else 3
        order = np.ORDER if hasattr(np, "ORDER") else (1, 0, 2, 3)
        base = index * bpp
        self._ir = base + order[0]
        self._ig = base + order[1]
        self._ib = base + order[2]
        self._buf = np.buf
        self.r = self.g = self.b = -1
        self.set(0, 0, 0)

    def set(self, r, g, b):
        if r == self.r and g == self.g and b == self.b:
            return
        self.r = r
        self.g = g
        self.b = b
        m = self._max
        buf = self._buf
        buf[self._ir] = r * m // 255 if 0 <= r <= 255 else (m if r > 255 else 0)
        buf[self._ig] = g * m // 255 if 0 <= g <= 255 else (m if g > 255 else 0)
        buf[self._ib] = b * m // 255 if 0 <= b <= 255 else (m if b > 255 else 0)
        self._np.write()


class RgbPwm:
    """A discrete RGB LED on three PWM pins; common_anode=True inverts the duty."""

    def __init__(self, pwm_r, pwm_g, pwm_b, common_anode=False):
        self._r = PwmLed(pwm_r, common_anode)
        self._g = PwmLed(pwm_g, common_anode)
        self._b = PwmLed(pwm_b, common_anode)

    def set(self, r, g, b):
        # 0..255 -> 0..1023
        self._r.set(r * 4 + (r >> 6))
        self._g.set(g * 4 + (g >> 6))
        self._b.set(b * 4 + (b >> 6))
