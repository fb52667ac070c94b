"""Cable pulls: simulators with a 115200-baud link have their USB cable pulled during `pull` (with or without
--delete) or a routine push; the command then runs again and must complete, and the archive must hold every
session once, with nothing deleted unverified (docs/reliability.md)."""

from __future__ import annotations

import json
import random
import threading
import time
from pathlib import Path

from host_tools import routines as hroutines
from host_tools.archive import Archive
from host_tools.errors import LinkError
from host_tools.pull import list_device_sessions, pull

from .common import SHORT_ROUTINE, Rig, check_archive, log, make_sessions, one_line, run_parallel, sha, wait_for


class CableState:
    def __init__(self):
        self.pulls = self.link_errors = self.multiline = self.other_errors = 0
        self.reruns = self.dups = self.gaps = self.deleted_unverified = self.pushes = self.push_torn = 0
        self.completed_uncut = 0
        self.notes: list[str] = []


class CableRig(Rig):
    """A simulator at a USB-serial pace whose cable is pulled during a host command."""

    def __init__(self, work: Path, name: str, seed: int):
        # a real USB-serial pace (115200 baud): a transfer takes long enough for a pull to land inside it
        super().__init__(work, name, seed=seed, baud=115200)
        self.st = CableState()
        self.next_no = 1  # the device's next session number, as it said last

    def setup(self):
        self.start()
        self.deploy()

    def _op_thread(self, fn):
        box: dict = {}

        def run():
            try:
                s = self.session(5.0)
                s.set_timeout(1.0)  # once in: a pulled cable is noticed within this
                box["opened"] = time.monotonic()
                try:
                    fn(s)
                finally:
                    s.close(restart=False)
                box["done"] = time.monotonic()
            except LinkError as e:
                box["link"] = e
            except Exception as e:  # noqa: BLE001 - counted
                box["other"] = e
        t = threading.Thread(target=run, daemon=True)
        t.start()
        return t, box

    def revive(self):
        """After a failed cycle: restart the simulator on the same flash (the archive stays)."""
        try:
            self.stop()
            self.start()
            self.wait_app(self.boot(), 30)
        except Exception as e:  # noqa: BLE001 - the next cycle reports again if it stays broken
            self.st.notes.append("cable revive: %s" % one_line(e))

    def _rerun(self, fn, what: str):
        """After the cable is back: the same command again completes (a few tries: the first may meet the
        board still answering the cut command)."""
        for i in range(4):
            try:
                s = self.session(10.0)
                try:
                    return fn(s)
                finally:
                    s.close(restart=False)
            except LinkError as e:
                self.st.reruns += 1
                if i == 3:
                    raise RuntimeError("%s re-run failed 4 times: %s" % (what, one_line(e))) from None
                time.sleep(0.3)

    def cycle(self, rng: random.Random, est_s: float):
        st = self.st
        push = rng.random() < 0.15
        delete = rng.random() < 0.6
        if push:
            data = json.dumps(dict(SHORT_ROUTINE, name="rel-cable",
                                   description="y" * rng.randint(0, 500))).encode()

            def fn(s):
                hroutines.push(s, data, "rel-cable.json")
        else:
            n, ms = rng.randint(1, 4), rng.randint(20000, 90000)
            mk, before = self._rerun(lambda s: (make_sessions(s, n, ms), list_device_sessions(s)), "make")
            self.next_no = mk["next"]

            def fn(s):
                with Archive(self.archive_path) as arc:
                    pull(s, arc, delete=delete)
        t, box = self._op_thread(fn)
        wait_for(lambda: "opened" in box or not t.is_alive(), 15, "the host operation to start")
        time.sleep(rng.uniform(0.0, est_s * 0.8))
        off_ms = rng.randint(200, 1000)
        self.sim.unplug(off_ms)
        st.pulls += 1
        t.join(30)
        if "link" in box:
            st.link_errors += 1
            if "\n" in str(box["link"]).strip():
                st.multiline += 1
        elif "other" in box:
            st.other_errors += 1
            st.notes.append("cable pull: %s" % one_line(box["other"]))
        else:
            st.completed_uncut += 1
        time.sleep(off_ms / 1000.0 + 0.1)
        self._rerun(fn, "the command")
        if push:
            st.pushes += 1
            got = self._rerun(lambda s: s.sha256("/routines/rel-cable.json"), "hash")
            if got != sha(data):
                st.push_torn += 1
                st.notes.append("routine push re-run left %s" % got)
            return
        after = self._rerun(list_device_sessions, "listing")
        on_dev = {e["name"] for e in after}
        with Archive(self.archive_path) as arc:
            for e in before:
                if e["name"] not in on_dev and arc.raw_sha(e["sha256"]) != e["sha256"]:
                    st.deleted_unverified += 1
                    st.notes.append("%s deleted without a verified archive copy" % e["name"])
            d, g = check_archive(arc, after, self.next_no)
        if d > st.dups or g > st.gaps:
            st.notes.append("after pull %d: %d duplicate(s), %d gap(s)" % (st.pulls, d, g))
        st.dups, st.gaps = max(st.dups, d), max(st.gaps, g)
        if len(after) > 8:
            # keep the device's log short, as a user pulling with --delete does: every listing hashes
            # each file on the device, so a growing log would make each cycle slower than the last
            def clean(s):
                with Archive(self.archive_path) as arc:
                    pull(s, arc, delete=True)
            self._rerun(clean, "clean-up pull")


