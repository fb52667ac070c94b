"""Bad input on the host: routine files, calibration points and press profiles mutated and fed to the CLI's
own entry point (in-process) or to the profile parser, and log files from a device mutated and decoded. A
crash is an exception that escapes, or a multi-line error."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
from pathlib import Path

from host_tools.errors import InputError
from host_tools.paths import ensure_device_importable

from .common import SHORT_ROUTINE

ensure_device_importable()
from acu import logread  # noqa: E402


def _cli(argv: list[str]) -> tuple[int, str, bool]:
    """Run the CLI in-process: (exit code, stderr, crashed?). A crash is any exception escaping main()."""
    from host_tools import cli
    err = io.StringIO()
    out = io.StringIO()
    try:
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
            rc = cli.main(argv)
    except SystemExit as e:  # argparse usage errors
        rc = e.code if isinstance(e.code, int) else 2
    except Exception:  # noqa: BLE001 - that is the crash being counted
        return -1, err.getvalue(), True
    return rc, err.getvalue(), False


def _mutations(rng: random.Random, good: bytes, n: int):
    yield b""
    yield b"\xff\xfe\x00garbage"
    yield good[: len(good) // 2]
    yield b"[]"
    yield b"null"
    yield b"{" * 5000
    for _ in range(n):
        b = bytearray(good)
        for _ in range(rng.randint(1, 6)):
            op = rng.random()
            i = rng.randrange(len(b)) if b else 0
            if op < 0.4 and b:
                b[i] = rng.randrange(256)
            elif op < 0.7 and b:
                del b[i:i + rng.randint(1, 8)]
            else:
                b[i:i] = rng.choice([b"9999999", b"-1", b'"x"', b"null", b"1e309", b",", b"\\u0000"])
        yield bytes(b)


def scenario_bad_inputs(work: Path, n_per_kind: int = 60, seed: int = 3) -> dict:
    """Routine, calibration point and press-profile files, log files from a device: mutated and fed to the
    same code the CLI runs. Each must give a one-line error (or be accepted), never a traceback."""
    rng = random.Random(seed)
    d = work / "bad"
    d.mkdir(parents=True, exist_ok=True)
    tried = crashed = multiline = 0
    notes = []
    good_routine = json.dumps(SHORT_ROUTINE).encode()
    good_points = b"grams,raw\n0,4400\n1000,3000\n2000,2500\n3000,2200\n4000,2000\n5000,1850\n"
    good_profile = b"press 4kg for 10s\nrelease\nhold 0 for 2s\n"
    kinds = [("routine", good_routine, ".json", lambda f: ["routine", "validate", f]),
             ("points", good_points, ".csv", lambda f: ["calibrate", "--points", f, "--dry-run", "--sensor", "fsr402"]),
             ("profile", good_profile, ".txt", None)]
    from host_tools.sim import profile as prof
    for kind, good, ext, argv in kinds:
        for i, data in enumerate(_mutations(rng, good, n_per_kind)):
            f = d / ("%s_%d%s" % (kind, i, ext))
            f.write_bytes(data)
            tried += 1
            if argv is None:
                try:
                    prof.parse(data.decode("utf-8", "replace"), str(f))
                except InputError as e:
                    if "\n" in str(e):
                        multiline += 1
                except Exception as e:  # noqa: BLE001
                    crashed += 1
                    notes.append("%s: %r" % (f.name, e))
                continue
            rc, err, crash = _cli(argv(str(f)))
            if crash or (rc != 0 and (err.strip().count("\n") or "Traceback" in err)):
                crashed += 1
                notes.append("%s: rc %s %s" % (f.name, rc, err.strip()[:200]))
    # log files read from a device: truncated, bit-flipped, unknown record types
    from acu import logger as dlogger
    lg_dir = d / "log"
    lg_dir.mkdir(exist_ok=True)
    lg = dlogger.Logger(str(lg_dir), None, {"device_id": "abcd"})
    lg.begin_session("r", now_ms=0)
    for i in range(50):
        lg.sample(4000 + i, i * 5)
        lg.poll(i * 5)
    lg.end_session("completed", 300)
    good_log = (lg_dir / "000001.acl").read_bytes()
    for i in range(n_per_kind * 3):
        b = bytearray(good_log)
        r = rng.random()
        if r < 0.3:
            b = b[: rng.randrange(len(b))]
        elif r < 0.7:
            for _ in range(rng.randint(1, 4)):
                b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
        else:
            b += logread.record(rng.randint(7, 250), rng.randrange(65536), os.urandom(rng.randint(0, 40)))
            b += good_log[8:]
        tried += 1
        try:
            dec = logread.decode_session(bytes(b))
            assert isinstance(dec["problems"], list)
        except logread.LogFormatError:
            pass
        except Exception as e:  # noqa: BLE001
            crashed += 1
            notes.append("log mutation %d: %r" % (i, e))
    return {"rel_bad_inputs_tried": tried, "rel_bad_inputs_crashed": crashed,
            "rel_bad_inputs_multiline_errors": multiline, "_notes_bad": notes[:10]}
