"""acutrainer doctor's checks, against a fake session (the integration test uses the simulator)."""

import calendar
import hashlib
import io
import json
from types import SimpleNamespace

from rich.console import Console

from host_tools import doctor, ports
from host_tools.archive import Archive
from host_tools.commands import doctor as doctor_cmd
from host_tools.errors import DeviceError, LinkError

NOW = calendar.timegm((2026, 3, 1, 12, 0, 0, 0, 0, 0))
FILES = {"/main.py": b"main", "/lib/acu/app.mpy": b"app"}


def planned(board, source):
    return dict(FILES)


def version_json(files=None, fmt="mpy", fw="0.1.0"):
    files = FILES if files is None else files
    return {
        "firmware": fw,
        "board": "esp32_devkitc",
        "format": fmt,
        "files": {p: hashlib.sha256(d).hexdigest() for p, d in files.items()},
    }


def status(**over):
    st = {
        "firmware": "0.1.0",
        "board": "esp32_devkitc",
        "calibrated": True,
        "calib_id": "cal-1",
        "calib_created": "2026-02-01T00:00:00Z",
        "sensor": "fsr402",
        "routine": "bedtime",
        "runner": {"steps": 5},
        "wall_s": NOW + 3,
        "free_bytes": 1_500_000,
        "flash_bytes": 2_000_000,
        "log": {"reserve_bytes": 65536, "flash_low": False},
        "boot_problems": [],
        "set_aside": [],
    }
    st.update(over)
    return st


class FakeSession:
    def __init__(self, st=None, ver=None, vjson="default", sessions=(), sample=None, fault_file=None):
        self.st = status() if st is None else st
        self.fault_file = fault_file  # /cfg/fault.json's bytes (None: no such file)
        self.ver = ver or {
            "firmware": "0.1.0",
            "micropython": "1.29.0",
            "mpy": 0x0B06,
            "board": "esp32_devkitc",
        }
        self.vjson = version_json() if vjson == "default" else vjson
        self.sessions = list(sessions)
        self.sample = sample or {"fault": 0, "raw_median": 1500, "grams": 0}

    def call(self, module, func, *args):
        table = {
            ("acu.api", "version"): self.ver,
            ("acu.api", "status"): self.st,
            ("acu.api", "sample"): self.sample,
            ("acu.logadmin", "list_sessions"): self.sessions,
        }
        v = table[(module, func)]
        if isinstance(v, Exception):
            raise v
        return v

    def exists(self, path):
        if path == "/cfg/fault.json":
            return self.fault_file is not None
        assert path == "/cfg/version.json"
        return self.vjson is not None

    def read_file(self, path):
        if path == "/cfg/fault.json":
            return self.fault_file
        return json.dumps(self.vjson).encode()


def diag(sess, tmp_path, abi=(6, 3), **kw):
    return doctor.diagnose(
        sess,
        archive_path=tmp_path / "archive.sqlite",
        now=lambda: NOW,
        mpy_cross_abi=lambda: abi,
        planned=planned,
        **kw,
    )


def by_name(checks):
    return {c.name: c for c in checks}


def test_a_healthy_board_passes_every_check(tmp_path):
    checks = diag(FakeSession(), tmp_path)
    bad = [c for c in checks if c.status not in (doctor.OK, doctor.INFO)]
    assert bad == []
    assert doctor.healthy(checks)
    names = [c.name for c in checks]
    for n in (
        "micropython",
        "mpy",
        "app",
        "files",
        "flash",
        "calibration",
        "clock",
        "routine",
        "sensor",
        "sessions",
        "boot files",
    ):
        assert n in names
    assert not (tmp_path / "archive.sqlite").exists()  # the doctor creates no archive


def test_uncalibrated_is_a_problem_with_a_fix(tmp_path):
    c = by_name(diag(FakeSession(st=status(calibrated=False, calib_created=None)), tmp_path))["calibration"]
    assert c.status == doctor.FAIL
    assert "acutrainer calibrate" in c.fix


def test_old_calibration_is_a_warning():
    c = doctor.check_calibration(status(calib_created="2025-01-01T00:00:00Z"), NOW)
    assert c.status == doctor.WARN and "days old" in c.detail
    assert doctor.check_calibration(status(calib_created="yesterday"), NOW).status == doctor.WARN
    assert doctor.check_calibration(status(), NOW).status == doctor.OK


def test_clock_unset_or_skewed_is_a_warning():
    assert doctor.check_clock(status(wall_s=None), NOW).status == doctor.WARN
    skewed = doctor.check_clock(status(wall_s=NOW - 3600), NOW)
    assert skewed.status == doctor.WARN and skewed.fix == "acutrainer sync"
    assert doctor.check_clock(status(wall_s=NOW + 10), NOW).status == doctor.OK


