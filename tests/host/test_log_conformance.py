# Conformance of the session log codec with its spec (docs/log-format.md, issue 18): PlainReader below is
# a second decoder written from the spec's text alone, deliberately plain (bit strings, no shared code: it
# imports nothing from acu), and it must agree with acu.logread on every generated and damaged log: how a
# file splits into sessions, and each session's header, steps (with rebuilt summaries), events, trace,
# end record, record count and valid end. Problems are compared as "some" or "none" (their wording is the
# codec's). The logs: sessions written by the real acu.logger (steps of every kind, stalls, interruptions,
# power cuts closed by recover()), version 1 and 2 files built record by record, and those logs damaged
# (flipped bytes, lost, repeated or cut records, garbage, cut tails) with a fixed random seed.
import binascii
import random
import struct

from host_tools.paths import ensure_device_importable

ensure_device_importable()

from acu import logfmt, logger, logread  # noqa: E402  (the codec under test and the writer of the logs)


# ================================================================ the plain reader (from the spec)
class PlainReader:
    STEP_STATUS = {1: "done", 2: "skipped", 3: "aborted", 4: "cut_short", 5: "interrupted"}
    END_STATUS = {1: "completed", 2: "aborted", 3: "cut_short", 4: "interrupted"}
    EVENTS = {1: "pause", 2: "resume", 3: "skip", 4: "abort", 5: "fault", 6: "over_force", 7: "flash_low",
              8: "clock_set", 9: "low_battery", 10: "trace_dropped", 11: "host_stop", 12: "boot_faults",
              13: "write_failed", 14: "arm", 15: "programme", 20: "contact_lost",
              21: "contact_back", 22: "timeout", 23: "dose_max", 24: "min_reached", 25: "steps_planned",
              26: "score"}
    FEEDBACK = ("full", "faded", "bandwidth", "none")
    BAND = ("under_ms", "in_ms", "over_ms", "too_hard_ms")

    # ---- framing
    @staticmethod
    def record_at(data, pos):
        """(type, seq, payload, next) of a valid record at pos, or None."""
        if pos + 5 > len(data):
            return None
        n, rtype, seq = struct.unpack("<HBH", data[pos:pos + 5])
        if n > 2048 or pos + 5 + n + 4 > len(data):
            return None
        crc = struct.unpack("<I", data[pos + 5 + n:pos + 9 + n])[0]
        if binascii.crc32(data[pos:pos + 5 + n]) != crc:
            return None
        return rtype, seq, data[pos + 5:pos + 5 + n], pos + 9 + n

    def records(self, data):
        """[(offset, type, seq, payload)], valid_end, damage seen."""
        out, damaged = [], False
        pos = valid_end = 8
        while pos < len(data):
            r = self.record_at(data, pos)
            if r is None:
                damaged = True
                nxt = next((p for p in range(pos + 1, len(data)) if self.record_at(data, p)), None)
                if nxt is None:
                    break  # a torn tail
                pos = nxt
                continue
            out.append((pos, r[0], r[1], r[2]))
            pos = valid_end = r[3]
        return out, valid_end, damaged

    def split(self, data):
        recs, _end, _d = self.records(data)
        cuts = {8}
        for off, rtype, _seq, payload in recs:
            if rtype == 1:
                cuts.add(off)
            elif rtype == 6:
                cuts.add(off + 9 + len(payload))
        cuts = sorted(cuts)
        pieces = []
        for i, a in enumerate(cuts):
            b = cuts[i + 1] if i + 1 < len(cuts) else len(data)
            if b > a:
                pieces.append((a, b, data[:8] + data[a:b]))
        return pieces

    # ---- fields
    @staticmethod
    def text(raw):
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return "".join(chr(c) if 32 <= c < 127 else "?" for c in raw)

    def strings(self, payload, off, names, d):
        for name in names:
            if off >= len(payload):
                d[name] = ""
                continue
            n = payload[off]
            d[name] = self.text(payload[off + 1:off + 1 + n])
            off += 1 + n
        return off

    def header(self, p, version):
        fmt = "<IIIIHHHBI" if version >= 3 else "<IIIIHHHB"
        v = struct.unpack(fmt, p[:struct.calcsize(fmt)])
        d = {"session_no": v[0], "boot_count": v[1], "start_ticks_ms": v[2], "wall_start_s": v[3] or None,
             "band_lo_g": v[4], "band_hi_g": v[5], "trace_period_ms": v[6], "trace_quantum_g": v[7],
             "boot_id": None}
        if version < 3:
            self.strings(p, 23, ("device_id", "firmware", "board", "routine", "routine_hash", "calib_id"), d)
            d["routine_hash_truncated"] = len(d["routine_hash"]) == 63
            return d
        d["boot_id"] = v[8] or None
        off = self.strings(p, 27, ("device_id", "firmware", "board", "routine", "calib_id"), d)
        n = p[off] if off < len(p) else 0
        d["routine_hash"] = p[off + 1:off + 1 + n].hex()
        d["routine_hash_truncated"] = False
        return d

    def summary(self, p, version):
        fmt = "<HIIIIIIIHHIHHBB" if version >= 3 else "<HIIIIIIIHHIHHB"
        v = struct.unpack(fmt, p[:struct.calcsize(fmt)])
        flags = v[14] if version >= 3 else 0
        d = dict(zip(("index", "t_ms", "under_ms", "in_ms", "over_ms", "too_hard_ms", "no_contact_ms",
                      "fault_ms", "mean_g", "peak_g", "dose_gs", "pauses", "skips"), v[:13], strict=True))
        d["status"] = self.STEP_STATUS.get(v[13], "unknown(%d)" % v[13])
        d["partial"] = bool(flags & 1)
        d["reconstructed"] = bool(flags & 2)
        d["no_band"] = False
        # the teaching fields after the fixed part, when the summary holds them; else full feedback, no check
        d.update(feedback="full", feedback_pct=None, silent_ms=0, silent_in_ms=0, check=None)
        n = struct.calcsize(fmt)
        if version >= 3 and len(p) >= n + struct.calcsize("<BBIIHHb"):
            fb, pct, sil, sil_in, tgt, meas, grade = struct.unpack("<BBIIHHb", p[n:n + 15])
            d["feedback"] = self.FEEDBACK[fb] if fb < 4 else "unknown(%d)" % fb
            d["feedback_pct"] = pct if fb in (1, 2) else None
            d["silent_ms"], d["silent_in_ms"] = sil, sil_in
            if tgt:
                d["check"] = {"target_g": tgt, "measured_g": meas, "grade": grade}
        if flags & 4:
            self.no_band(d)
        return d

    def no_band(self, d):
        d["no_band"] = True
        for k in self.BAND + ("feedback", "feedback_pct", "silent_ms", "silent_in_ms"):
            d[k] = None

    # ---- trace values: the bits as text, read as the spec says
    def values(self, coded, count, first_prev, version):
        """(quantised values, complete?)."""
        out = []
        prev = first_prev
        if version == 1:
            nibs = []
            for b in coded:
                nibs += [b >> 4, b & 15]
            i = 0
            while len(out) < count and i < len(nibs):
                if nibs[i] == 15:
                    if i + 5 > len(nibs):
                        break
                    u = (nibs[i + 1] << 12) | (nibs[i + 2] << 8) | (nibs[i + 3] << 4) | nibs[i + 4]
                    d = u - 65536 if u >= 32768 else u
                    i += 5
                else:
                    d = nibs[i] - 7
                    i += 1
                prev += d
                out.append(prev)
            return out, len(out) == count
        bits = "".join(format(b, "08b") for b in coded)
        i = 0
        while len(out) < count:
            k = 0
            while k < 15 and i < len(bits) and bits[i] == "1":
                k += 1
                i += 1
            if k == 15:
                if i + 16 > len(bits):
                    break
                u = int(bits[i:i + 16], 2)
                d = u - 65536 if u >= 32768 else u
                i += 16
            else:
                if i + 2 > len(bits):  # the zero that ends the ones, then the sign bit
                    break
                d = k if bits[i + 1] == "0" else -k - 1
                i += 2
            prev += d
            out.append(prev)
        return out, len(out) == count

    # ---- a session
    def decode(self, data):
        version = data[6]
        recs, valid_end, damaged = self.records(data)
        out = {"session": None, "steps": [], "events": [], "trace": [], "end": None, "records": len(recs),
               "valid_end": valid_end, "problems": damaged, "version": version}
        steps, order = {}, []
        last = None         # the chunk a version 2 continuation continues (its joined values)
        prev_seq = None
        expect = None
        for _off, rtype, seq, p in recs:
            if rtype == 1 and seq == 0:
                expect = None
            if expect is not None and seq != expect:
                out["problems"] = True
            expect = (seq + 1) % 65536
            gap = prev_seq is not None and seq != (prev_seq + 1) % 65536
            prev_seq = seq
            if gap and version < 3:
                last = None
            try:
                self.one(out, steps, order, version, rtype, p)
            except struct.error:  # a payload shorter than its fixed part
                out["problems"] = True
                if rtype == 7 and version == 2:
                    last = None
                continue
            if rtype == 5:
                c = out["trace"][-1]
                last = c if c["quantum_g"] and not c["problem"] else None
            elif rtype == 7 and version == 2:
                last = self.cont_v2(out, last, p)
        out["steps"] = [steps[i] for i in order]
        self.rebuild(out)
        for st in out["steps"]:
            b = st["begin"]
            if st["summary"] is not None and b is not None and (b["kind"] not in ("press", "check")
                                                                 or not b["band_hi_g"]):
                self.no_band(st["summary"])
        if out["session"] is None or out["end"] is None:
            out["problems"] = True
        return out

    def one(self, out, steps, order, version, rtype, p):
        if rtype == 1:
            h = self.header(p, version)
            if out["session"] is None:
                out["session"] = h
            else:
                out["problems"] = True
        elif rtype in (2, 3):
            if rtype == 2:
                v = struct.unpack("<HIHHH", p[:12])
                d = dict(zip(("index", "t_ms", "band_lo_g", "band_hi_g", "target_s"), v, strict=True))
                self.strings(p, 12, ("kind", "point", "side"), d)
            else:
                d = self.summary(p, version)
            i = d["index"]
            if i not in steps:
                steps[i] = {"index": i, "begin": None, "summary": None}
                order.append(i)
            key = "begin" if rtype == 2 else "summary"
            if steps[i][key] is None:
                steps[i][key] = d
            else:
                out["problems"] = True
        elif rtype == 4:
            t, code, value = struct.unpack("<IBq", p[:13])
            out["events"].append({"t_ms": t, "code": code, "value": value,
                                  "name": self.EVENTS.get(code, "unknown(%d)" % code)})
        elif rtype == 5:
            t0, period, q, count = struct.unpack("<IHBH", p[:9])
            vals, whole = self.values(p[9:], count, 0, version)
            out["trace"].append({"t0_ms": t0, "period_ms": period, "quantum_g": q,
                                 "values_g": [v * q for v in vals], "problem": not whole})
            if not whole:
                out["problems"] = True
        elif rtype == 6:
            t, status, done, wall, flags = struct.unpack("<IBHIB", p[:12])
            d = {"t_ms": t, "status": self.END_STATUS.get(status, "unknown(%d)" % status), "steps_done": done,
                 "wall_end_s": wall or None, "flags": flags, "trace_stopped": bool(flags & 1)}
            if out["end"] is None:
                out["end"] = d
            else:
                out["problems"] = True
        elif rtype == 7 and version >= 3:
            self.cont_v3(out, p)
        elif rtype == 7 and version == 2:
            struct.unpack("<H", p[:2])  # its fixed part; placed by cont_v2
        else:
            out["problems"] = True  # an unknown type

    def cont_v3(self, out, p):
        t0, count = struct.unpack("<IH", p[:6])
        h = out["session"]
        if h is not None and h["trace_period_ms"] and h["trace_quantum_g"]:
            period, q = h["trace_period_ms"], h["trace_quantum_g"]
        else:
            other = [c for c in out["trace"] if c["period_ms"] and c["quantum_g"]]
            if not other:
                out["problems"] = True
                return
            period, q = other[0]["period_ms"], other[0]["quantum_g"]
        vals, whole = self.values(p[6:], count, 0, 3)
        vals = [v * q for v in vals]
        if not whole:
            out["problems"] = True
        lastc = out["trace"][-1] if out["trace"] else None
        if (lastc is not None and not lastc["problem"] and lastc["quantum_g"] and lastc["period_ms"] == period
                and lastc["quantum_g"] == q and lastc["t0_ms"] + period * len(lastc["values_g"]) == t0):
            lastc["values_g"] += vals
            lastc["problem"] = not whole
        else:
            out["trace"].append({"t0_ms": t0, "period_ms": period, "quantum_g": q, "values_g": vals,
                                 "problem": not whole})

    def cont_v2(self, out, last, p):
        (count,) = struct.unpack("<H", p[:2])
        if last is None:
            out["problems"] = True
            return None
        q = last["quantum_g"]
        prev = last["values_g"][-1] // q if last["values_g"] else 0
        vals, whole = self.values(p[2:], count, prev, 2)
        last["values_g"] += [v * q for v in vals]
        if not whole:
            out["problems"] = True
            return None
        return last

    def rebuild(self, out):
        steps, end = out["steps"], out["end"]
        if end is not None:
            last_t = end["t_ms"]
        else:
            times = [c["t0_ms"] + c["period_ms"] * len(c["values_g"]) for c in out["trace"]]
            times += [e["t_ms"] for e in out["events"]]
            times += [r["t_ms"] for st in steps for r in (st["begin"], st["summary"]) if r is not None]
            last_t = max(times + [0])
        for i, st in enumerate(steps):
            b = st["begin"]
            if b is None or st["summary"] is not None:
                continue
            later = [x["begin"]["t_ms"] for x in steps[i + 1:] if x["begin"] is not None]
            stop = later[0] if later else last_t
            if end is None or (not later and end["status"] == "cut_short"):
                status, partial = "cut_short", True
            elif not later and end["status"] == "interrupted":
                status, partial = "interrupted", True
            else:
                status, partial = "unknown", False
            samples = [(c["period_ms"], v) for c in out["trace"] for k, v in enumerate(c["values_g"])
                       if b["t_ms"] <= c["t0_ms"] + c["period_ms"] * k < stop]
            known = bool(samples) and samples[-1][0] > 0
            t = {"under": 0, "in": 0, "over": 0, "none": 0}
            dose = peak = 0
            for period, v in samples:
                if v < 300:
                    t["none"] += period
                    continue
                dose += v * period
                peak = max(peak, v)
                t["under" if v < b["band_lo_g"] else "over" if v > b["band_hi_g"] else "in"] += period
            contact = t["under"] + t["in"] + t["over"]
            evs = [e for e in out["events"] if b["t_ms"] <= e["t_ms"] < stop]
            st["summary"] = {
                "index": st["index"], "t_ms": stop, "under_ms": t["under"] if known else None,
                "in_ms": t["in"] if known else None, "over_ms": t["over"] if known else None,
                "too_hard_ms": None, "no_contact_ms": t["none"] if known else None, "fault_ms": None,
                "mean_g": (dose // contact if contact else 0) if known else None,
                "peak_g": peak if known else None, "dose_gs": dose // 1000 if known else None,
                "pauses": len([e for e in evs if e["code"] in (1, 20)]),
                "skips": len([e for e in evs if e["code"] == 3]), "status": status, "partial": partial,
                "reconstructed": True, "no_band": False, "feedback": None, "feedback_pct": None,
                "silent_ms": None, "silent_in_ms": None, "check": None}


# ================================================================ comparison
def _codec_view(d):
    """The codec's output in the plain reader's terms (problems: some or none; chunk problem: yes/no)."""
    trace = [dict(c, problem=bool(c["problem"])) for c in d["trace"]]
    return {"session": d["session"], "steps": d["steps"], "events": d["events"], "trace": trace,
            "end": d["end"], "records": d["records"], "valid_end": d["valid_end"],
            "problems": bool(d["problems"]), "version": d["version"]}


def _agree(data, what):
    plain = PlainReader()
    pieces = logread.split_sessions(data)
    assert [(a, b) for a, b, _ in pieces] == [(a, b) for a, b, _ in plain.split(data)], what
    for a, _b, blob in pieces:
        mine = plain.decode(blob)
        theirs = _codec_view(logread.decode_session(blob))
        for key in theirs:
            assert mine[key] == theirs[key], "%s, session at byte %d, %s:\n plain %r\n codec %r" % (
                what, a, key, mine[key], theirs[key])


# ================================================================ the logs
class _Clock:
    def __init__(self, t):
        self.now = t

    def ticks_ms(self):
        return self.now & ((1 << 30) - 1)

    def wall_s(self):
        return 0


def _practice(rng, lg, clock, n_steps):
    """Steps of every kind with a hand that presses, wanders, lets go; the loop sometimes stalls; the
    session may stop in the middle of a step."""
    for i in range(n_steps):
        kind = rng.choice(("press", "press", "rest", "breathe", "timed", "check"))
        lo, hi = (rng.choice((2000, 3000)), rng.choice((3500, 5000))) if kind in ("press", "check") else (0, 0)
        lg.stats.reset()
        # the teaching fields: a schedule and its %, and a check's result
        lg.stats.fb, lg.stats.fb_pct = rng.choice(((0, 0), (1, 30), (2, 5), (3, 0), (5, 9)))
        if kind == "check":
            lg.stats.fb = 3
            lg.stats.check_target_g = rng.choice((3000, 4000))
            lg.stats.check_measured_g = rng.randint(0, 9000)
            lg.stats.check_grade = rng.randint(-3, 3)
        lg.step_begin(i, kind, "HT7" if kind == "press" else "", rng.choice(("left", "right", "centre")),
                      lo, hi, rng.randint(5, 60), clock.now)
        force = rng.choice((0, 1500, 4000, 6000))
        for _ in range(rng.randint(200, 3000)):
            if rng.random() < 0.002:
                force = rng.choice((0, 250, 1500, 2500, 4000, 6000, 9000))
            f = max(0, force + rng.randint(-120, 120)) if force else 0
            st = 0 if f < 300 else 1 if f < (lo or 3000) else 2 if f <= (hi or 5000) else 3
            lg.stats.update(st, f, 5, lg.stats.fb != 0 and rng.random() < 0.5)
            lg.sample(f, clock.now)
            lg.poll(clock.now)
            clock.now += 5 if rng.random() > 0.0005 else rng.randint(300, 3000)  # a stall now and then
            if rng.random() < 0.0008:
                lg.event(rng.choice((1, 2, 3, 5, 6, 14, 15, 20, 21, 24, 25, 26)), rng.randint(-1, 9), clock.now)
        if rng.random() < 0.15:
            return  # the session stops here, mid-step
        lg.step_end(i, rng.choice(("done", "done", "skipped", "aborted")), lg.stats, clock.now)


def _device_logs(rng, root):
    """Files written by the real logger: several sessions, some interrupted, some cut by a power cut."""
    clock = _Clock(rng.randint(0, 1 << 29))
    info = {"device_id": "ab12cd", "firmware": "0.3.0", "board": "sim", "boot_count": 3,
            "boot_id": rng.randint(0, 0xFFFFFFFF)}
    lg = logger.Logger(str(root), clock, info, volume_bytes=rng.choice((4096, 32768)))
    lg.stats = logger.StepStats()
    lg.recover()
    endings = ["completed", "interrupted", "cut"] + [rng.choice(("completed", "aborted", "cut"))
                                                     for _ in range(rng.randint(0, 2))]
    rng.shuffle(endings)
    for ending in endings:
        digest = bytes(rng.randrange(256) for _ in range(32)).hex() if rng.random() < 0.8 else ""
        lg.begin_session(rng.choice(("bedtime", "free", "é-routine")), digest, 3000, 5000, now_ms=clock.now)
        _practice(rng, lg, clock, rng.randint(1, 4))
        if ending != "cut":
            lg.end_session(ending, clock.now)  # a step still running gets its partial summary
        else:
            lg.flush(clock.now)  # the power goes: the next boot closes the session cut short
            lg = logger.Logger(str(root), clock, info, volume_bytes=lg.volume_bytes)
            lg.stats = logger.StepStats()
            lg.recover()
        clock.now += rng.randint(1000, 100000)
    lg.end_session("completed", clock.now)
    out = []
    for name in sorted(p.name for p in root.iterdir() if p.suffix == ".acl"):
        out.append((root / name).read_bytes())
    return out


def _old_log(rng, version):
    """A version 1 or 2 session built record by record (the codec's helpers for old formats); version 3: as
    firmware before the feedback schedules wrote it (step summaries without the teaching fields)."""
    out = bytearray(logread.file_header(version))
    h = bytes(rng.randrange(256) for _ in range(32)).hex()
    if version == 3:
        recs = [(1, logread.session_payload(rng.randint(1, 99), 2, 1000, 0, 3000, 5000, 100, 20, "ab", "0.1.0",
                                            "sim", "bedtime", h, "cal", 7))]
    else:
        recs = [(1, logread.session_payload_v2(rng.randint(1, 99), 2, 1000, rng.choice((0, 1700000000)), 3000,
                                               5000, 100, 20, "ab", "0.1.0", "sim", "bedtime",
                                               rng.choice((h, h[:20], "")), "cal"))]
    t = 0
    for i in range(rng.randint(1, 3)):
        kind = rng.choice(("press", "rest", "breathe"))
        recs.append((2, logread.step_begin_payload(i, t, 3000 if kind == "press" else 0,
                                                   5000 if kind == "press" else 0, 30, kind, "HT7", "left")))
        vals = [max(0, 200 + rng.randint(-3, 3)) for _ in range(rng.randint(1, 60))]
        if version == 1:
            recs.append((5, logread.trace_payload_v1(t, 100, 20, vals)))
        else:
            cut = rng.randint(0, len(vals)) if version == 2 else 0
            recs.append((5, logread.trace_payload(t, 100, 20, vals[:cut] or vals)))
            if cut:
                for part in (vals[cut:cut + 10], vals[cut + 10:]):
                    if part:
                        recs.append((7, logread.trace_cont_payload_v2(part, vals[cut - 1])))
                        cut += len(part)
        t += 100 * len(vals)
        recs.append((4, logread.event_payload(t, rng.choice((1, 20, 21)), i)))
        if rng.random() < 0.8:
            recs.append((3, logread.step_summary_payload(i, t, 100, 2000, 50, 0, 300, 0, 4000, 4100, 8000, 0, 0,
                                                         1, version=version)))
    recs.append((6, logread.end_payload(t, rng.choice((1, 3, 4)), 1, 0, 0)))
    for seq, (rtype, payload) in enumerate(recs):
        out += logread.record(rtype, seq, payload)
    return bytes(out)


def _damaged(rng, data):
    """One damaged copy of a log: a few bytes flipped, a record lost, repeated or cut, garbage, a cut tail."""
    recs, _end, _d = PlainReader().records(data)
    b = bytearray(data)
    how = rng.choice(("flip", "lose", "repeat", "garbage", "tail", "cut_inside", "many"))
    if how in ("flip", "many"):
        for _ in range(1 if how == "flip" else rng.randint(2, 8)):
            b[rng.randrange(8, len(b))] ^= 1 << rng.randrange(8)
    elif how in ("lose", "repeat", "cut_inside") and recs:
        off, _t, _s, p = rng.choice(recs)
        rec = bytes(b[off:off + 9 + len(p)])
        if how == "lose":
            del b[off:off + len(rec)]
        elif how == "repeat":
            b[off:off] = rec
        else:
            del b[off + rng.randrange(1, len(rec)):off + len(rec)]
    elif how == "garbage":
        at = rng.randrange(8, len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 40)))
    else:
        del b[rng.randrange(8, len(b)):]
    return bytes(b), how


