"""A live status line (rich) that steps aside while the person types an answer: the calibration wizard and
the weight check watch the stream and ask questions in turn."""
from __future__ import annotations

import contextlib


@contextlib.contextmanager
def live_prompt(console):
    """Yields (ask, show): ask(prompt) -> the typed line (EOFError/KeyboardInterrupt pass through);
    show(text) replaces the live line."""
    from rich.live import Live

    with Live("", console=console, refresh_per_second=20, transient=True) as lv:
        def ask(prompt: str) -> str:
            lv.stop()
            try:
                return input(prompt)
            finally:
                lv.start()
        yield ask, lv.update
