# Heap probe: the whole firmware, compiled to .mpy, on a fake ESP32-DevKitC board, through a
# realistic practice; prints one JSON line of figures. Runs under the MicroPython unix port, from the
# repository root:
#   micropython -X heapsize=64K tools/heap_probe.py [--iters N] [--routine bedtime] [--programme 1]
#   python tools/heap_rom.py --dir-only   (just build build/heap/, e.g. for tools/heap_probe_wasm.mjs)
#   python host_tools/sim/romrun.py build/heap.romfs -X heapsize=64K tools/heap_probe.py --rom
#       the same modules from a ROMFS image of build/heap/ (tools/heap_rom.py builds it) mapped outside the
#       heap, as `acutrainer deploy --romfs` puts them on a board: their code runs in place from "flash"
# This launcher has tools/heap_rom.py (on CPython: $PYTHON, default the python next to the micropython
# binary) compile the firmware for esp32_devkitc as `acutrainer deploy` does (constants folded across
# modules), the probe's body (tools/heap_probe_main.py) and its minimal machine fake
# (tools/heap_probe_machine.py, the same interface as tests/device/fakemachine.py) into build/heap/, then
# runs the body from .mpy so the probe's own code costs little heap.
#
# The board is boards/esp32_devkitc, built first as /main.py builds it (acu.appcfg.build_board(), which
# drops the board module and acu.parts after; appcfg is dropped before acu.app is imported), with the
# real drivers on fake pins (FSR on the fake ADC, LED/motor/buzzer PWM, a fake DRV2605L register file, button,
# battery) and a virtual clock (5 ms per loop iteration at 200 Hz), so the practice takes seconds. The scripted user
# reacts to the runner: starts the routine with a short button press, presses to the middle of each
# step's band (a 0.6 s ramp, 3 % noise, an excursion over then under the band every 20 s), releases
# between steps. The logger writes real files under /tmp/acu_heap_probe. A host is on the serial console:
# the live link (acu.link) streams a sample every 20 ms through the whole practice (frames counted,
# dropped). The run ends 2 s after the
# session ends (the bedtime routine: about 6.5 minutes of virtual time).
#
# Figures (GC heap bytes on this 64-bit port: objects are roughly 1.6-2x their ESP32 size):
#   heap_base_bytes         the interpreter, the probe and the machine fakes (not firmware)
#   heap_after_build_bytes  the board built (its drivers; the builders dropped), after gc.collect(), minus base
#   heap_after_import_bytes the same and acu.app imported (all the loop's modules), minus base
#   heap_after_start_bytes  the App built and started (routine loaded, logs recovered), minus base
#   heap_peak_bytes         the most the firmware held at once during the practice, minus base: GC is
#                           off during each loop iteration and run after any iteration that allocated,
#                           so everything an iteration allocates counts (an upper bound)
#   heap_peak_total_bytes   the same plus the base (what -X heapsize must hold)
#   loop_allocs_per_iter    MemoryErrors per iteration under micropython.heap_lock() over a steady
#                           window of 1000 iterations (mid-step, holding in the band, between log flushes)
#   loop_alloc_iters        iterations of the whole practice that allocated at all (step changes, log
#                           flushes, trace chunk seals)
#   loop_rate_hz            App.step() + the link's service() calls per second of real time over the steady window
#   ok                      the routine completed, a session was logged, the steady window did not allocate
# A MemoryError while importing/building/starting gives {"ok": false, "error": ..., "phase": ...}.
import sys

if "--rom" in sys.argv:
    # the board's ROM partition, mounted at /rom as a ROMFS firmware does at boot: romrun.py maps it outside
    # the heap and says where in ACU_ROM="address:size" (the simulator's host_tools/sim/rom/simrom.py does
    # the same with more names; these few lines keep the probe's own interned names few)
    import os
    import uctypes
    import vfs

    try:
        a, n = os.getenv("ACU_ROM").split(":")
        vfs.mount(vfs.VfsRom(uctypes.bytearray_at(int(a), int(n))), "/rom")
    except (AttributeError, OSError):
        print('{"ok": false, "error": "no valid ROMFS image mapped (run under host_tools/sim/romrun.py)"}')
        sys.exit(1)
    sys.path[:] = ["/rom", ".frozen"]
    del os, uctypes, vfs, a, n
else:
    import os

    # build/heap is built on CPython (the firmware's build folds constants across modules)
    if os.system((os.getenv("PYTHON") or sys.executable.rsplit("/", 1)[0] + "/python")
                 + " tools/heap_rom.py --dir-only > /dev/null"):
        raise OSError("tools/heap_rom.py --dir-only failed")
    sys.path[:] = ["build/heap", ".frozen"]
    del os
import heap_probe_main  # noqa: E402

r = heap_probe_main.run()
print(heap_probe_main.json.dumps(r))
sys.exit(0 if r["ok"] else 1)
