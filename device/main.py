# Runs after boot.py on every reset: the trainer's app (device/acu/app.py).
import acu.app

acu.app.main()