# ================================================================ the tests
def test_the_plain_reader_agrees_on_logs_the_device_wrote(tmp_path):
    rng = random.Random(18)
    n = 0
    for k in range(6):
        root = tmp_path / ("dev%d" % k)
        root.mkdir()
        for data in _device_logs(rng, root):
            assert data[6] == logfmt.VERSION
            _agree(data, "device log %d" % k)
            n += 1
    assert n >= 6


def test_the_plain_reader_agrees_on_damaged_device_logs(tmp_path):
    rng = random.Random(1818)
    logs = []
    for k in range(3):
        root = tmp_path / ("dev%d" % k)
        root.mkdir()
        logs += _device_logs(rng, root)
    seen = set()
    for i in range(150):
        data, how = _damaged(rng, rng.choice(logs))
        seen.add(how)
        _agree(data, "damaged device log #%d (%s)" % (i, how))
    assert len(seen) == 7


def test_the_plain_reader_agrees_on_older_versions_whole_and_damaged():
    rng = random.Random(218)
    for i in range(180):
        version = 1 + i % 3
        data = _old_log(rng, version)
        _agree(data, "version %d log #%d" % (version, i))
        bad, how = _damaged(rng, data)
        _agree(bad, "damaged version %d log #%d (%s)" % (version, i, how))


def test_the_plain_reader_is_not_trivially_agreeing():
    # the comparison would catch a difference: a summary rebuilt by one reader and not the other
    rng = random.Random(5)
    data = _old_log(rng, 2)
    plain = PlainReader().decode(bytes(data))
    codec = _codec_view(logread.decode_session(data))
    assert plain == codec and plain["session"]["routine"] == "bedtime" and plain["steps"]
    plain["steps"][0]["summary"] = None
    assert plain["steps"] != codec["steps"]
