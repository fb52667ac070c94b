# The body of tools/heap_probe.py (see there): compiled to build/heap/heap_probe_main.mpy and imported
# by the launcher so the probe's own code costs little heap. Run tools/heap_probe.py, not this file.
import gc
import json  # noqa: F401 (tools/heap_probe.py prints with it)
import os
import sys
import time

import micropython

ROOT_TMP = "/tmp/acu_heap_probe"


def _mkdirs(path):
    p = ""
    for part in path.split("/"):
        if part:
            p += "/" + part if (p or path.startswith("/")) else part
            try:
                os.mkdir(p)
            except OSError:
                pass


def _rmtree(path):
    try:
        entries = list(os.ilistdir(path))
    except OSError:
        return
    for e in entries:
        full = path + "/" + e[0]
        if e[1] == 0x4000:
            _rmtree(full)
        else:
            os.remove(full)
    os.rmdir(path)


def write_inputs(root, routine_name):
    """The flash contents the app reads: the routine, the selection, a calibration file."""
    _rmtree(root)
    for d in ("/cfg", "/routines", "/log"):
        _mkdirs(root + d)
    with open("host_tools/library/%s.json" % routine_name, "rb") as f:
        data = f.read()
    with open(root + "/routines/%s.json" % routine_name, "wb") as f:
        f.write(data)
    with open(root + "/cfg/selected", "w") as f:
        f.write(routine_name)
    if "--programme" in sys.argv:
        import heap_probe_programme   # its own module: the probe's code is in the measured heap
        heap_probe_programme.write(root, routine_name)


class VClock:
    """Virtual board clock: ticks advance only when the probe says so."""

    def __init__(self):
        self.t = 1000

    def ticks_ms(self):
        return self.t

    def sleep_ms(self, ms):
        if ms > 0:
            self.t = (self.t + ms) & ((1 << 30) - 1)

    def wall_s(self):
        return None

    def set_wall_s(self, s):
        pass


class User:
    """The scripted user: force_g() for the current time and runner state (allocation-free)."""

    def __init__(self, app):
        self.app = app
        self.seed = 12345
        self.press_ms = -1      # time of the current press's start, -1 when released

    def noise(self, g):
        # 3 % noise, uniform-ish, from a small LCG (small ints only)
        self.seed = (self.seed * 75 + 74) % 65537
        return g * (self.seed % 601 - 300) // 10000

    def force_g(self, now_ms):
        r = self.app.runner
        if not r.target:
            self.press_ms = -1
            return 0
        if self.press_ms < 0:
            self.press_ms = now_ms
        t = now_ms - self.press_ms
        goal = (r.band_lo_g + r.band_hi_g) >> 1
        if t < 600:                       # ramp up over 0.6 s
            g = goal * t // 600
        else:
            cyc = (t - 600) % 20000       # every 20 s: 1.5 s over the band, then 1.5 s under it
            if cyc < 1500:
                g = r.band_hi_g + 600
            elif cyc < 3000:
                g = r.band_lo_g - 600
            else:
                g = goal
        return g + self.noise(g)


class Raw:
    """grams -> the ADC's read_u16 level, inverting the board's nominal calibration points."""

    def __init__(self, points):
        from array import array
        self.r = array("i", [p[0] for p in points])
        self.g = array("i", [p[1] for p in points])
        self.n = len(points)

    def of(self, g):
        r = self.r
        gs = self.g
        if g <= gs[0]:
            return r[0]
        i = 1
        while i < self.n - 1 and gs[i] < g:
            i += 1
        return r[i - 1] + (r[i] - r[i - 1]) * (g - gs[i - 1]) // (gs[i] - gs[i - 1])


class Console:
    """The serial console with a host on it: the first reads deliver a live-link request for a 50 Hz
    stream (docs/protocol.md), every frame the app writes is counted and dropped (allocation-free)."""

    def __init__(self, request):
        self.req = request
        self.pos = 0
        self.bytes_out = 0

    def read_byte(self):
        if self.pos < len(self.req):
            self.pos += 1
            return self.req[self.pos - 1]
        return -1

    def write(self, buf, n):
        self.bytes_out += n


def stream_request():
    from acu import link
    body = b"1 stream 20 3600000"
    return b"#>" + body + b"*%04X\n" % link.crc16(body, 0, len(body))


def completed(log_dir):
    """True when a session log ends with a session end record saying completed (the routine's; a free press
    that follows it is still open)."""
    for name in sorted(x for x in os.listdir(log_dir) if x.endswith(".acl")):
        with open(log_dir + "/" + name, "rb") as f:
            # only the last record (the probe's own reading must not need a big block of the heap)
            if f.seek(0, 2) < 21:
                continue
            f.seek(-21, 2)
            data = f.read(21)
        # the last record: 5-byte head (len, type 6 = session end), payload t_ms u32 then status u8 (1)
        if len(data) == 21 and data[2] == 6 and data[9] == 1:
            return True
    return False


def arg(name, default):
    a = sys.argv
    for i in range(len(a) - 1):
        if a[i] == name:
            return a[i + 1]
    return default


