"""acutrainer host tools: talk to the trainer (or its simulator), calibrate, manage routines and logs."""
__version__ = "0.1.0"
