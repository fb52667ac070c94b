"""The simulated board's power: the energy meter (host_tools/sim/energy.py) fed by the firmware's levels and
clock, the battery voltage sent back to it, and deep sleep as the board's reset path.

A board in deep sleep runs no code: the firmware's process has ended (machine.deepsleep ends it as a reset
does, its RAM is lost), and the launcher keeps the board's virtual time going at the sleep current until the
timer runs out or a wake pin reaches its level (esp32.wake_on_ext0/ext1); then it boots the firmware again
with machine.reset_cause() == DEEPSLEEP_RESET and machine.wake_reason() saying why. The RTC and its slow
memory run through it (world_link.WorldLink keeps them); a power cut loses both.
"""

from __future__ import annotations

import time

from host_tools.sim.energy import Battery, Meter
from host_tools.sim.world_link import TICKS_MASK

BUTTON_PIN = 0  # the simulated board's button (rom/simmachine.py), active low
# machine.reset_cause() / wake_reason() numbers, as the ESP32 port has them
PWRON_RESET, DEEPSLEEP_RESET, SOFT_RESET = 1, 4, 5
EXT0_WAKE, EXT1_WAKE, TIMER_WAKE = 2, 3, 4
WAKE_NAMES = {EXT0_WAKE: "ext0", EXT1_WAKE: "ext1", TIMER_WAKE: "timer"}
FEEDBACK_OUTPUTS = ("led", "motor", "rgb", "buzzer")


