"""The one exception type for errors a person can cause and fix."""

from __future__ import annotations


class RecAttnError(Exception):
    """Something the user can fix: a bad file, an unknown item, a checkpoint for another catalogue.

    The message says what went wrong and what to do; callers show it as is (CLI: stderr, app: st.error).
    """


class DataError(RecAttnError):
    """A data file that cannot be read as it is; names the file and, where known, the line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, hint: str = ""):
        where = ""
        if path is not None:
            where = f"{path}" + (f", line {line}" if line is not None else "") + ": "
        text = where + message + (f" — {hint}" if hint else "")
        super().__init__(text)
        self.path = path
        self.line = line
        self.hint = hint
