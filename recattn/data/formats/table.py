"""Read one delimited file strictly: every problem becomes a DataError naming the file and the line.

pandas' C engine does the reading. Its errors name no line (or a row, not a line) and its messages say
nothing about what to do, so each one is caught here and turned into a DataError: the header and the
first data line are checked by hand (separator, duplicated or missing columns, field counts), and a
value that does not parse is found again by a vectorised check whose first bad row is mapped back to
its line in the file.
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from pandas.errors import EmptyDataError, ParserError

from recattn.errors import DataError
from recattn.i18n import N_, _

# What a column must hold (its kind). "int": an integer; "float": a finite number; "required": non-empty
# text; "text": anything. The dtype each kind is read with when all goes well:
_FAST_DTYPES = {"int": "int64", "float": "float64", "required": "str", "text": "str"}
_KIND_WORDS = {"int": N_("an integer"), "float": N_("a number"), "required": N_("a non-empty value"),
               "text": N_("text")}
_SEP_NAMES = {",": N_("commas"), "\t": N_("tabs"), "|": "'|'", "::": "'::'", ";": N_("semicolons")}
# Bytes that stand in for a multi-character separator so that the C engine can split on one byte.
_STAND_INS = (b"\x1f", b"\x1e", b"\x1d")
_HEAD_BYTES = 1 << 20
_BOM = b"\xef\xbb\xbf"
_LINE_BREAK = re.compile(rb"\r\n|\r|\n")  # what pandas' C engine ends a line at
# The largest file read; bigger ones are refused before any byte is parsed (RECATTN_MAX_FILE_BYTES raises it).
MAX_FILE_BYTES = 2 << 30
MAX_FILE_ENV = "RECATTN_MAX_FILE_BYTES"
# pandas' C engine, which reads the body, has no limit on a field's length; the csv module, which reads the
# head and maps rows back to lines, stops at 131,072 characters. One process-wide limit for both, so that a
# file pandas accepts never fails in the csv module (a raised limit is never lowered again by anyone else).
csv.field_size_limit(max(csv.field_size_limit(), 1 << 30))


@dataclass(frozen=True)
class Layout:
    """How one file is laid out.

    columns: (name, kind) pairs. With `header=True` these are the columns the header must name (others
        are read as text); without a header they are all the columns, in file order.
    optional: (name, kind) pairs checked only when the header names them.
    what: a short description of the expected file, used in error hints (marked with N_ where it is a constant,
        translated where it is shown).
    """

    sep: str
    columns: tuple[tuple[str, str], ...]
    header: bool = True
    encoding: str = "utf-8"
    quoted: bool = False
    optional: tuple[tuple[str, str], ...] = ()
    what: str = ""


@dataclass(frozen=True)
class Table:
    """A parsed file. `frame`'s index is the data record number (0-based, header excluded), which
    `line(row)` turns back into the 1-based line in `path`; derived frames keep that index."""

    path: Path
    frame: pd.DataFrame
    line_of: Callable[[int], int | None]

    def line(self, row: int) -> int | None:
        return self.line_of(int(row))

    def error(self, row: int, message: str, hint: str = "") -> DataError:
        """A DataError pointing at the line of data record `row`."""
        return DataError(message, path=str(self.path), line=self.line(row), hint=hint)


def read_table(path: str | Path, layout: Layout) -> Table:
    """Parse `path` as `layout` says; raise DataError (file, line, what to do) on anything unexpected."""
    path = Path(path)
    source, sep = _source(path, layout)
    head = _head_lines(path, source, layout)
    names = _check_head(path, head, layout, sep)
    kinds = _kinds(names, layout)
    options = dict(
        sep=sep, header=0 if layout.header else None, names=None if layout.header else names,
        index_col=False, encoding=layout.encoding, keep_default_na=False, engine="c",
        quoting=csv.QUOTE_MINIMAL if layout.quoted else csv.QUOTE_NONE,
    )
    line_of = _line_mapper(path, source, layout, sep)
    failure = None
    try:
        frame = pd.read_csv(_rewind(source, path), dtype={n: _FAST_DTYPES[k] for n, k in kinds.items()},
                            **options)
    except UnicodeDecodeError:
        raise _decode_error(path, source, layout) from None
    except EmptyDataError:
        raise DataError(_("the file holds no data, only blank lines"), path=str(path), hint=_what(layout)) from None
    except ParserError as e:
        raise _parser_error(path, e, layout, line_of) from None
    except (ValueError, OverflowError) as e:
        failure = str(e)
    if failure is not None:
        # A value did not convert: read everything as text and let the checks find the first bad one
        # (outside the except block, so that pandas' traceback is not chained onto the DataError).
        frame = pd.read_csv(_rewind(source, path), dtype=str, **options)
    table = Table(path, frame, line_of)
    check_columns(table, kinds)
    if failure is not None:
        raise DataError(_("could not read the file ({error})").format(error=failure), path=str(path),
                        hint=_what(layout))
    return table


def check_columns(table: Table, kinds: dict[str, str]) -> None:
    """Raise DataError at the first value that is not of its column's kind."""
    for name, kind in kinds.items():
        column = table.frame[name]
        bad = _bad_values(column, kind)
        if bad.any():
            pos = int(np.argmax(bad))
            row, value = table.frame.index[pos], shown_value(column.iloc[pos])
            hint = (_("this looks like a repeated header line; remove it") if value == name
                    else _("fix or remove that line (a truncated line or a stray separator?)"))
            raise table.error(row, _("column {name} holds {value}, which is not {kind}").format(
                name=repr(name), value=repr(value), kind=_(_KIND_WORDS[kind])), hint)


