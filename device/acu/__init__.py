# acu: the trainer's firmware package. Imports under MicroPython and CPython.
VERSION = "0.1.0"