class BoardPower:
    def __init__(self, world, trace, speed: float, board: str, capacity_mah: int):
        self.world = world
        self.trace = trace
        self.speed = speed
        self.meter = Meter(board=board, battery=Battery(capacity_mah=capacity_mah))
        self.last_t = 0          # this boot's virtual time the meter has reached
        self.sent_mv = -1
        self.sleep: dict | None = None  # while in deep sleep: the wake sources, when it began, time skipped
        self.reset_cause = PWRON_RESET
        self.wake_reason = 0
        self._rtc_carry_ms = 0
        # this boot: when its process started and when its first feedback output came (real time, host clock):
        # the boot's work runs outside the virtual clock (simboot: time moves by the app loop's sleeps only)
        self.boot_real = time.monotonic()
        self.first_output_real_ms: float | None = None
        world.observer = self.observe

    # ---- while the firmware runs ----------------------------------------------------------------
    def new_boot(self):
        self.boot_real = time.monotonic()
        self.first_output_real_ms = None
        self.last_t = 0
        self.sent_mv = -1
        self.meter.set_state("awake")

    def boot_env(self) -> dict:
        """What the chip keeps for the next boot: why it reset, what woke it, the RTC memory, the cell."""
        return {"ACU_RESET_CAUSE": str(self.reset_cause), "ACU_WAKE": str(self.wake_reason),
                "ACU_RTCMEM": self.world.rtc_mem.hex(), "ACU_BATTERY_MV": str(self.meter.cell_mv())}

    def advance_to(self, t_ms: int):
        d = ((t_ms - self.last_t + (1 << 29)) & TICKS_MASK) - (1 << 29)
        if d > 0:
            self.meter.advance(d)
            self.last_t = t_ms

    def observe(self, t_ms: int, name: str, value: int):
        """A clock report, output level or note from the firmware (world_link.WorldLink.observer)."""
        self.advance_to(t_ms)
        if name == "note:state":
            self.meter.band_state(value)
        elif not self.meter.level(name, value) and name != "clock":
            return
        if self.first_output_real_ms is None and value and name in FEEDBACK_OUTPUTS:
            self.first_output_real_ms = (time.monotonic() - self.boot_real) * 1000
        self.send_battery()

    def send_battery(self):
        mv = self.meter.cell_mv()
        if mv != self.sent_mv and self.world.conn is not None:
            try:
                self.world.send_battery(mv)
                self.sent_mv = mv
            except (RuntimeError, OSError):
                pass

    def empty(self) -> bool:
        return self.meter.battery.charge_uams <= 0

    # ---- resets and deep sleep ----------------------------------------------------------------------
    def ended(self, rc: int | None, power_cut: bool) -> bool:
        """The firmware's process ended. True if the board went into deep sleep (no reboot now)."""
        if power_cut:
            self.sleep = None
            self.meter.set_state("off")
            self.reset_cause, self.wake_reason = PWRON_RESET, 0
            return False
        req = self.world.sleep_req
        if req is not None:
            self.sleep = dict(req, since=time.monotonic(), skipped_ms=0, charged_ms=0)
            self.meter.set_state("deep_sleep")
            self.trace.write(self.last_t, "deep_sleep", ms=req["ms"], ext0=req["ext0_pin"], ext1=req["ext1_mask"])
            return True
        # machine.reset() is a software reset on the ESP32 (ESP_RST_SW); a soft reboot (Ctrl-D) keeps the cause
        if rc is not None and rc == 3:
            self.reset_cause = SOFT_RESET
        self.wake_reason = 0
        return False

    def power_back(self):
        self.meter.set_state("awake")
        self.reset_cause, self.wake_reason = PWRON_RESET, 0

    def slept_ms(self) -> int:
        s = self.sleep
        assert s is not None, "not in deep sleep"
        real = int((time.monotonic() - s["since"]) * 1000 * (self.speed or 1.0))
        return real + s["skipped_ms"]

    def charge_sleep(self, upto_ms: int | None = None):
        """Charge the time asleep so far (or up to upto_ms of it) to the meter: `sim status` sees it as it goes."""
        s = self.sleep
        if s is None:
            return
        t = self.slept_ms() if upto_ms is None else upto_ms
        if s["ms"]:
            t = min(t, s["ms"])  # the timer ends the sleep
        if t > s["charged_ms"]:
            self.meter.advance(t - s["charged_ms"])
            s["charged_ms"] = t

    def due_wake(self) -> int:
        """While asleep: TIMER_WAKE once the timer has run out (at --speed 0 at once), else 0."""
        s = self.sleep
        if s is None or not s["ms"]:
            return 0
        if not self.speed or self.slept_ms() >= s["ms"]:
            return TIMER_WAKE
        return 0

    def button(self, kind: str) -> int:
        """The button pressed while asleep: the wake reason if a wake source watches its pin, else 0."""
        s = self.sleep
        if s is None or kind == "up":
            return 0
        level = 0  # active low: pressed pulls the pin to 0
        if s["ext0_pin"] == BUTTON_PIN and s["ext0_level"] == level:
            return EXT0_WAKE
        if s["ext1_mask"] & (1 << BUTTON_PIN) and s["ext1_level"] == level and s["ext1_mask"] == 1 << BUTTON_PIN:
            return EXT1_WAKE  # WAKEUP_ALL_LOW: every pin of the mask low; the button is the only one here
        return 0

    def skip(self, ms: int):
        """Fast-forward a deep sleep by ms of virtual time (nothing runs: exact). Stops at the timer's end."""
        s = self.sleep
        if s is None:
            raise ValueError("the board is not in deep sleep")
        if s["ms"]:
            ms = min(ms, max(0, s["ms"] - self.slept_ms()))
        s["skipped_ms"] += ms
        self.charge_sleep()

    def wake(self, reason: int) -> int:
        """Leave deep sleep: charge the time asleep, move the RTC on; the caller boots the firmware."""
        s = self.sleep
        assert s is not None, "not in deep sleep"
        slept = self.slept_ms()
        if reason == TIMER_WAKE and s["ms"]:
            slept = min(slept, s["ms"]) if self.speed else s["ms"]
        self.charge_sleep(slept)
        self._rtc_carry_ms += slept
        self.world.rtc_after_sleep(self._rtc_carry_ms - self._rtc_carry_ms % 1000)
        self._rtc_carry_ms %= 1000
        self.sleep = None
        self.reset_cause, self.wake_reason = DEEPSLEEP_RESET, reason
        self.trace.write(self.last_t, "wake", reason=WAKE_NAMES.get(reason, reason), slept_ms=slept)
        return slept

    # ---- the battery --------------------------------------------------------------------------------
    def set_battery(self, mv: float | None = None, soc_pct: float | None = None, charge: bool = False):
        from host_tools.sim.energy import soc_for_ocv

        b = self.meter.battery
        if charge:
            b.set_soc(100.0)
        elif soc_pct is not None:
            b.set_soc(soc_pct)
        elif mv is not None:
            b.set_soc(soc_for_ocv(mv))
        self.send_battery()

    def status(self) -> dict:
        self.charge_sleep()
        st = self.meter.status()
        st["reset_cause"] = self.reset_cause
        st["boot_to_first_output_real_ms"] = self.first_output_real_ms
        st["wake_reason"] = self.wake_reason
        st["average_ua"] = {k: round(self.meter.average_ua(k), 1) for k in ("awake", "deep_sleep")}
        if self.sleep is not None:
            st["asleep_ms"] = self.slept_ms()
            st["wake_timer_ms"] = self.sleep["ms"]
        return st
