# The trainer's app: a fixed-rate loop that samples, converts, filters, classifies, drives the feedback,
# runs the routine and feeds the logger. One data path, each arrow one call with plain values:
#   raw -> grams (calibration) -> filtered grams -> band state -> feedback / runner / logger
# step() is the hot path: it must not allocate (tests/device/test_app.py proves it under heap_lock).
import acu
from acu import VERSION, band, button, calib, feedback, forcefilter, link, logfmt, logger, routine, runner, ticks

from micropython import const

_FREE_START_MS = const(2000)    # a free press (no routine running) becomes a session after 2 s of contact
_FREE_END_MS = const(20000)     # ... and ends after 20 s without contact
_BATTERY_CHECK_MS = const(60000)
_LOW_BATTERY_MV = const(3450)
_HOLD_MAX_MS = const(1 << 28)   # a hold's clock stops here (74 h; creep.adjust caps there too): a small int
_FADE_BLOCK_MS = const(10000)   # a faded schedule's block: feedback on for its first feedback_pct %, then off

CALIB_PATH = "/cfg/calib.json"
_PROGRAMME_PATH = const("/cfg/programme.json")  # acu.programme's state: where the user is in a programme


class App:
    """console: the serial console the live link (acu.link) serves between iterations, None for none.
    boot_id: this boot's random id (u32, 0 = unknown), written into every session header."""

    programme = False   # a programme is in use (start() sets it): the class's default costs no instance slot

    def __init__(self, hw, settings, boot_count=0, root="", console=None, boot_id=0):
        self.hw = hw
        self.root = root
        self.settings = settings
        s = self.settings
        self.clock = hw.clock
        # the Logger first: its batch and trace buffers (0.9 KB) need contiguous blocks, which the parsers
        # below leave fragmented (its calib_id is set once the calibration is loaded)
        self.log = logger.Logger(
            root + "/log", hw.clock,
            {"unique_id": hw.unique_id, "firmware": VERSION, "board": hw.name, "boot_count": boot_count,
             "boot_id": boot_id})
        # then the selected routine: its parser is loaded while little else is live (that moment sets the
        # smallest heap the firmware starts in); start() hands it to the runner
        self.routine = self._read_routine()
        self.cal = calib.load(root + CALIB_PATH, hw.nominal_calib)
        self.log.calib_id = self.cal.id
        self.filter = forcefilter.ForceFilter(contact_g=s["contact_g"])
        # an uncalibrated load cell's zero is the nominal curve's guess: its bridge offset can read as a press
        # (one endless free press that keeps the host out); its first reading is zero, as a scale's at power-on
        self._tare_first = hw.sensor.kind == "loadcell" and self.cal.id.startswith("nominal")
        self.band = band.BandClassifier(too_hard_g=s["too_hard_g"], contact_g=s["contact_g"])
        self.fb = feedback.Feedback(hw, feedback.mode_from_name(s["feedback"]), s["intensity_pct"])
        self.arm = None
        if s.get("arm"):  # a study's arm (docs/study.md): acu.arms is loaded only on such a device
            from acu import arms
            self.arm = arms.Arm(s["arm"], self.band)
        self.buttons = button.ButtonDecoder()
        self.runner = runner.Runner(self)
        self.stats = logger.StepStats()
        self.log.stats = self.stats  # a session stopped mid-step still logs that step's figures (partial)
        self.period_ms = 1000 // s["loop_hz"]
        self.force_g = 0
        self.raw = 0
        self.state = band.NO_CONTACT
        self.fault = 0
        self.iterations = 0
        self.calibrating = False  # the host captures a calibration (acu.link): no practice, no feedback
        self.link = link.Link(self, console) if console is not None else None
        self._last_ms = hw.clock.ticks_ms()
        self._band_lo = -1
        self._band_hi = -1
        self.free_session = False  # a free press (no routine) is being logged
        self._contact_ms = 0
        self._no_contact_ms = 0
        self._hold_ms = 0          # how long the current press has lasted (creep compensation)
        self._battery_ms = 0
        self._low_battery = False
        self._prev_state = band.NO_CONTACT
        self._over_force = False
        self.boot_faults = 0       # bad boot files (acu.problems): logged as EV_BOOT_FAULTS in the next session
        self._alarms_cued = 0      # 2 x the logger's write_errors + its flash_low, as last cued: each rise is cued
        self._release_first = False  # a routine just ended: a free press needs a new contact (no phantom
        # free session from the press held past the routine's end)
        self._band_fb = -1         # the schedule's last verdict (1 speaks, 0 silent; -1 no live step): the trace's
        self._fb_contact_ms = 0    # the session's contact and in-band time with feedback on (acu.score)
        self._fb_in_ms = 0
        self._done_steps = 0
        self.last_score = -1       # the last routine session's score (-1: none yet)
        self._end_status = None    # a routine session ended: its end record, written at the next iteration
        self._end_ms = 0

    # ---- set-up ------------------------------------------------------------------------------------
    def start(self):
        self.log.recover()
        # a programme in use (docs/programmes.md)? Only that, here (a damaged file is set aside and cued): it is
        # read, per call, at a session's start (today's routine, the stage's feedback) and end (the rule)
        if acu.call("cfgfile", "read_json", self.root + _PROGRAMME_PATH) is not None:
            self.programme = True
        if self.routine is not None:
            self.runner.load(self.routine)
        # "I am on": a soft double blink/tick, or the fault cue when a boot file was bad (defaults in use)
        self.boot_faults = len(acu.problems)
        self.fb.cue(feedback.CUE_FAULT if self.boot_faults else feedback.CUE_REST, self.clock.ticks_ms())

    def _read_routine(self):
        # the parser is loaded for this read only; the app's copy of the routine keeps what the runner and
        # the log use: the texts for people (shown by the host from its own copy) would sit in the loop's heap
        # (its paths are made here: the app holds no copy of them between reads)
        return acu.call("routine_parse", "read_selected", self.root + routine.ROOT, self.root + routine.SELECTED_PATH,
                        False)

    def reload_routine(self):
        self.routine = self._read_routine()
        if self.routine is not None:
            self.runner.load(self.routine)

    # ---- the runner's sink (called on transitions only) ------------------------------------------------
    def cue(self, code, now_ms):
        if code == feedback.CUE_STEP or code == feedback.CUE_SIDE or code == feedback.CUE_REST or \
                code == feedback.CUE_DONE:
            self.fb.cue_after(code, now_ms)  # behind a check's result, which must not be cut
        else:
            self.fb.cue(code, now_ms)

    def session_begin(self, r, now_ms):
        self._close_session()
        self._end_free(now_ms)
        p = None
        if self.programme:  # today's routine and the stage's schedule (docs/programmes.md): (routine, place)
            p = acu.call("programme", "session_begin", self, now_ms)
            if p is not None:
                self.runner.routine = r = p[0]  # the runner starts its first step from it next
        self._fb_contact_ms = 0
        self._fb_in_ms = 0
        self._done_steps = 0
        self.log.begin_session(r.name, r.digest or "", band.DEFAULT_LO_G, band.DEFAULT_HI_G, self.cal.id, now_ms)
        if p is not None:   # where in the programme this session is: the host's adherence and learning curve
            self.log.event(logfmt.EV_PROGRAMME, p[1], now_ms)
        self._log_boot_faults(now_ms)

    def _log_boot_faults(self, now_ms):
        if self.boot_faults and self.log.active:
            self.log.event(logfmt.EV_BOOT_FAULTS, self.boot_faults, now_ms)
            self.boot_faults = 0
        if self.arm is not None and self.log.active:  # (a session's start) the arm it runs: the host checks it
            self.log.event(logfmt.EV_ARM, self.arm.code, now_ms)

    def step_begin(self, index, step, now_ms):
        s = self.stats
        s.reset()
        s.fb = self.runner.fb_code
        s.fb_pct = self.runner.fb_pct
        band_on = step.kind == routine.STEP_PRESS or step.kind == routine.STEP_CHECK
        self.log.step_begin(index, routine.TYPE_NAMES[step.kind], step.point or "",
                            routine.SIDE_NAMES[step.side], step.band_lo_g if band_on else 0,
                            step.band_hi_g if band_on else 0, step.duration_ms // 1000, now_ms)

    def check_end(self, index, step, measured_g, now_ms):
        """A check step is done: its result into the step's summary, and played (acu.score, loaded for this
        call); returns how long it plays (the runner's next transition waits for it)."""
        return acu.call("score", "device_check_end", self, step, measured_g, now_ms)

    def step_end(self, index, step, status, now_ms):
        s = self.stats
        s.fb = self.runner.fb_code  # an override set during the step counts from then: the summary says the last
        s.fb_pct = self.runner.fb_pct
        if step.kind == routine.STEP_PRESS:
            # the score's band part (acu.score.feedback_parts, the same rule): contact and in-band time with
            # feedback on; bandwidth's silence is its message
            c = s.contact_ms()
            i = s.in_ms
            if s.fb != routine.FB_BANDWIDTH:
                c -= s.silent_ms
                i -= s.silent_in_ms
            self._fb_contact_ms += c
            self._fb_in_ms += i
        if status == "done":
            self._done_steps += 1
        self.log.step_end(index, status, s, now_ms)

    def event(self, code, value, now_ms):
        if code == logfmt.EV_PAUSE or code == logfmt.EV_CONTACT_LOST:
            self.stats.count_pause()
        elif code == logfmt.EV_SKIP:
            self.stats.count_skip()
        self.log.event(code, value, now_ms)

    def session_end(self, status, now_ms):
        import gc
        if self.runner.routine is not None:  # the score: logged, and played after the done cue
            gc.collect()  # the last step's write left garbage: the score's module is loaded into a collected heap
            acu.call("score", "device_session_end", self, status, now_ms)
        if self.programme:  # the session counted, the progression rule applied with its checks (acu.programme)
            gc.collect()  # the score's module, dropped by acu.call, is freed first: the two never share the heap
            acu.call("programme", "session_end", self, status, self.runner.check_results)
        # the end record goes out at the next iteration's start (_close_session): its write and the score's
        # module are then not in one iteration's heap
        self._end_status = status  # "completed" / "aborted": the logger's names
        self._end_ms = now_ms
        self._release_first = True
        self._contact_ms = 0
        # ready for the next practice of the same routine
        if self.routine is not None:
            self.runner.load(self.routine)

    def _close_session(self):
        if self._end_status is not None:
            self.log.end_session(self._end_status, self._end_ms)
            self._end_status = None

    # ---- free presses (no routine running) -------------------------------------------------------------
    def _free_track(self, st, dt, now_ms):
        if st != band.NO_CONTACT and st != band.FAULT:
            if self._release_first:
                return  # still the routine's last press
            self._contact_ms += dt
            self._no_contact_ms = 0
            if not self.free_session and self._contact_ms >= _FREE_START_MS and self.settings["free_sessions"]:
                self._begin_free(now_ms)
        else:
            self._release_first = False
            self._contact_ms = 0
            self._no_contact_ms += dt
            if self.free_session and self._no_contact_ms >= _FREE_END_MS:
                self._end_free(now_ms)

    def _begin_free(self, now_ms):
        self._close_session()
        self.free_session = True
        self.stats.reset()
        self.log.begin_session("free", "", self.band.lo_g, self.band.hi_g, self.cal.id, now_ms)
        self._log_boot_faults(now_ms)
        self.log.step_begin(0, "press", "", "", self.band.lo_g, self.band.hi_g, 0, now_ms)

    def _end_free(self, now_ms):
        if self.free_session:
            self.free_session = False
            self.log.step_end(0, logfmt.STEP_DONE, self.stats, now_ms)
            self.log.end_session(logfmt.END_COMPLETED, now_ms)

    # ---- one loop iteration (hot path: no allocation) ---------------------------------------------------
    def step(self, now_ms):
        if self._end_status is not None:
            self._close_session()  # the session the last iteration ended
        hw = self.hw
        dt = ticks.diff(now_ms, self._last_ms)
        self._last_ms = now_ms
        if dt < 0:
            dt = 0
        raw = hw.sensor.read_raw()
        fault = hw.sensor.fault()
        self.raw = raw
        self.fault = fault
        g = self.filter.update(self.cal.grams(raw), now_ms)
        if self._tare_first and raw != 0 and not fault:  # 0: the HX711 has no conversion yet
            self._tare_first = False
            if g <= self.filter.max_zero_g:
                self.filter.tare()
                g = 0
        cc = self.cal.creep
        if cc is not None:
            g = cc.adjust(g, self._hold_ms)  # the FSR's creep over this hold undone (docs/calibration.md)
        self.force_g = g
        st = self.band.update(g, now_ms, fault)
        self.state = st
        # a hold runs while the band says contact (its contact edge, with hysteresis); a release or a fault
        # ends it, and the next contact starts a new one from 0
        if st != band.NO_CONTACT and st != band.FAULT:
            if self._hold_ms < _HOLD_MAX_MS:
                self._hold_ms += dt
        else:
            self._hold_ms = 0
        if hw.button is not None:
            gest = self.buttons.update(hw.button.pressed(), now_ms)
            # [power] a routine starts only with charge enough for it: a low cell is cued first (acu.power, loaded
            # only then)
            if gest and not self.calibrating and (self.runner.active() or hw.battery is None or hw.battery.read_mv()
                                                  >= _LOW_BATTERY_MV or acu.call("power", "may_start", self, gest,
                                                                                 now_ms)):
                self.runner.button(gest, now_ms)
        r = self.runner
        r.tick(now_ms, st, g)
        if r.band_lo_g != self._band_lo or r.band_hi_g != self._band_hi:
            self._band_lo = r.band_lo_g
            self._band_hi = r.band_hi_g
            self.band.set_band(r.band_lo_g, r.band_hi_g)
        shown = self._feedback_gate(st, g)
        if r.active():
            self.stats.update(st, g, dt, shown != st)
        elif r.state == runner.IDLE and not self.calibrating:
            self._free_track(st, dt, now_ms)
            if self.free_session:
                self.stats.update(st, g, dt)
        if self.log.active:
            self.log.sample(g, now_ms)
            if st != self._prev_state:
                if st == band.TOO_HARD and not self._over_force:
                    self._over_force = True
                    self.log.event(logfmt.EV_OVER_FORCE, g, now_ms)
                elif st == band.FAULT:
                    self.log.event(logfmt.EV_FAULT, fault, now_ms)
                elif st != band.TOO_HARD:
                    self._over_force = False
            self.log.poll(now_ms)
        n = self.log.write_errors * 2 + self.log.flash_low
        if n != self._alarms_cued:
            # the flash is nearly full, or refused a write or a session (full or failing: this practice is
            # not, or not wholly, logged): say so now; the host's status and doctor report the counts
            if n > self._alarms_cued:
                self.fb.cue(feedback.CUE_FLASH_LOW, now_ms)
            self._alarms_cued = n
        self._prev_state = st
        # band feedback only where a press is asked for (or a free press); rests, breathing and a
        # calibration (the scale is the reference, the old curve would mislead) are quiet
        if self.calibrating or (r.active() and not r.target):
            self.fb.show(band.NO_CONTACT if st != band.FAULT else st, now_ms)
        else:
            # a study's arm (acu.arms) after the schedule's gate: what is silent stays silent
            self.fb.show(shown if self.arm is None else self.arm.shown(shown, g, now_ms), now_ms)
        if hw.battery is not None:
            self._battery_ms += dt
            if self._battery_ms >= _BATTERY_CHECK_MS:
                self._battery_ms = 0
                self._check_battery(now_ms)
        # [power] deep sleep after sleep_after_s idle: the runner's idle time (no routine), which a touch, a free
        # press and a host's request (acu.link) start again; acu.power is loaded only when it is reached
        if st != band.NO_CONTACT or self.free_session:
            r.idle_ms = 0
        elif r.idle_ms >= self.settings.get("sleep_after_s", 300) * 1000 > 0:
            r.idle_ms = 0
            acu.call("power", "idle_due", self, now_ms)
        self.iterations += 1

    def _feedback_gate(self, st, g):
        """THE one place that decides whether the band feedback speaks (docs/feedback.md, "Schedules"): the
        state to show, st or NO_CONTACT (quiet) where the live step's schedule withholds it. TOO_HARD and
        FAULT always pass: safety, not training. Allocation-free (the loop's path)."""
        r = self.runner
        if not (r.target and r.state == runner.RUNNING):
            self._band_fb = -1
            return st
        code = r.fb_code
        if code == routine.FB_FULL:
            on = 1
        elif code == routine.FB_FADED:
            on = 1 if r.wall_ms % _FADE_BLOCK_MS < r.fb_pct * (_FADE_BLOCK_MS // 100) else 0
        elif code == routine.FB_BANDWIDTH:
            lo = r.band_lo_g
            hi = r.band_hi_g
            # once speaking, silent again only 4 % (the classifier's hysteresis) further inside: no flicker
            p = r.fb_pct - 4 if self._band_fb == 1 else r.fb_pct
            on = 0 if lo - lo * p // 100 <= g <= hi + hi * p // 100 else 1
        else:
            on = 0
        if on != self._band_fb:
            self._band_fb = on
            if self.hw.annotate is not None:
                self.hw.annotate("band_fb", on)
        if on or st == band.TOO_HARD or st == band.FAULT:
            return st
        return band.NO_CONTACT

    def _check_battery(self, now_ms):
        if self.runner.active():
            return  # [power] never in the middle of a point: a routine's start checks the cell (acu.power)
        low = self.hw.battery.read_mv() < _LOW_BATTERY_MV
        if low and not self._low_battery:
            self.fb.cue(feedback.CUE_LOW_BATTERY, now_ms)
            self.log.event(logfmt.EV_LOW_BATTERY, 0, now_ms)
        self._low_battery = low

    def run(self, max_iterations=0):
        clock = self.clock
        period = self.period_ms
        lk = self.link
        if lk is not None:
            lk.announce()
        nxt = clock.ticks_ms()
        n = 0
        while True:
            now = clock.ticks_ms()
            self.step(now)
            if lk is not None:
                lk.service(now)  # the host's requests and the live stream, between iterations
            nxt = ticks.add(nxt, period)
            d = ticks.diff(nxt, clock.ticks_ms())
            if d > 0:
                clock.sleep_ms(d)
            else:
                nxt = clock.ticks_ms()  # late: do not try to catch up in a burst
                clock.sleep_ms(0)
            if max_iterations:
                n += 1
                if n >= max_iterations:
                    return

    # ---- what the host asks through the live link (acu.link; may allocate) ---------------------------------
    def stop_practice(self, now_ms):
        """End the practice on purpose (the host's --stop): the routine's session ends as aborted after a
        host-stop event, a free press as completed. Returns what was stopped ("free", a routine name) or None."""
        r = self.runner
        if r.active() and r.routine is not None:
            name = r.routine.name
            self.log.event(logfmt.EV_HOST_STOP, r.index, now_ms)
            r.abort(now_ms)
            self._close_session()  # the host is told it stopped: the session is closed now
            return name
        if self.free_session:
            self._end_free(now_ms)
            return "free"
        return None

    def set_calibrating(self, on):
        """The host captures calibration points (the wizard's live stream): no free-press sessions, no
        button, quiet outputs. Refused while a routine runs (acu.link checks)."""
        if on and self.free_session:
            self._end_free(self.clock.ticks_ms())
        self.calibrating = bool(on)
        self._contact_ms = 0

    def set_clock(self, epoch_s, now_ms):
        self.clock.set_wall_s(int(epoch_s))
        if self.log.active:
            self.log.event(logfmt.EV_CLOCK_SET, int(epoch_s), now_ms)

    def stop(self, status=logfmt.END_INTERRUPTED):
        """The app is being stopped (host took the REPL, soft reset): close what is open, go quiet."""
        now_ms = self.clock.ticks_ms()
        self._close_session()
        if self.runner.active():
            self.log.end_session(status, now_ms)
        else:
            self._end_free(now_ms)
        self.log.flush(now_ms)
        self.fb.off()

current = None


def main(hw, settings, boots, boot_id=0):
    """Entry point from /main.py, which has built the board (acu.appcfg.start())."""
    global current
    import gc

    app = None
    try:
        from acu.console import StdioConsole

        gc.collect()
        app = App(hw, settings, boots, console=StdioConsole(), boot_id=boot_id)  # its random id: session
        # headers, status, the host's time anchors
        current = app
        gc.collect()
        app.start()
        gc.collect()
        acu.call("power", "loop_start", app)  # [power] the loop's CPU clock, the RTC record (acu.power)
        app.run()
    except KeyboardInterrupt:
        # a host is taking the REPL (Ctrl-C), maybe while the app was still starting: close the session
        # cleanly, stop the outputs, hand over
        if app is not None:
            app.stop()
        print("acu: app stopped (Ctrl-C); REPL")
