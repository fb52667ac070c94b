# Runs first on every boot. Keep it tiny: a crash here would lock the user out of the REPL.
import gc

gc.collect()