def shown_value(value) -> str:
    """A value as the file has it, cut to 60 characters (a number read as float shows as 'inf', not np.float64)."""
    text = "" if value is None or value is pd.NA else str(value)
    return text if len(text) <= 60 else text[:60] + "…"


def read_lines(path: str | Path, encoding: str, what: str = "") -> list[str]:
    """All lines of a small text file, decoded strictly (for layouts pandas cannot split)."""
    path = Path(path)
    _check_file(path, what)
    data = path.read_bytes().removeprefix(_BOM)
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as e:
        line = data.count(b"\n", 0, e.start) + 1
        raise _invalid_bytes(path, line, encoding) from None
    # split on "\n" only: str.splitlines() would also break at latin-1's 0x85 and other separators
    return [line.rstrip("\r") for line in text.split("\n")]


def header_fields(path: str | Path, layout: Layout) -> list[str]:
    """The header's field names after the checks read_table makes (separator, duplicates)."""
    path = Path(path)
    source, sep = _source(path, layout)
    head = _head_lines(path, source, layout)
    return _check_head(path, head, layout, sep)


# --- reading the raw bytes -------------------------------------------------------------------------

def _check_file(path: Path, what: str) -> None:
    what = _(what) if what else ""  # a layout's description (N_), or a hint already translated (then unchanged)
    if not path.is_file():
        raise DataError(_("no such file"), path=str(path), hint=what or _("check the path"))
    size = path.stat().st_size
    if size == 0:
        raise DataError(_("the file is empty (0 bytes)"), path=str(path),
                        hint=then(what, _("re-download or re-export it")))
    limit = max_file_bytes()
    if size > limit:
        raise DataError(_("the file is {size:,.0f} MiB, over the {limit:,.0f} MiB this reader takes").format(
                            size=size / 2**20, limit=limit / 2**20),
                        path=str(path), hint=_("use a smaller sample (fewer users), or raise the limit with the "
                                               "environment variable {setting}=BYTES on a machine with the "
                                               "memory").format(setting=MAX_FILE_ENV))


def then(first: str, second: str) -> str:
    """Two hints, `first` (may be "") then `second`, as one (translated) line."""
    return _("{first}; {second}").format(first=first, second=second) if first else second


def _invalid_bytes(path: Path, line: int, encoding: str) -> DataError:
    return DataError(_("bytes that are not valid {encoding}").format(encoding=encoding), path=str(path), line=line,
                     hint=_("save the file as {encoding}").format(encoding=encoding))


def max_file_bytes() -> int:
    """The size limit for one file: MAX_FILE_BYTES, or RECATTN_MAX_FILE_BYTES where set to a number."""
    value = os.environ.get(MAX_FILE_ENV, "")
    return int(value) if value.strip().isdigit() else MAX_FILE_BYTES


