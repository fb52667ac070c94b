# The simulated world around the firmware (runs inside the MicroPython unix port, like silicon + ROM):
# a virtual clock, the link to the launcher, the hand that presses the sensor, the button finger and
# the recorder of what the outputs did. Nothing here is firmware: a real board has physics instead.
#
# Hot-path rule: sleep_ms(), force_g(), button_level() and emit() run in the firmware's sampling loop,
# so they use preallocated buffers and small-int maths only (the loop is proven allocation-free with
# micropython.heap_lock()). Handling a control message from the launcher may allocate: that is the
# outside world acting, not the firmware.
import os
import select
import socket
import struct
import time

try:
    from micropython import const
except ImportError:  # CPython (tests import the pure parts)
    def const(x):
        return x

_MASK = const((1 << 30) - 1)
_HALF = const(1 << 29)
MAXSEG = const(64)
MAXBTN = const(32)

# frame types (docs/simulator.md): launcher -> firmware
RX_PROFILE = const(1)   # n x (dur_ms, f0_g, f1_g, noise_g) int32; f0_g == -1: start from the current force
RX_BUTTON = const(2)    # n x (delay_ms, level) int32: button level changes relative to receipt
RX_SENSOR_FAULT = const(3)  # int32: 0 ok, 1 unplugged (open), 2 shorted
RX_INTERRUPT = const(4)     # (empty) the host's Ctrl-C while code runs: KeyboardInterrupt at the next call
RX_PART_FAULT = const(5)    # int32 part, int32 value: a bring-up fault of the board (PART_* below)
# firmware -> launcher
TX_HELLO = const(10)    # uptime_ms
TX_NAME = const(11)     # id u8 + utf-8 name
TX_LEVEL = const(12)    # t_ms u32, id u8, value i32
TX_NOTE = const(13)     # t_ms u32, id u8, value i32
TX_CLOCK = const(14)    # t_ms u32, uptime_s u32 (once per virtual second)
TX_WALL = const(15)     # uptime_s u32, epoch u32 (the firmware set its clock)
TX_RESET = const(16)    # u32 kind: 0 soft reset, 3 hard reset, 7 halted (ROM failure)
TX_INTERRUPTIBLE = const(17)  # u32 1/0: boot.py/main.py run (a Ctrl-C interrupts them) / they ended


# RX_PART_FAULT parts (acutrainer sim fault): what a freshly soldered board gets wrong
PART_MOTOR = const(1)    # 1: the motor is dead (its pin is driven, nothing spins: a cold joint, no supply)
PART_BUTTON = const(2)   # 1: stuck pressed (shorted to GND), 2: dead (never reads pressed: an open lead)
PART_BLEED = const(3)    # 1: the sensor's bleed resistor is missing (an unloaded FSR's node floats)


def _diff(a, b):
    return ((a - b + _HALF) & _MASK) - _HALF


class _Rng:
    """xorshift32 in small ints (31-bit safe halves) - allocation-free noise."""

    def __init__(self, seed):
        self.s = (seed & 0x3FFFFFFF) or 0x1234567

    def next(self):
        s = self.s
        s ^= (s & 0x7FFFFF) << 7
        s ^= s >> 9
        s ^= (s & 0x3FFFFF) << 8
        self.s = s & 0x3FFFFFFF
        return self.s

    def sym(self, amp):
        """Roughly normal in [-amp, amp] (sum of two uniforms)."""
        if amp <= 0:
            return 0
        a = (self.next() & 0xFFFF) + (self.next() & 0xFFFF)  # 0..131070, mean 65535
        return ((a - 65535) * amp) >> 16