def test_no_routine_selected_fails():
    c = doctor.check_routine(status(routine=None))
    assert c.status == doctor.FAIL and "routine push" in c.fix


def test_flash_levels():
    assert doctor.check_flash(status(free_bytes=1_000_000)).status == doctor.OK
    assert doctor.check_flash(status(free_bytes=100_000)).status == doctor.WARN
    assert doctor.check_flash(status(free_bytes=10_000)).status == doctor.FAIL
    low = status(log={"reserve_bytes": 65536, "flash_low": True})
    assert doctor.check_flash(low).status == doctor.FAIL
    assert doctor.check_flash(status(free_bytes=None)).status == doctor.WARN


def test_flash_write_errors_and_an_impossible_free_count():
    # a full flash whose statvfs wrapped: "healthy, 17179869160 KB free" while sessions were refused
    wrapped = status(free_bytes=17179869160 * 1024, log={"reserve_bytes": 65536})
    c = doctor.check_flash(wrapped)
    assert c.status == doctor.WARN and "believable" in c.detail
    for n in (1, 2):
        c = doctor.check_flash(status(log={"write_errors": n, "reserve_bytes": 65536}))
        assert c.status == doctor.FAIL and "failed since the board started" in c.detail and "pull --delete" in c.fix


def test_version_mismatches(tmp_path):
    c = by_name(
        diag(FakeSession(ver={"firmware": "0.0.9", "micropython": "1.29.0", "mpy": 0x0B06}), tmp_path)
    )
    assert c["app"].status == doctor.FAIL and "deploy" in c["app"].fix
    c = by_name(diag(FakeSession(vjson=None), tmp_path))
    assert c["deploy"].status == doctor.FAIL
    c = by_name(
        diag(FakeSession(ver={"firmware": "0.1.0", "micropython": "1.27.0", "mpy": 0x0B06}), tmp_path)
    )
    assert c["micropython"].status == doctor.WARN and "make flash" in c["micropython"].fix
    c = by_name(diag(FakeSession(), tmp_path, abi=(7, 0)))
    assert c["mpy"].status == doctor.FAIL and "--source" in c["mpy"].fix
    # a --source deploy runs on any .mpy version: only a warning
    c = by_name(diag(FakeSession(vjson=version_json(fmt="source")), tmp_path, abi=(7, 0)))
    assert c["mpy"].status == doctor.WARN


def test_changed_files_since_deploy_warn(tmp_path):
    c = by_name(diag(FakeSession(vjson=version_json(files={"/main.py": b"older"})), tmp_path))["files"]
    assert c.status == doctor.WARN and "/lib/acu/app.mpy" in c.detail and "deploy" in c.fix


def test_sensor_fault_is_named(tmp_path):
    c = by_name(diag(FakeSession(sample={"fault": 1, "raw_median": 0}), tmp_path))["sensor"]
    assert c.status == doctor.FAIL and "open" in c.detail


def test_sessions_waiting_against_the_archive(tmp_path):
    sha_a, sha_b, sha_c = ("a" * 64), ("b" * 64), ("c" * 64)
    listing = [
        {"name": "000001.acl", "sha256": sha_a},
        {"name": "000002.acl", "sha256": sha_b},
        {"name": "000003.acl", "sha256": sha_c, "open": True},
    ]
    # no archive file: both closed sessions wait; the open one is not counted
    c = by_name(diag(FakeSession(sessions=listing), tmp_path))["sessions"]
    assert c.status == doctor.WARN and c.detail.startswith("2 log file") and c.fix == "acutrainer pull"
    # with an archive holding one of them
    Archive(tmp_path / "archive.sqlite").close()
    c = doctor.check_sessions(listing, lambda sha: sha == sha_a)
    assert c.status == doctor.WARN and c.detail.startswith("1 log file")
    c = by_name(diag(FakeSession(sessions=listing[:2]), tmp_path))["sessions"]
    assert c.detail.startswith("2 log file")  # the (empty) real archive has neither


def test_a_failing_device_call_becomes_a_check(tmp_path):
    c = by_name(diag(FakeSession(sample=DeviceError("device: boom")), tmp_path))
    assert c["sensor"].status == doctor.FAIL and "boom" in c["sensor"].detail
    assert c["sessions"].status == doctor.OK  # the others still ran
    c = by_name(diag(FakeSession(st=DeviceError("device: no status")), tmp_path))
    assert c["status"].status == doctor.FAIL
    checks = diag(FakeSession(ver=DeviceError("device: ImportError: no module named 'acu'")), tmp_path)
    assert len(checks) == 1 and checks[0].fix == "acutrainer deploy"