def _source(path: Path, layout: Layout) -> tuple[bytes | None, str]:
    """(bytes, one-character separator). The bytes are there only when they had to be rewritten (a
    multi-character separator becomes a byte the file lacks); else None, and pandas reads the file
    itself (no second copy in memory for the large rating files)."""
    _check_file(path, _what(layout))
    # pandas drops a UTF-8 byte-order mark itself only when it decodes UTF-8
    bom = layout.encoding.replace("-", "").lower() != "utf8" and _starts_with_bom(path)
    if len(layout.sep) == 1 and not bom:
        return None, layout.sep
    data = path.read_bytes().removeprefix(_BOM)
    if len(layout.sep) == 1:
        return data, layout.sep
    stand_in = next((b for b in _STAND_INS if b not in data), None)
    if stand_in is None:
        raise DataError(_("the file holds control bytes 0x1d-0x1f, which no text file of this layout has"),
                        path=str(path), hint=_what(layout))
    return data.replace(layout.sep.encode(layout.encoding), stand_in), stand_in.decode()


def _starts_with_bom(path: Path) -> bool:
    with open(path, "rb") as f:
        return f.read(len(_BOM)) == _BOM


def _rewind(source: bytes | None, path: Path):
    return io.BytesIO(source) if source is not None else path


def _head_lines(path: Path, source: bytes | None, layout: Layout) -> list[tuple[int, str]]:
    """The first two non-blank lines as (line number, text), decoded strictly."""
    if source is not None:
        head = source[:_HEAD_BYTES]
    else:
        with open(path, "rb") as f:
            head = f.read(_HEAD_BYTES)
    lines = _LINE_BREAK.split(head.removeprefix(_BOM))
    cut = len(head) == _HEAD_BYTES
    if cut:
        lines.pop()  # may end inside a character
    out = []
    for number, raw in enumerate(lines, 1):
        if len(out) == 2:
            break
        try:
            text = raw.decode(layout.encoding)
        except UnicodeDecodeError:
            raise _invalid_bytes(path, number, layout.encoding) from None
        if not _blank(text, layout.sep):
            out.append((number, text))
    if not out and cut:
        raise DataError(_("this line is longer than {size} MiB; no line of this layout is").format(
                            size=_HEAD_BYTES // 2**20),
                        path=str(path), line=len(lines) + 1,
                        hint=then(_what(layout), _("is this a text file of this layout?")))
    if not out:
        raise DataError(_("the file holds no data, only blank lines"), path=str(path), hint=_what(layout))
    return out


# --- the header and the first data line ----------------------------------------------------------

def _split(path: Path, number: int, text: str, sep: str, quoted: bool) -> list[str]:
    if quoted:
        try:
            return next(csv.reader([text], delimiter=sep), [])
        except csv.Error as e:  # what pandas accepts and the csv module does not (none known; a safety net)
            raise DataError(_("the line cannot be split into fields ({error})").format(error=e), path=str(path),
                            line=number, hint=_("fix or remove that line")) from None
    return text.split(sep)


def _check_head(path: Path, head: list[tuple[int, str]], layout: Layout, sep: str) -> list[str]:
    """Column names, after checking the separator, the header and the first data line's field count."""
    def shown(text: str) -> str:  # the line as it is in the file (a stand-in byte back to '::')
        return text.replace(sep, layout.sep)

    first_number, first_text = head[0]
    if layout.header:
        names = _split(path, first_number, first_text, sep, layout.quoted)
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise DataError(_("the header names column(s) {names} more than once").format(
                                names=", ".join(map(repr, dupes))),
                            path=str(path), line=first_number, hint=_("rename or remove the duplicated column"))
        missing = [name for name, _kind in layout.columns if name not in names]
        if missing:
            raise DataError(
                _("missing column(s) {names}; the header is {header}").format(
                    names=", ".join(map(repr, missing)), header=repr(shown(first_text))),
                path=str(path), line=first_number,
                hint=_separator_hint(shown(first_text), layout.sep) or _what(layout),
            )
        data_lines = head[1:]
    else:
        names = [name for name, _kind in layout.columns]
        data_lines = head
    for number, text in data_lines:
        fields = _split(path, number, text, sep, layout.quoted)
        if len(fields) != len(names):
            guess = _separator_hint(shown(text), layout.sep) if len(fields) == 1 else ""
            raise DataError(
                _("expected {expected} fields separated by {separator}, found {found}").format(
                    expected=len(names), separator=_sep_name(layout.sep), found=len(fields)),
                path=str(path), line=number,
                hint=guess or then(_what(layout), _("fix or remove that line")),
            )
    return names


def _separator_hint(text: str, expected: str) -> str:
    """'the line seems to use X' when it holds none of the expected separator but another one."""
    if expected in text:
        return ""
    for candidate in ("::", "\t", ",", ";", "|"):
        if candidate != expected and candidate in text:
            return _("wrong separator: the line seems to use {found}, but this layout uses {expected}").format(
                found=_sep_name(candidate), expected=_sep_name(expected))
    return ""


def _sep_name(sep: str) -> str:
    """How a hint names a separator ("commas", "'::'")."""
    return _(_SEP_NAMES[sep]) if sep in _SEP_NAMES else repr(sep)


def _kinds(names: list[str], layout: Layout) -> dict[str, str]:
    kinds = {name: "text" for name in names}
    kinds.update({n: k for n, k in layout.optional if n in kinds})
    kinds.update(dict(layout.columns))
    return kinds


def _what(layout: Layout) -> str:
    return _("expected {what}").format(what=_(layout.what)) if layout.what else ""


# --- turning pandas' errors into lines -----------------------------------------------------------

def _parser_error(path: Path, error: ParserError, layout: Layout, line_of) -> DataError:
    text = str(error)
    fields = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", text)
    if fields:
        expected, line, saw = (int(g) for g in fields.groups())
        return DataError(_("expected {expected} fields separated by {separator}, found {found}").format(
                             expected=expected, separator=_sep_name(layout.sep), found=saw), path=str(path),
                         line=line, hint=_("a stray separator inside a value? quote the value or fix the line"))
    quote = re.search(r"inside string starting at row (\d+)", text)
    if quote:
        record = int(quote.group(1)) - (1 if layout.header else 0)
        return DataError(_("a quote (\") opens here and is never closed"), path=str(path),
                         line=line_of(record) if record >= 0 else 1, hint=_("close or remove the quote"))
    return DataError(_("could not parse the file ({error})").format(error=text.strip()), path=str(path),
                     hint=_what(layout))


def _decode_error(path: Path, source: bytes | None, layout: Layout) -> DataError:
    """The first line whose bytes do not decode (only on the error path: a pass over the file)."""
    stream = io.BytesIO(source) if source is not None else open(path, "rb")
    with stream:
        for number, raw in enumerate(stream, 1):
            try:
                raw.decode(layout.encoding)
            except UnicodeDecodeError:
                return _invalid_bytes(path, number, layout.encoding)
    return DataError(_("the file is not valid {encoding}").format(encoding=layout.encoding), path=str(path),
                     hint=_("save the file as {encoding}").format(encoding=layout.encoding))


def _line_mapper(path: Path, source: bytes | None, layout: Layout, sep: str) -> Callable[[int], int | None]:
    """row -> 1-based line. Counts records the way the C engine does (blank lines skipped, quoted
    fields may span lines); runs only when an error needs a line."""

    def line_of(row: int) -> int | None:
        target = row + (1 if layout.header else 0)
        stream = io.BytesIO(source) if source is not None else open(path, "rb")
        with io.TextIOWrapper(stream, encoding=layout.encoding, errors="replace", newline="") as text:
            if layout.quoted:
                reader = csv.reader(text, delimiter=sep)
                record, start = -1, 1
                try:
                    for fields in reader:
                        if not _blank(sep.join(fields), sep):
                            record += 1
                            if record == target:
                                return start
                        start = reader.line_num + 1
                except csv.Error:  # the line stays unknown; the message still names the file
                    return None
                return None
            record = -1
            for number, raw in enumerate(text, 1):
                if not _blank(raw, sep):
                    record += 1
                    if record == target:
                        return number
        return None

    return line_of


def _blank(line: str, sep: str) -> bool:
    """Whether the C engine skips the line: nothing on it but whitespace other than the separator."""
    return not line.strip(" \t\r\n\f\v".replace(sep, ""))


def _bad_values(column: pd.Series, kind: str) -> np.ndarray:
    """True where a value is not of `kind` (vectorised)."""
    if kind == "text":
        return np.zeros(len(column), dtype=bool)
    if kind == "int":
        if pd.api.types.is_integer_dtype(column.dtype):
            return np.zeros(len(column), dtype=bool)
        return ~column.astype(str).str.fullmatch(r"\s*[+-]?\d{1,18}\s*").fillna(False).to_numpy(dtype=bool)
    if kind == "float":
        numbers = column if pd.api.types.is_float_dtype(column.dtype) else pd.to_numeric(column, errors="coerce")
        return ~np.isfinite(numbers.to_numpy(dtype=float, na_value=np.nan))
    return (column.isna() | (column.str.strip() == "")).to_numpy(dtype=bool)
