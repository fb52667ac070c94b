"""Log size bench: encode a realistic 5-minute bedtime session through the real logger.

run() -> {"log_bytes_per_practice_minute": ..., "log_year_daily_5min_kb": ..., ...}
"""
import os
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from host_tools.paths import ensure_device_importable  # noqa: E402

ensure_device_importable()

from acu import logfmt, logger, logread  # noqa: E402

LOOP_MS = 5  # 200 Hz app loop
# (point, side, seconds) of the seed's 5-minute bedtime routine, with short transitions between steps
STEPS = [("HT7", "left", 60), ("HT7", "right", 60), ("Yin Tang", "centre", 60), ("GB20", "both", 120)]
TRANSITION_S = 3


class _Clock:
    def __init__(self):
        self.now = 0

    def ticks_ms(self):
        return self.now & ((1 << 30) - 1)

    def wall_s(self):
        return 1700000000 + self.now // 1000

    def set_wall_s(self, s):
        pass


def _force_profile(rng, seconds):
    """A hold at about 4 kg: 300 ms ramp, 3 % sensor noise, slow wander, a few lapses of contact."""
    n = seconds * 1000 // LOOP_MS
    target = rng.uniform(3400, 4600)
    wander = 0.0
    out = []
    for i in range(n):
        t_ms = i * LOOP_MS
        ramp = min(1.0, t_ms / 300.0)
        wander += rng.gauss(0, 4)
        wander *= 0.999
        f = target * ramp + wander + rng.gauss(0, 0.03 * target)
        if 20000 <= t_ms % 30000 < 20400:  # a brief release every 30 s (repositioning)
            f = rng.uniform(0, 200)
        out.append(max(0, int(f)))
    return out


def _logger(d, clock, boot_count):
    return logger.Logger(d, clock, {"unique_id": b"\x24\x0a\xc4\x00\x11\x22", "firmware": "0.1.0",
                                    "board": "esp32_devkitc", "boot_count": boot_count, "calib_id": "c-2024"},
                         free_bytes_fn=lambda: 1 << 22)


def encode_session(seed=1):
    rng = random.Random(seed)
    clock = _Clock()
    with tempfile.TemporaryDirectory() as d:
        lg = _logger(d, clock, 12)
        lg.begin_session("bedtime", "9f2c1ab0", 3000, 5000, now_ms=0)
        practice_ms = 0
        for idx, (point, side, secs) in enumerate(STEPS):
            lg.step_begin(idx, "press", point, side, 3000, 5000, secs, clock.now)
            st = logger.StepStats()
            for f in _force_profile(rng, secs):
                lg.sample(f, clock.now)
                st.update(2 if 3000 <= f <= 5000 else (1 if f > 300 else 0), f, LOOP_MS)
                lg.poll(clock.now)
                clock.now += LOOP_MS
            practice_ms += secs * 1000
            lg.step_end(idx, "done", st, clock.now)
            for _ in range(TRANSITION_S * 1000 // LOOP_MS):
                lg.sample(0, clock.now)
                lg.poll(clock.now)
                clock.now += LOOP_MS
        lg.end_session("completed", clock.now)
        data = open(os.path.join(d, "000001.acl"), "rb").read()
    dec = logread.decode_session(data)
    assert dec["problems"] == [], dec["problems"]
    return data, practice_ms, dec


def long_session_file(min_bytes=200 * 1024, seed=7):
    """A real session file of at least min_bytes, written by the device's logger: a long free-press
    session (holds of 50-90 s at 3-5 kg with 3 % noise, 5-20 s off the skin between them). The logger's
    100 ms window gets one sample per call (the trace is 10 Hz either way), which keeps this fast."""
    rng = random.Random(seed)
    clock = _Clock()
    with tempfile.TemporaryDirectory() as d:
        lg = _logger(d, clock, 3)
        no = lg.begin_session("", "", 3000, 5000, now_ms=0)
        path = os.path.join(d, "%06d.acl" % no)
        period = lg.trace_period_ms
        while os.path.getsize(path) < min_bytes:
            hold_ms = rng.randint(50, 90) * 1000
            target = rng.uniform(3300, 4700)
            for t in range(0, hold_ms, period):
                f = target * min(1.0, t / 400.0) + rng.gauss(0, 0.03 * target / 4.5)  # 3 %, over 20 loop samples
                lg.sample(max(0, int(f)), clock.now)
                lg.poll(clock.now)
                clock.now += period
            for _ in range(rng.randint(50, 200)):
                lg.sample(0, clock.now)
                lg.poll(clock.now)
                clock.now += period
            lg.flush(clock.now)
        lg.end_session("completed", clock.now)
        with open(path, "rb") as f:
            return f.read()


def year_flash_kb(session_bytes, sessions=365, block=4096):
    """Flash taken by a year of such sessions as the logger files them: appended to the newest file
    while it is smaller than logger.VOLUME_BYTES; LittleFS gives each file whole blocks."""
    body = session_bytes - logfmt.FILE_HEADER_LEN
    files = []
    for _ in range(sessions):
        if not files or files[-1] >= logger.VOLUME_BYTES:
            files.append(logfmt.FILE_HEADER_LEN)
        files[-1] += body
    return sum(-(-f // block) for f in files) * block / 1024, len(files)


def run():
    data, practice_ms, dec = encode_session()
    per_min = len(data) * 60000 / practice_ms
    samples = sum(len(c["values_g"]) for c in dec["trace"])
    flash_kb, files = year_flash_kb(len(data))
    return {
        "log_year_daily_5min_flash_kb": flash_kb,
        "log_year_daily_5min_files": files,
        "log_bytes_per_practice_minute": round(per_min, 1),
        "log_session_5min_bytes": len(data),
        "log_trace_hz": round(samples * 1000 / dec["end"]["t_ms"], 2),
        "log_year_daily_5min_kb": round(len(data) * 365 / 1024, 1),
    }


if __name__ == "__main__":
    import json
    print(json.dumps(run(), indent=2))