def run():
    res = {"ok": False, "heap_size_bytes": gc.mem_alloc() + gc.mem_free()}
    iters_max = int(arg("--iters", "0"))       # 0: until the routine is done (at most 12 virtual minutes)
    routine_name = arg("--routine", "bedtime")
    root = ROOT_TMP
    write_inputs(root, routine_name)
    import heap_probe_machine as fm
    sys.modules["machine"] = fm
    fm.i2c_devices[0x5A] = bytearray(256)  # a DRV2605L answers on the I2C bus
    clock = VClock()
    gc.collect()
    base = gc.mem_alloc()
    res["heap_base_bytes"] = base
    micropython.qstr_info()   # interned names so far (a line on stdout; bench/run.py reads it)
    phase = "build"
    try:
        # as /main.py does: the board first (acu.appcfg builds it, then drops the board module and
        # acu.parts; appcfg itself is dropped too), then the app's modules
        from boards import esp32_devkitc as board
        del board
        sys.modules["acu.hw"].RealClock = lambda rtc=None: clock   # the board's clock (acu.parts), virtual
        import acu
        from acu import appcfg
        settings = dict(appcfg.DEFAULT_SETTINGS)
        settings["buzzer"] = True
        hw = appcfg.build_board(settings)   # /cfg/board.json is absent here: the default esp32_devkitc
        del appcfg
        acu.forget("appcfg")
        raw = Raw(hw.nominal_calib["points"])
        gc.collect()
        res["heap_after_build_bytes"] = gc.mem_alloc() - base
        phase = "import"
        import acu.app as app_mod
        gc.collect()
        res["heap_after_import_bytes"] = gc.mem_alloc() - base
        phase = "start"
        con = Console(stream_request())
        app = app_mod.App(hw, settings, 1, root, console=con)
        lk = app.link
        gc.collect()
        res["heap_after_app_bytes"] = gc.mem_alloc() - base
        app.start()
        del settings
        gc.collect()
        res["heap_after_start_bytes"] = gc.mem_alloc() - base
        micropython.qstr_info()
        user = User(app)
        adc = fm.adc_values
        adc[35] = 1950 * 65535 // 3300          # battery at 3.9 V through the 1:2 divider
        btn = fm.pins[0]
        phase = "practice"
        peak = gc.mem_alloc()
        lim = iters_max if iters_max else 12 * 60 * 200
        alloc_iters = 0
        locked_n = 0
        locked_errors = 0
        lock_from = -1
        t_us = 0
        gc.disable()
        live = gc.mem_alloc()
        n = 0
        done_at = -1
        was_active = False
        while n < lim:
            now = clock.t
            btn.level = 0 if 1000 <= n < 1020 else 1   # a 100 ms short press at 5 s: start
            adc[34] = raw.of(user.force_g(now))
            if lock_from < 0 and app.runner.state == 1 and app.runner.in_band_ms > 20000:
                # steady: mid-step, in the band; start right after a log flush
                if app.log.last_flush_ms == now - 5:
                    lock_from = n
            if 0 <= lock_from <= n < lock_from + 1000:
                t0 = time.ticks_us()
                micropython.heap_lock()
                try:
                    app.step(now)
                    lk.service(now)
                except MemoryError:
                    locked_errors += 1
                micropython.heap_unlock()
                t_us += time.ticks_diff(time.ticks_us(), t0)
                locked_n += 1
            else:
                app.step(now)
                lk.service(now)
            a = gc.mem_alloc()
            if a != live:
                if a > peak:
                    peak = a
                alloc_iters += 1
                gc.collect()
                live = gc.mem_alloc()
            clock.t += 5
            n += 1
            if app.runner.active():
                was_active = True
            elif was_active and done_at < 0:
                done_at = n          # the session ended (the app reloads the routine: IDLE again)
            if not iters_max and done_at >= 0 and n >= done_at + 400:
                break
        gc.enable()
        if live > peak:
            peak = live
        res["iterations"] = n
        res["practice_s"] = n * 5 // 1000
        res["routine_done"] = done_at >= 0 and completed(root + "/log")
        res["heap_peak_bytes"] = peak - base
        res["heap_peak_total_bytes"] = peak
        res["loop_alloc_iters"] = alloc_iters
        res["loop_locked_iters"] = locked_n
        res["loop_allocs_per_iter"] = (locked_errors / locked_n) if locked_n else None
        res["loop_rate_hz"] = (locked_n * 1000000 // t_us) if t_us else None
        res["link_frames_bytes"] = con.bytes_out
        res["sessions_logged"] = len([x for x in os.listdir(root + "/log") if x.endswith(".acl")])
        res["ok"] = res["routine_done"] and res["sessions_logged"] >= 1 and locked_n > 0 \
            and locked_errors == 0
        phase = "done"
    except MemoryError as e:
        gc.enable()
        res["error"] = "MemoryError in " + phase
        sys.print_exception(e, sys.stderr)  # where it ran out, for whoever shrinks the firmware next
        gc.collect()
    res["phase"] = phase
    return res

