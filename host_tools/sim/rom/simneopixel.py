# `neopixel` for the simulated board: the first pixel's colour goes to the output trace as 0xRRGGBB.
import simmachine


class NeoPixel:
    ORDER = (1, 0, 2, 3)

    def __init__(self, pin, n, bpp=3, timing=1):
        self.n = n
        self.bpp = bpp
        self.buf = bytearray(n * bpp)
        self._tid = simmachine._world.name_id("rgb")
        self._last = -1

    def __len__(self):
        return self.n

    # like the real module: buf is in wire order (GRB for a WS2812); ORDER maps r, g, b to buf offsets
    def __setitem__(self, i, v):
        o = i * self.bpp
        for k in range(3):
            self.buf[o + self.ORDER[k]] = v[k]

    def __getitem__(self, i):
        o = i * self.bpp
        return (self.buf[o + self.ORDER[0]], self.buf[o + self.ORDER[1]], self.buf[o + self.ORDER[2]])

    def fill(self, v):
        for i in range(self.n):
            self[i] = v

    def write(self):
        b = self.buf
        od = self.ORDER
        rgb = (b[od[0]] << 16) | (b[od[1]] << 8) | b[od[2]]
        if rgb != self._last:
            self._last = rgb
            simmachine._world.level(self._tid, rgb)
