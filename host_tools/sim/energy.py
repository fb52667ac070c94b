"""The simulator's energy model: each board's current in each state (one table, datasheet figures; sources in
docs/hardware.md, "Energy: current of each part") and a LiPo cell that drains by the charge used in virtual
time, sags under load and recovers on charge.

The launcher owns one Meter per simulator: it hears the firmware's output levels (motor, LED, buzzer, RGB),
its CPU clock and band state (the FSR divider draws more under a press) on the world link, and the board's
power state (awake, deep sleep, off), and integrates the current over virtual time. All figures are µA.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from host_tools import battery

# ---- the table ------------------------------------------------------------------------------------------
# ESP32 (Espressif "ESP32 Series Datasheet", table "Power consumption by power modes"): Modem-sleep (CPU on,
# radio off) 240 MHz 30-68 mA, 160 MHz 27-44 mA, 80 MHz 20-31 mA; Light-sleep 0.8 mA; Deep-sleep (RTC timer +
# RTC memory) 10 µA. The loop spends most of each period in time.sleep_ms (the FreeRTOS idle task's WAITI),
# so the low half of each range: 240 MHz at 38 mA is the DevKitC's measured 43 mA (FIELD_NOTES) less its
# regulator and USB bridge.
CHIP_UA = {
    "cpu_240": 38000,
    "cpu_160": 30000,
    "cpu_80": 22000,
    "light_sleep": 800,
    "deep_sleep": 10,
}

# Per board: what the board adds in every state (regulator, bridge, charger, LEDs), its feedback parts at
# full level, and the dividers. "sensor_rail": the FSR divider's supply ("3v3": the regulated rail, on in deep
# sleep too; "gpio": a pin the firmware drives, off in deep sleep).
BOARDS: dict[str, dict] = {
    # ESP32-DevKitC: AMS1117-3.3 (quiescent about 3 mA, FIELD_NOTES) and a CP2102N bridge with the red power
    # LED: the board measures 3.8 mA in deep sleep (FIELD_NOTES), so the bridge and LED are the balance.
    "esp32_devkitc": {
        "regulator_ua": 3000, "bridge_ua": 790, "charger_ua": 0,
        "motor_ua": 75000, "led_ua": 3900, "buzzer_ua": 5000, "rgb_idle_ua": 1000, "rgb_channel_ua": 12000,
        "battery_divider_ohm": 200000, "fsr_idle_ua": 454, "fsr_pressed_ua": 4000, "sensor_rail": "3v3",
    },
    # boards/esp32_battery.py: HT7333-A (quiescent 4 µA typ., Holtek HT73xx datasheet), TP4056 (battery
    # drain < 2 µA with no input, TP4056 datasheet), no bridge, 1 MΩ + 1 MΩ battery divider, the FSR divider
    # on a GPIO (pulse power: off in deep sleep), no RGB.
    "esp32_battery": {
        "regulator_ua": 4, "bridge_ua": 0, "charger_ua": 2,
        "motor_ua": 75000, "led_ua": 3900, "buzzer_ua": 5000, "rgb_idle_ua": 0, "rgb_channel_ua": 0,
        "battery_divider_ohm": 2000000, "fsr_idle_ua": 454, "fsr_pressed_ua": 4000, "sensor_rail": "gpio",
    },
}

# A LiPo cell's open-circuit voltage by state of charge (% -> mV): a typical single-cell LiPo rest curve
# (4.20 V full, a long plateau near 3.7-3.9 V, a knee below 10 %); empty is taken as 3.30 V at rest, where a
# protected cell under the board's load nears the ~3.0 V cut-off.
OCV_MV = battery.OCV_MV  # one curve: the host's estimate (acutrainer status) reads the cell the simulator models
CELL_R_MOHM = 200  # a small LiPo's internal resistance with its protection FETs (about 0.1-0.3 Ω)
DEFAULT_CAPACITY_MAH = 500


def ocv_mv(soc_pct: float) -> int:
    soc = min(max(soc_pct, 0.0), 100.0)
    for (s0, v0), (s1, v1) in zip(OCV_MV[:-1], OCV_MV[1:], strict=True):
        if soc <= s1:
            return int(round(v0 + (v1 - v0) * (soc - s0) / (s1 - s0)))
    return OCV_MV[-1][1]


soc_for_ocv = battery.soc_pct  # the state of charge (%) whose rest voltage is mv


def cpu_ua(cpu_hz: int) -> int:
    if cpu_hz <= 80_000_000:
        return CHIP_UA["cpu_80"]
    if cpu_hz <= 160_000_000:
        return CHIP_UA["cpu_160"]
    return CHIP_UA["cpu_240"]


@dataclass
class Loads:
    """What the firmware drives now (levels as the trace records them)."""

    cpu_hz: int = 160_000_000  # the ESP32 port boots at 160 MHz
    light_sleep: bool = False
    motor_u16: int = 0
    led_u16: int = 0
    buzzer_u16: int = 0
    rgb: int = 0
    pressed: bool = False
    sensor_gpio_on: bool | None = None  # None: the firmware does not pulse the divider (always powered)


def current_ua(board: str, state: str, loads: Loads, cell_mv: int) -> int:
    """The board's current from the cell in a power state: 'awake', 'deep_sleep' or 'off' (a power cut)."""
    b = BOARDS[board]
    if state == "off":
        return 0
    ua = b["regulator_ua"] + b["bridge_ua"] + b["charger_ua"]
    ua += cell_mv * 1000 // b["battery_divider_ohm"]  # mV / Ω = mA; x1000: µA
    fsr = b["fsr_pressed_ua"] if loads.pressed else b["fsr_idle_ua"]
    if state == "deep_sleep":
        ua += CHIP_UA["deep_sleep"] + b["rgb_idle_ua"]
        if b["sensor_rail"] == "3v3":
            ua += b["fsr_idle_ua"]  # the divider sits on the regulated rail, on in deep sleep too
        return ua
    ua += CHIP_UA["light_sleep"] if loads.light_sleep else cpu_ua(loads.cpu_hz)
    if loads.sensor_gpio_on is None or loads.sensor_gpio_on:
        ua += fsr
    ua += b["motor_ua"] * loads.motor_u16 // 65535
    ua += b["led_ua"] * loads.led_u16 // 65535
    if loads.buzzer_u16:
        ua += b["buzzer_ua"]
    if b["rgb_idle_ua"]:
        rgb = loads.rgb
        ua += b["rgb_idle_ua"] + b["rgb_channel_ua"] * ((rgb >> 16 & 255) + (rgb >> 8 & 255) + (rgb & 255)) // 255
    return ua


