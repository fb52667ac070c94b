# Runs after boot.py on every reset: the trainer's app (device/acu/app.py).
# Compiled firmware (.mpy, the normal deploy): the board is built before the app's modules are imported.
# Its one-off builders (acu.appcfg, acu.parts, the board module) are dropped after the build, and the
# app's many small long-lived objects then fill the holes they leave low in the heap instead of sitting
# between them: less fragmentation, a smaller heap to start in (docs/architecture.md, "Start-up").
# Sources (`deploy --source`) are compiled here at import, and the compiler needs the big free blocks of
# a fresh heap: the app's modules first.
import acu

if acu.__file__.endswith(".py"):
    import acu.app
from acu import appcfg  # noqa: E402

hw, settings, boots, boot_id = appcfg.start()
del appcfg
acu.forget("appcfg")
try:
    import acu.app  # noqa: E402

    acu.app.main(hw, settings, boots, boot_id)
except Exception as e:  # the app failed (a Ctrl-C is not an Exception): noted, cued, restarted (acu/fault.py)
    import gc

    gc.collect()  # what the failed code held is garbage now: room to load the handler
    acu.call("fault", "handle", e, hw, boots)