def port(device, vid=None, pid=None):
    return SimpleNamespace(device=device, vid=vid, pid=pid, serial_number=None, description="desc")


def test_ports_listing_recognises_chips():
    listing = ports.all_ports(
        lambda: [
            port("/dev/ttyUSB0", 0x10C4, 0xEA60),
            port("/dev/ttyS0"),
            port("/dev/ttyACM0", 0x303A, 0x1001),
        ]
    )
    chips = {p["port"]: p["chip"] for p in listing}
    assert chips["/dev/ttyUSB0"].startswith("Silicon Labs CP210x")
    assert chips["/dev/ttyACM0"].startswith("Espressif native USB")
    assert chips["/dev/ttyS0"] is None
    c = doctor.check_ports(listing, None)
    assert c.status == doctor.INFO and "/dev/ttyUSB0 (Silicon Labs" in c.detail and "/dev/ttyS0" in c.detail
    none = doctor.check_ports([p for p in listing if not p["chip"]], None)
    assert none.status == doctor.WARN and "data USB cable" in none.fix
    assert "simulator" in doctor.check_ports([], "/dev/pts/9").detail


def test_run_without_a_board_fails_with_a_fix(monkeypatch):
    monkeypatch.delenv("ACUTRAINER_PORT", raising=False)
    monkeypatch.setattr(ports, "usb_boards", lambda: [])
    monkeypatch.setattr(ports, "running_simulator_port", lambda name="default": None)
    monkeypatch.setattr(ports, "running_simulators", lambda: {})
    checks = doctor.run(None, list_ports=lambda: [], sim_port=lambda: None)
    c = by_name(checks)
    assert c["board"].status == doctor.FAIL and "no board found" in c["board"].detail
    assert not doctor.healthy(checks)


def test_run_reports_a_link_failure(monkeypatch):
    def refuse(p, practice="refuse"):
        raise LinkError("could not enter raw REPL on %s" % p)

    checks = doctor.run("/dev/ttyUSB7", open_session=refuse, list_ports=lambda: [], sim_port=lambda: None)
    c = by_name(checks)
    assert c["link"].status == doctor.FAIL and "troubleshooting" in c["link"].fix


def test_run_with_a_session_and_the_rendered_table(tmp_path):
    class Ctx:
        def __enter__(self):
            return FakeSession(st=status(wall_s=None))

        def __exit__(self, *a):
            return False

    checks = doctor.run(
        "/dev/ttyUSB0",
        archive_path=tmp_path / "a.sqlite",
        open_session=lambda p, practice="refuse": Ctx(),
        list_ports=lambda: [],
        sim_port=lambda: None,
        now=lambda: NOW,
        mpy_cross_abi=lambda: (6, 3),
        planned=planned,
    )
    assert doctor.healthy(checks)
    buf = io.StringIO()
    doctor_cmd.render(checks, Console(file=buf, width=120, color_system=None))
    out = buf.getvalue()
    assert "calibration" in out and "What to do next" in out and "clock: acutrainer sync" in out
    assert "healthy" in out
    data = json.loads(doctor.as_json(checks))
    assert data["healthy"] is True and {"name", "status", "detail", "fix"} <= set(data["checks"][0])


def test_a_damaged_version_file_is_named_not_a_crash(tmp_path):
    """A hand-edited /cfg/version.json (nested files, a list, non-UTF-8, a key twice) is reported as damaged,
    with deploy as the fix; the other checks still run."""
    damaged = [
        {"firmware": "0.1.0", "board": "esp32_devkitc", "format": "mixed", "files": [{"a": 1}]},
        {"firmware": "0.1.0", "board": {"x": 1}, "format": "mpy", "files": {}},
        ["not", "a", "record"],
    ]
    for vj in damaged:
        c = by_name(diag(FakeSession(vjson=vj), tmp_path))
        assert c["deploy"].status == doctor.FAIL and "damaged" in c["deploy"].detail
        assert c["deploy"].fix.startswith("acutrainer deploy") and "flash" in c  # the rest still ran

    class RawSession(FakeSession):
        def __init__(self, raw):
            super().__init__()
            self.raw = raw

        def read_file(self, path):
            return self.raw

    for raw in (b"\xff\xfe{", b'{"firmware": "0.1.0", "firmware": "9"}', b"[" * 10000):
        c = by_name(diag(RawSession(raw), tmp_path))
        assert c["deploy"].status == doctor.FAIL and "damaged" in c["deploy"].detail


