"""The one exception type for errors a person can cause and fix."""

from __future__ import annotations

from recattn.i18n import _


class RecAttnError(Exception):
    """Something the user can fix: a bad file, an unknown item, a checkpoint for another catalogue.

    The message says what went wrong and what to do; callers show it as is (CLI: stderr, app: st.error).
    """


class DataError(RecAttnError):
    """A data file that cannot be read as it is; names the file and, where known, the line."""

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, hint: str = ""):
        # `message` and `hint` come translated (recattn.i18n); so do the words joining them to the file and line
        text = _("{message} — {hint}").format(message=message, hint=hint) if hint else message
        if path is not None and line is not None:
            text = _("{path}, line {line}: {message}").format(path=path, line=line, message=text)
        elif path is not None:
            text = _("{path}: {message}").format(path=path, message=text)
        super().__init__(text)
        self.path = path
        self.line = line
        self.hint = hint