@dataclass
class Battery:
    """A LiPo cell: capacity, charge left (µA·ms, exact integers) and its internal resistance."""

    capacity_mah: int = DEFAULT_CAPACITY_MAH
    charge_uams: int = -1
    r_mohm: int = CELL_R_MOHM

    def __post_init__(self):
        if self.charge_uams < 0:
            self.charge_uams = self.full_uams

    @property
    def full_uams(self) -> int:
        return self.capacity_mah * 1000 * 3_600_000

    @property
    def soc_pct(self) -> float:
        return 100.0 * self.charge_uams / self.full_uams

    def ocv_mv(self) -> int:
        return ocv_mv(self.soc_pct)

    def loaded_mv(self, ua: int) -> int:
        """The terminal voltage under a load of ua: the rest voltage less the internal drop (0 when empty)."""
        if self.charge_uams <= 0:
            return 0
        return max(0, self.ocv_mv() - ua * self.r_mohm // 1_000_000)

    def drain(self, ua: int, ms: int) -> None:
        self.charge_uams = max(0, self.charge_uams - ua * ms)

    def set_soc(self, pct: float) -> None:
        self.charge_uams = int(self.full_uams * min(max(pct, 0.0), 100.0) / 100.0)


@dataclass
class Meter:
    """Integrates one board's current over virtual time. The launcher calls advance(ms) as virtual time
    passes (the firmware's clock reports, the time asleep) and set_*() when a load or the power state
    changes; totals per state give the average current of each (`sim status`, the bench)."""

    board: str = "esp32_devkitc"
    battery: Battery = field(default_factory=Battery)
    state: str = "awake"
    loads: Loads = field(default_factory=Loads)
    # per power state: [ms, µA·ms]
    totals: dict = field(default_factory=lambda: {"awake": [0, 0], "deep_sleep": [0, 0], "off": [0, 0]})

    def __post_init__(self):
        if self.board not in BOARDS:
            raise ValueError("no energy figures for board %r (have: %s)" % (self.board, ", ".join(sorted(BOARDS))))

    def current_ua(self) -> int:
        if self.battery.charge_uams <= 0:
            return 0
        return current_ua(self.board, self.state, self.loads, self.battery.ocv_mv())

    def cell_mv(self) -> int:
        """What the battery divider sees now: the cell under the present load."""
        return self.battery.loaded_mv(self.current_ua())

    def advance(self, ms: int) -> None:
        if ms <= 0:
            return
        ua = self.current_ua()
        self.battery.drain(ua, ms)
        t = self.totals[self.state]
        t[0] += ms
        t[1] += ua * ms

    def set_state(self, state: str) -> None:
        self.state = state
        if state != "awake":
            self.loads = Loads()  # a board that sleeps or loses power starts its next boot at reset values

    def level(self, name: str, value: int) -> bool:
        """An output level from the trace; True if it is a load this model counts."""
        lo = self.loads
        if name == "motor":
            lo.motor_u16 = value
        elif name == "led":
            lo.led_u16 = value
        elif name == "buzzer":
            lo.buzzer_u16 = value
        elif name == "rgb":
            lo.rgb = value
        elif name == "cpu_hz":
            lo.cpu_hz = value
        elif name == "light_sleep":
            lo.light_sleep = bool(value)
        elif name == "sensor_power":
            lo.sensor_gpio_on = bool(value)
        else:
            return False
        return True

    def band_state(self, value: int) -> None:
        # acu.band: 0 no contact, 5 fault; anything else is a press on the sensor
        self.loads.pressed = value not in (-1, 0, 5)

    def average_ua(self, state: str | None = None) -> float:
        if state is None:
            ms = sum(t[0] for t in self.totals.values())
            q = sum(t[1] for t in self.totals.values())
        else:
            ms, q = self.totals[state]
        return q / ms if ms else 0.0

    def status(self) -> dict:
        return {"board": self.board, "state": self.state, "current_ua": self.current_ua(),
                "soc_pct": round(self.battery.soc_pct, 3), "charge_uams": self.battery.charge_uams,
                "cell_mv": self.cell_mv(),
                "ocv_mv": self.battery.ocv_mv(), "capacity_mah": self.battery.capacity_mah,
                "totals": {k: {"ms": v[0], "uams": v[1]} for k, v in self.totals.items()}}