def cable_worker(work: Path, idx: int, n_pulls: int, seed: int) -> CableState:
    rng = random.Random(seed)
    rig = CableRig(work, "rel-cable-%d" % idx, seed=seed % 1000 + 1)
    try:
        try:
            rig.setup()
        except Exception as e:  # noqa: BLE001 - one more try on a fresh flash before giving up
            rig.st.notes.append("cable set-up %d, retried: %s" % (idx, one_line(e)))
            rig.stop()
            (rig.work / "flash.img").unlink(missing_ok=True)
            rig.setup()
        # how long an uncut pull of a few sessions takes: the window the pulls are aimed at
        rig._rerun(lambda s: make_sessions(s, 3, 60000), "make")

        def timed(s):
            t0 = time.monotonic()
            with Archive(rig.archive_path) as arc:
                pull(s, arc)
            return time.monotonic() - t0
        est = max(0.05, rig._rerun(timed, "pull"))
        log("cable %d: an uncut pull of 3 sessions takes %.2f s" % (idx, est))
        errors = 0
        while rig.st.pulls < n_pulls and errors < 10:
            try:
                rig.cycle(rng, est)
            except Exception as e:  # noqa: BLE001 - counted and reported; the run goes on
                errors += 1
                rig.st.other_errors += 1
                rig.st.notes.append("cable cycle: %s" % one_line(e))
                rig.revive()
    except Exception as e:  # noqa: BLE001
        rig.st.other_errors += 1
        rig.st.notes.append("cable worker %d: %s" % (idx, one_line(e)))
    finally:
        rig.stop()
    return rig.st


def scenario_cable_pulls(work: Path, n_pulls: int = 200, parallel: int = 2, seed: int = 7) -> dict:
    per = (n_pulls + parallel - 1) // parallel
    sts = run_parallel(cable_worker, [(work, i, per, seed * 100 + i) for i in range(parallel)])
    f = {"rel_cable_pulls": sum(s.pulls for s in sts),
         "rel_cable_link_errors_reported": sum(s.link_errors for s in sts),
         "rel_cable_multiline_errors": sum(s.multiline for s in sts),
         "rel_cable_other_errors": sum(s.other_errors for s in sts),
         "rel_cable_completed_before_cut": sum(s.completed_uncut for s in sts),
         "rel_cable_reruns_needed": sum(s.reruns for s in sts),
         "rel_cable_routine_pushes": sum(s.pushes for s in sts),
         "rel_cable_routine_torn": sum(s.push_torn for s in sts),
         "rel_pull_duplicates": sum(s.dups for s in sts),
         "rel_pull_gaps": sum(s.gaps for s in sts),
         "rel_pull_deleted_unverified": sum(s.deleted_unverified for s in sts)}
    f["_notes_cable"] = sorted(set(n for s in sts for n in s.notes))[:20]
    return f