def test_bad_boot_files_are_named_with_their_fix(tmp_path):
    st = status(
        boot_problems=[
            {"file": "/cfg/settings.json", "problem": '"feedback": "none" is not one of led, ...', "set_aside": None},
            {"file": "/cfg/selected", "problem": "not UTF-8 text; set aside as /cfg/selected.bad",
             "set_aside": "/cfg/selected.bad"},
            {"file": "/log/000004.acl", "problem": "a folder, not a file", "set_aside": "/log/000004.acl.bad"},
        ],
        set_aside=["/cfg/selected.bad", "/log/000004.acl.bad", "/cfg/calib.json.bad2"],
    )
    checks = [c for c in diag(FakeSession(st), tmp_path) if c.name == "boot files"]
    assert not doctor.healthy(checks)
    fails = [c for c in checks if c.status == doctor.FAIL]
    assert [c.detail.split(":")[0] for c in fails] == ["/cfg/settings.json", "/cfg/selected", "/log/000004.acl"]
    assert "docs/user-guide.md" in fails[0].fix
    assert "routine select" in fails[1].fix
    assert "pull" in fails[2].fix
    older = [c for c in checks if c.status == doctor.WARN]
    assert len(older) == 1 and "/cfg/calib.json.bad2" in older[0].detail and "calibrate" in older[0].fix


def test_boot_file_fields_of_the_wrong_shape_are_not_a_crash(tmp_path):
    for bad in ({"boot_problems": "x", "set_aside": 3}, {"boot_problems": [1, None], "set_aside": [None]}):
        checks = [c for c in diag(FakeSession(status(**bad)), tmp_path) if c.name == "boot files"]
        assert [c.status for c in checks] == [doctor.OK]
    st = status()
    del st["boot_problems"]
    checks = [c for c in diag(FakeSession(st), tmp_path) if c.name == "boot files"]
    assert [c.status for c in checks] == [doctor.INFO]


def test_more_bad_boot_files_than_listed_are_counted(tmp_path):
    probs = [{"file": "/cfg/settings.json", "problem": "typo%d: unknown setting (ignored)" % i, "set_aside": None}
             for i in range(6)]
    checks = [c for c in diag(FakeSession(status(boot_problems=probs, boot_files_more=4)), tmp_path)
              if c.name == "boot files"]
    assert [c.status for c in checks] == [doctor.FAIL] * 6 + [doctor.WARN]
    assert "4 more" in checks[-1].detail


def _fault(**changes):
    f = {"boot": 40, "uptime_ms": 754000, "early": 0, "error": "MemoryError: memory allocation failed, "
         "allocating 4097 bytes", "restarted": True}
    f.update(changes)
    return f


def test_the_apps_own_fault_is_named_with_when_and_what_to_do(tmp_path):
    c = by_name(diag(FakeSession(status(fault=None, boots=44)), tmp_path))["app faults"]
    assert c.status == doctor.OK
    c = by_name(diag(FakeSession(status(fault=_fault(), boots=44)), tmp_path))["app faults"]
    assert c.status == doctor.WARN
    assert "on boot 40 (4 boots ago), 12:34 after the start: MemoryError" in c.detail and "restarted" in c.detail
    assert "docs/troubleshooting.md" in c.fix
    c = by_name(diag(FakeSession(status(fault=_fault(boot=44, early=3, restarted=False, uptime_ms=900),
                                        boots=44)), tmp_path))["app faults"]
    assert c.status == doctor.FAIL and "3 boots in a row" in c.detail and "(this boot)" in c.detail
    assert c.fix.startswith("acutrainer deploy")
    st = status()
    st.pop("fault", None)  # a firmware that does not report its faults: no check
    assert "app faults" not in by_name(diag(FakeSession(st), tmp_path))


def test_a_firmware_that_cannot_load_still_shows_its_fault_record(tmp_path):
    rec = json.dumps(_fault(early=3, restarted=False, error="ValueError: incompatible .mpy file")).encode()
    checks = diag(FakeSession(ver=DeviceError("device: ValueError: incompatible .mpy file"), fault_file=rec),
                  tmp_path)
    assert [(c.name, c.status) for c in checks] == [("app", doctor.FAIL), ("app faults", doctor.FAIL)]
    assert "incompatible .mpy file" in checks[1].detail
    for damaged in (b"{not json", b"[1]", b"\xff"):  # a record that cannot be read adds nothing
        checks = diag(FakeSession(ver=DeviceError("device: ImportError"), fault_file=damaged), tmp_path)
        assert [c.name for c in checks] == ["app"]