class World:
    def __init__(self, port, speed_milli=1000, wall_s=None, seed=1):
        self.v = 0                 # virtual ms since boot, wrapped like ticks_ms
        self.uptime_s = 0
        self._ms_rem = 0
        self.speed_milli = speed_milli  # 1000 = real time; 0 = as fast as possible
        self._due_us = time.ticks_us()
        self._last_sleep_us = self._due_us
        self._cu_rem = 0           # catch-up remainder (virtual ms x 1e6) outside the app
        self._parsing = False      # handling the link's frames (their notes must not poll it again)
        self.in_app = False  # simboot sets it while main.py runs: no catch-up inside the app's loop
        self.interruptible = False  # simboot sets it while boot.py/main.py run (set_interruptible)
        self._interrupt = False
        self.wall_base = wall_s    # epoch s at uptime_base_s, None when unset
        self.uptime_base_s = 0
        self.rng = _Rng(seed)
        # force profile: parallel arrays, times as wrapped ticks
        self.seg_n = 0
        self.seg_i = 0
        self.seg_t0 = [0] * MAXSEG
        self.seg_t1 = [0] * MAXSEG
        self.seg_f0 = [0] * MAXSEG
        self.seg_f1 = [0] * MAXSEG
        self.seg_noise = [0] * MAXSEG
        self.force_now_g = 0
        self.sensor_fault = 0
        self.motor_dead = 0        # PART_MOTOR
        self.button_stuck = 0      # PART_BUTTON
        self.no_bleed = 0          # PART_BLEED
        # button schedule
        self.btn_n = 0
        self.btn_i = 0
        self.btn_t = [0] * MAXBTN
        self.btn_lvl = [0] * MAXBTN
        self.btn_level = 0
        # link
        self.sock = None
        self.poller = None
        self.rx = bytearray(4096)
        self.rx_len = 0
        self.tx12 = bytearray(12)
        self.tx11 = bytearray(11)
        self.tx7 = bytearray(7)
        self.names = {}
        self.dropped = 0
        if port:
            s = socket.socket()
            s.connect(socket.getaddrinfo("127.0.0.1", port)[0][-1])
            # non-blocking: a stream readinto() on a blocking socket waits until the buffer is full
            s.setblocking(False)
            self.sock = s
            self.poller = select.poll()
            self.poller.register(s, select.POLLIN)

    # ---- clock -------------------------------------------------------------------------------
    def ticks_ms(self):
        self._catch_up()
        return self.v

    def _advance(self, ms):
        self.v = (self.v + ms) & _MASK
        r = self._ms_rem + ms
        if r >= 1000:
            while r >= 1000:
                r -= 1000
                self.uptime_s += 1
            self._ms_rem = r
            self._emit_clock()
        else:
            self._ms_rem = r

    def _catch_up(self, poll=True):
        """Outside the app (the host holds the REPL, boot.py, code that blocks) the world goes on as it does
        around a board: every observation (the clock, the force, the button, an output's time) first moves
        virtual time up to real time x speed since the last one, and takes what the launcher sent (a press,
        a button) from the link. While main.py runs (in_app) time moves by the loop's sleeps only, so runs
        are deterministic whatever the load, and the link is read once per sleep."""
        if self.in_app:
            return
        now = time.ticks_us()
        gap = time.ticks_diff(now, self._last_sleep_us)
        if gap > 0:
            # virtual ms = real us x speed_milli / 1e6, the remainder carried (no drift from many small gaps)
            acc = self._cu_rem + gap * (self.speed_milli or 1000)
            ms = acc // 1000000
            self._cu_rem = acc - ms * 1000000
            if ms:
                self._advance(ms)
            self._last_sleep_us = now
            self._due_us = now
        if poll and not self._parsing:
            self.poll_link()

    def sleep_ms(self, ms):
        self._catch_up()
        if ms <= 0:
            self.poll_link()
            self._last_sleep_us = time.ticks_us()
            return
        self._advance(ms)
        self.poll_link()
        sp = self.speed_milli
        if sp:
            self._due_us = time.ticks_add(self._due_us, (ms * 1000000) // sp)
            d = time.ticks_diff(self._due_us, time.ticks_us())
            if d > 0:
                time.sleep_us(d)
            elif d < -200000:  # far behind (the host stopped us): do not burst to catch up
                self._due_us = time.ticks_us()
        self._last_sleep_us = time.ticks_us()

    def wall_s(self):
        self._catch_up()
        if self.wall_base is None:
            return None
        return self.wall_base + (self.uptime_s - self.uptime_base_s)

    def set_wall_s(self, epoch_s):
        self._catch_up()  # the uptime the epoch is pinned to is now, not the last observation's
        self.wall_base = int(epoch_s)
        self.uptime_base_s = self.uptime_s
        if self.sock is not None:
            struct.pack_into("<HBII", self.tx11, 0, 9, TX_WALL, self.uptime_s, self.wall_base & 0xFFFFFFFF)
            self._write(self.tx11)

    # ---- the hand ------------------------------------------------------------------------------
    def force_g(self):
        """Force on the tip now (grams), from the loaded profile, with hand tremor."""
        self._catch_up()
        n = self.seg_n
        if n == 0:
            return self.force_now_g
        v = self.v
        i = self.seg_i
        while i < n - 1 and _diff(v, self.seg_t1[i]) >= 0:
            i += 1
        self.seg_i = i
        t0 = self.seg_t0[i]
        if _diff(v, t0) < 0:
            return self.force_now_g
        t1 = self.seg_t1[i]
        span = _diff(t1, t0)
        el = _diff(v, t0)
        f0 = self.seg_f0[i]
        f1 = self.seg_f1[i]
        if el >= span or span <= 0:
            f = f1
        else:
            f = f0 + ((f1 - f0) * el) // span
        noise = self.seg_noise[i]
        if noise:
            f += self.rng.sym(noise)
        if f < 0:
            f = 0
        self.force_now_g = f
        return f

    def button_level(self):
        """1 while the simulated finger holds the button down (or the button is stuck: PART_BUTTON)."""
        if not self.in_app:
            self._catch_up()
        i = self.btn_i
        while i < self.btn_n and _diff(self.v, self.btn_t[i]) >= 0:
            self.btn_level = self.btn_lvl[i]
            i += 1
        self.btn_i = i
        if self.button_stuck:
            return 1 if self.button_stuck == 1 else 0
        return self.btn_level

    # ---- the recorder ----------------------------------------------------------------------------
    def name_id(self, name):
        """Register an output/note name once (allocates: call at construction time)."""
        i = self.names.get(name)
        if i is None:
            i = len(self.names) + 1
            self.names[name] = i
            if self.sock is not None:
                b = name.encode()
                hdr = bytearray(4)
                struct.pack_into("<HBB", hdr, 0, 2 + len(b), TX_NAME, i)
                self.sock.write(hdr)
                self.sock.write(b)
        return i

    def level(self, out_id, value):
        """An output changed level (PWM duty, pin, LED colour)."""
        if not self.in_app and not self._parsing:
            self._catch_up(False)  # recorded at the virtual time it happens (the link is not read here)
        if self.sock is not None:
            struct.pack_into("<HBIBi", self.tx12, 0, 10, TX_LEVEL, self.v, out_id, value)
            self._write(self.tx12)

    def note(self, note_id, value):
        if not self.in_app and not self._parsing:
            self._catch_up(False)
        if self.sock is not None:
            struct.pack_into("<HBIBi", self.tx12, 0, 10, TX_NOTE, self.v, note_id, value)
            self._write(self.tx12)

    def _emit_clock(self):
        if self.sock is not None:
            struct.pack_into("<HBII", self.tx11, 0, 9, TX_CLOCK, self.v, self.uptime_s)
            self._write(self.tx11)

    def hello(self):
        """The board has booted its ROM: the launcher starts passing the host's bytes to it."""
        if self.sock is not None:
            struct.pack_into("<HBI", self.tx7, 0, 5, TX_HELLO, self.v)
            self._write(self.tx7)

    def set_interruptible(self, on):
        """While boot.py/main.py run, the launcher turns a host's Ctrl-C into RX_INTERRUPT instead of a byte
        of input, and poll_link() raises KeyboardInterrupt: at a call into this module, a safe point. (A
        SIGINT would be raised by the unix port wherever it lands, inside a garbage collection too, which
        leaves the heap locked: "FATAL: uncaught NLR". A board's UART schedules the interrupt likewise.)"""
        self.interruptible = bool(on)
        self._interrupt = False
        if self.sock is not None:
            struct.pack_into("<HBI", self.tx7, 0, 5, TX_INTERRUPTIBLE, 1 if on else 0)
            self._write(self.tx7)

    def reset(self, kind):
        """Ask the launcher to reset the board (it ends this process and boots a new one). `sys.exit` cannot
        do it: under `micropython -i` it falls back to the REPL."""
        if self.sock is not None:
            self.sock.setblocking(True)
            struct.pack_into("<HBI", self.tx7, 0, 5, TX_RESET, kind)
            self.sock.write(self.tx7)
        while True:
            time.sleep_ms(100)

    def _write(self, frame):
        try:
            self.sock.write(frame)
        except OSError as e:
            if e.errno == 11:  # EAGAIN: the launcher is behind; drop this record, count it
                self.dropped += 1
            else:
                self.sock = None  # the launcher went away: keep running, stop reporting

    # ---- the link ------------------------------------------------------------------------------
    def poll_link(self):
        p = self.poller
        if p is None or self.sock is None:
            return
        for _ in p.ipoll(0):
            try:
                n = self.sock.readinto(memoryview(self.rx)[self.rx_len:])
            except OSError:
                n = 0
            if n is None:  # spurious wake-up
                return
            if not n:
                self.poller = None
                return
            self.rx_len += n
            self._parsing = True
            self._parse()
            self._parsing = False
            if self._interrupt:
                self._interrupt = False
                raise KeyboardInterrupt
            return

    def _parse(self):
        buf = self.rx
        pos = 0
        while self.rx_len - pos >= 3:
            ln = buf[pos] | (buf[pos + 1] << 8)
            if self.rx_len - pos - 2 < ln:
                break
            self._handle(buf[pos + 2], pos + 3, ln - 1)
            pos += 2 + ln
        if pos:
            rest = self.rx_len - pos
            buf[0:rest] = buf[pos:self.rx_len]
            self.rx_len = rest

    def _handle(self, typ, off, ln):
        buf = self.rx
        if typ == RX_PROFILE:
            n = min(ln // 16, MAXSEG)
            t = self.v
            cur = self.force_now_g
            for i in range(n):
                dur, f0, f1, noise = struct.unpack_from("<iiii", buf, off + 16 * i)
                if f0 == -1:
                    f0 = cur
                self.seg_t0[i] = t
                t = (t + max(dur, 0)) & _MASK
                self.seg_t1[i] = t
                self.seg_f0[i] = f0
                self.seg_f1[i] = f1
                self.seg_noise[i] = noise
                cur = f1
            self.seg_n = n
            self.seg_i = 0
            self.note(self.name_id("profile"), n)  # the exact virtual time the hand starts the profile
        elif typ == RX_BUTTON:
            n = min(ln // 8, MAXBTN)
            for i in range(n):
                delay, lvl = struct.unpack_from("<ii", buf, off + 8 * i)
                self.btn_t[i] = (self.v + delay) & _MASK
                self.btn_lvl[i] = lvl
            self.btn_n = n
            self.btn_i = 0
            self.note(self.name_id("button_input"), n)
        elif typ == RX_SENSOR_FAULT:
            self.sensor_fault = struct.unpack_from("<i", buf, off)[0]
        elif typ == RX_PART_FAULT:
            part, value = struct.unpack_from("<ii", buf, off)
            if part == PART_MOTOR:
                self.motor_dead = value
            elif part == PART_BUTTON:
                self.button_stuck = value
            elif part == PART_BLEED:
                self.no_bleed = value
        elif typ == RX_INTERRUPT:
            self._interrupt = self.interruptible  # stale (the code already ended): ignored


def halt(code):
    """Stop the board for good (ROM failure): the launcher records it and stops the simulator."""
    if world is not None:
        world.reset(code)
    while True:
        time.sleep_ms(1000)


def _env_int(name, default):
    v = os.getenv(name)
    return int(v) if v else default


world = None


def start():
    """Called once by simboot: connect to the launcher named in the environment."""
    global world
    wall = os.getenv("ACU_WALL")
    world = World(
        _env_int("ACU_CTRL_PORT", 0),
        speed_milli=_env_int("ACU_SPEED_MILLI", 1000),
        wall_s=int(wall) if wall else None,
        seed=_env_int("ACU_SEED", 1),
    )
    return world
