"""Progress bars for the commands: tqdm on a terminal, a line now and then in a log."""

from __future__ import annotations

import sys

from tqdm import tqdm

# In a log (CI, a container), one line at most this often, and one at the end.
LOG_INTERVAL_SECONDS = 30.0


class LogLines:
    """A file for tqdm that writes each redraw as a line of its own: tqdm redraws with
    carriage returns, which a log keeps as hundreds of updates glued together."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> int:
        for part in text.split("\r"):
            if part.strip():
                self.stream.write(part.rstrip() + "\n")
        return len(text)

    def flush(self) -> None:
        self.stream.flush()


def progress(total: int, unit: str, *, disable: bool = False, stream=None) -> tqdm:
    """A tqdm bar on ``stream`` (stderr): live on a terminal; otherwise a plain line
    every :data:`LOG_INTERVAL_SECONDS` and at the end."""
    stream = stream or sys.stderr
    if getattr(stream, "isatty", lambda: False)():
        return tqdm(total=total, unit=unit, disable=disable, file=stream)
    return tqdm(
        total=total,
        unit=unit,
        disable=disable,
        file=LogLines(stream),
        mininterval=LOG_INTERVAL_SECONDS,
        maxinterval=LOG_INTERVAL_SECONDS,
        ascii=True,
        ncols=100,
    )
