"""The only module that reads and writes record files: CSV (plain or gzip) and Parquet.

A file is opened and its header checked before any row is processed: a wrong delimiter, a bad
encoding, an empty or header-only file, or an unmapped required column gives one clear error.
Rows are then streamed in chunks so memory does not grow with the file. CSV lines with the wrong
number of fields are not lost: they come back as `BadLine`s for the rejects report.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import glob
import gzip
import io
import itertools
import json
import os
import queue
import re
import shutil
import threading
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Literal, TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from features.decimal_marks import comma_written, number_fields, thousands_or_decimal
from features.mapping import ColumnMapping
from risk_engine.columns import Rule, fields_for
from risk_engine.errors import ConfigError, InputUnreadable, MappingError, OutputUnwritable
from risk_engine.parsing import holds_separator, plain_form
from risk_engine.reference.checks import normalise_container

__all__ = [
    "BadLine",
    "RecordFile",
    "open_records",
    "file_format",
    "write_frame",
    "write_page",
    "check_outputs",
    "fresh_output",
    "fresh_outputs",
    "distinct_outputs",
    "FrameWriter",
    "csv_safe",
    "read_ahead",
    "row_numbers",
    "matched_header",
]

T = TypeVar("T")
# A field's values a file's writing leaves unreadable: (field, rows of a chunk, rule).
Marked = tuple[str, np.ndarray, Rule]
_SAMPLE_BYTES = 1 << 20
_OTHER_DELIMITERS = (";", "\t", "|", ",")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# A part after a semicolon, a tab or a line break that a spreadsheet splitting on them (as in
# many locales, quotes or not; a reader that breaks rows at every line break) would read as a
# cell of its own, starting a formula.
# A quote already there before a formula's start is quoted again, so that reading a file back
# (`_unguarded`) takes off exactly the quotes the guard put: "'-phase 3" stays itself.
_FORMULA_PART = re.compile(r"([;\t\r\n])(?='*[=+\-@])")
_QUOTED_FORMULA = re.compile(r"'+[=+\-@\t\r]")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


@dataclass(frozen=True)
class BadLine:
    """A CSV line that could not be split into the header's columns.

    ``line`` is Arrow's number of the record in the file, the header being 1 (a value with
    line breaks inside quotes is one record), plus the lines of earlier records split at an
    unclosed quote (``rule`` UNCLOSED_QUOTE: each line of such a record is a bad line of its
    own); ``row`` numbers it as the good rows are (1 = first data row). ``bl_number`` and
    ``container_number`` are read from the line by the header's positions, where it has them,
    so the line can be found by its key too."""

    line: int | None
    text: str
    expected: int
    actual: int
    bl_number: str = ""
    container_number: str = ""
    rule: Rule = Rule.WRONG_FIELD_COUNT
    # every contract field read from the line at the header's positions, as written: a
    # watch-listed party on a line with one field too many is warned of like any rejected line
    fields: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def row(self) -> int:
        return self.line - 1 if self.line is not None else -1


def file_format(path: Path) -> str:
    """``csv`` or ``parquet`` from the extension (``.csv``, ``.csv.gz``, ``.parquet``, ``.pq``)."""
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".txt", ".txt.gz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InputUnreadable(
        str(path), "unknown file type: use .csv, .csv.gz, .txt, .txt.gz, .parquet or .pq"
    )


@dataclass
class RecordFile:
    """An opened, header-checked record file."""

    path: Path
    kind: str
    mapping: ColumnMapping
    header: list[str]
    ignored_columns: list[str]
    chunk_rows: int
    bad_lines: list[BadLine] = field(default_factory=list)
    # The column names as the file spells them, where they differ from ``header`` (padded with
    # spaces, or in another case than the contract or the mapping names them).
    file_header: list[str] | None = None
    # Rows of lines with nothing in them but spaces and delimiters (a row Excel cleared but
    # kept in its range) and of the header repeated (exports joined into one file): not
    # records, left out, but counted in the rows' numbering, as Arrow counts them.
    skipped_rows: list[int] = field(default_factory=list)
    # Each data line ends with a delimiter the header's line does not: the header (``header``,
    # ``file_header``) names that last empty field "", and Arrow reads the file with those names.
    trailing_delimiter: bool = False
    # Whether the file writes its numbers with a decimal comma (`features.decimal_marks`):
    # None until a value showed it or the file was searched for one.
    comma_decimals: bool | None = field(default=None, init=False)

    def _set_aside(self) -> list[int]:
        """The rows (in file order) not handed on as good ones: bad lines and skipped rows."""
        bad = [line.row for line in self.bad_lines]
        return sorted(bad + self.skipped_rows) if self.skipped_rows else bad

    def chunks(self) -> Iterator[tuple[np.ndarray, pd.DataFrame]]:
        """(row numbers, contract-named chunk); rows numbered from 1 in file order, the bad
        lines set aside counted in, so a row's number is its place among the file's rows.

        The next chunk is read in a background thread while the caller works on this one
        (Arrow parses without holding the GIL), so reading and validating overlap.
        """
        return ((rows, chunk) for rows, chunk, _ in self.marked_chunks())

    def marked_chunks(self) -> Iterator[tuple[np.ndarray, pd.DataFrame, list[Marked]]]:
        """`chunks` with the values of each chunk the file's writing leaves unreadable, as
        (field, rows, rule) for `validate_frame` (`number_marks`)."""
        return read_ahead(self._read_chunks())

    def number_marks(self, frame: pd.DataFrame) -> list[Marked]:
        """The numbers of a chunk (as read, before the mapping) that the file's writing leaves
        unreadable, when the mapping names no number marks: each one written with a decimal
        comma (`Rule.DECIMAL_COMMA`, malformed as written) and, in a file that writes decimal
        commas anywhere, before or after this chunk, each thousands group after a dot
        ("12.500", `Rule.THOUSANDS_OR_DECIMAL`), which would read a thousand times too small.
        A mapping's `decimal: "."` says the file writes decimal points: "12.500" is read as
        twelve and a half there."""
        mapping = self.mapping
        if mapping.decimal != "." or mapping.thousands is not None:
            return []
        columns = self._number_columns()
        marks: list[Marked] = []
        for name, source in columns.items():
            comma = comma_written(frame[source])
            if comma.any():
                marks.append((name, comma, Rule.DECIMAL_COMMA))
        if "decimal" in mapping.model_fields_set:
            return marks
        if marks:
            self.comma_decimals = True
        doubtful = [(name, thousands_or_decimal(frame[s])) for name, s in columns.items()]
        doubtful = [(name, mask) for name, mask in doubtful if mask.any()]
        if doubtful and self._writes_decimal_commas():
            marks.extend((name, mask, Rule.THOUSANDS_OR_DECIMAL) for name, mask in doubtful)
        return marks

    def _number_columns(self) -> dict[str, str]:
        """Field -> column of the file, for the fields of real numbers read from a column."""
        sources = self.mapping.source_columns(self.kind)
        return {
            name: sources[name]
            for name in number_fields(fields_for(self.kind))
            if name in sources and sources[name] in self.header
        }

    def _writes_decimal_commas(self) -> bool:
        """Whether any value of the file's number columns is written with a decimal comma: the
        whole file is searched once, the first time a chunk needs to know and has not shown
        it, so a value is judged the same wherever its line and that evidence fall."""
        if self.comma_decimals is None:
            self.comma_decimals = False
            for source in self._number_columns().values():
                for raw in self._column_frames(source):
                    if comma_written(raw[source]).any():
                        self.comma_decimals = True
                        return True
        return self.comma_decimals

    def _column_frames(self, source: str) -> Iterator[pd.DataFrame]:
        """One column of the file (as the mapping names it), batch after batch, as text."""
        spelled = (self.file_header or self.header)[self.header.index(source)]
        if file_format(self.path) == "csv":
            batches: Iterator[pa.RecordBatch] = self._csv_batches(only=spelled)
        else:
            batches = pq.ParquetFile(self.path).iter_batches(
                batch_size=self.chunk_rows, columns=[spelled]
            )
        read = 0
        for batch in batches:
            yield _to_pandas(pa.table({source: batch.column(0)}), self.path, read + 1)
            read += batch.num_rows

    def _read_chunks(self) -> Iterator[tuple[np.ndarray, pd.DataFrame, list[Marked]]]:
        batches = (
            self._csv_batches() if file_format(self.path) == "csv" else self._parquet_batches()
        )
        good = 0  # good rows before this chunk
        for table in _rechunk(batches, self.chunk_rows):
            if self.file_header is not None:
                table = table.rename_columns(self.header)
            count = table.num_rows
            # Arrow parses in file order here, so every bad line before this chunk's last row
            # has been met by now.
            rows = row_numbers(good, count, self._set_aside())
            if file_format(self.path) == "csv":
                skip = self._not_records(table, rows)
                if skip is not None:
                    table, rows = table.filter(pa.array(~skip)), rows[~skip]
            frame = _to_pandas(table, self.path, good + 1)
            marks = self.number_marks(frame)
            yield rows, self.mapping.apply(frame, self.kind), marks
            good += count

    def _header_again(self, text: str) -> bool:
        """Whether a line that does not split into the header's fields is the header's line
        (a file whose data lines end with a delimiter its header line does not)."""
        if not self.trailing_delimiter:
            return False
        names = [_bare(name) for name in (self.file_header or self.header)[:-1]]
        return [_bare(value) for value in _fields(text, self.mapping.delimiter)] == names

    def _not_records(self, table: pa.Table, rows: np.ndarray) -> np.ndarray | None:
        """Where a CSV chunk's rows are no records: blank (nothing but spaces in every field, a
        row Excel cleared but kept in its range, read as a line missing every required field)
        or the header again (exports joined into one file, each with its header, read as a
        line with every field malformed); None when there is none, as in most files. A row
        that repeats most of the header's names in another order is a header of other
        columns: the rows after it would be read under the wrong names, so the file is
        refused, naming the row."""
        names = [_bare(name) for name in (self.file_header or self.header)]
        first = _bare_column(table.column(0))
        candidates = pc.or_(pc.equal(first, ""), pc.is_in(first, pa.array(names)))
        if not pc.any(candidates).as_py():
            return None  # the common case, told by the first column alone
        at = np.flatnonzero(np.asarray(candidates.to_numpy(zero_copy_only=False), dtype=bool))
        blank = np.ones(len(at), dtype=bool)
        header = np.ones(len(at), dtype=bool)
        named = np.zeros(len(at), dtype=np.int64)
        for column, name in zip(table.select(range(len(names))).columns, names, strict=True):
            values = _bare_column(column.take(pa.array(at)))
            blank &= np.asarray(pc.equal(values, "").to_numpy(zero_copy_only=False), dtype=bool)
            header &= np.asarray(pc.equal(values, name).to_numpy(zero_copy_only=False), dtype=bool)
            known = pc.is_in(values, pa.array(names)).to_numpy(zero_copy_only=False)
            named += np.asarray(known, dtype=np.int64)
        other = ~header & ~blank & (named * 2 > len(names))
        if other.any():
            index = int(at[np.flatnonzero(other)[0]])
            raise InputUnreadable(
                str(self.path),
                f"row {int(rows[index]):,} is a header of other columns than the file's first "
                "line (files with different columns joined into one?): the rows after it would "
                "be read under the wrong names; read each export on its own",
            )
        skip = np.zeros(table.num_rows, dtype=bool)
        skip[at[blank | header]] = True
        return skip if skip.any() else None

    def filed_in_order(self) -> bool:
        """Whether the file's lines come in filing order, day by day (each line filed on the
        day of the line before it or later, UTC), read from its ``filed_at`` column alone:
        then a point-in-time featurisation may take it chunk after chunk as read. False when
        they do not, or when a filing time cannot be read here (the contract will tell)."""
        source = self.mapping.source_columns(self.kind).get("filed_at")
        if source is None or source not in self.header:
            return False  # a constant, or missing: the contract rejects or tells
        last = np.iinfo(np.int64).min
        for raw in self._column_frames(source):
            filed = self.mapping.apply(raw, self.kind)["filed_at"]
            moments = pd.to_datetime(filed, utc=True, errors="coerce", format="ISO8601")
            if moments.isna().any():
                return False
            days = moments.dt.tz_localize(None).to_numpy().astype("datetime64[D]")
            days = days.astype(np.int64)
            if len(days) and (days[0] < last or (np.diff(days) < 0).any()):
                return False
            last = int(days[-1]) if len(days) else last
        return True

    def _csv_batches(self, only: str | None = None) -> Iterator[pa.RecordBatch]:
        """The file's batches, as text; with ``only``, that column alone, and its bad lines
        are not recorded (they are when the file is read whole)."""
        sources = self.mapping.source_columns(self.kind)
        at = {
            name: self.header.index(source)
            for name, source in sources.items()
            if source in self.header
        }

        split_lines = 0  # lines of the file more than Arrow's records so far (`_split`)

        def fields_of(text: str) -> dict[str, str]:
            values = _fields(text, self.mapping.delimiter)
            return {name: values[i].strip()[:200] for name, i in at.items() if i < len(values)}

        def on_bad_line(row: pacsv.InvalidRow) -> str:
            # An exception raised here would stop Arrow's whole read: nothing may escape.
            nonlocal split_lines
            if only is not None:
                return "skip"
            number = None if row.number is None or row.number < 0 else row.number + split_lines
            if _blank(row.text, self.mapping.delimiter) or self._header_again(row.text):
                # spaces (and delimiters) alone: a blank line, not a record with too few fields;
                # or the header again, without the data lines' trailing delimiter
                if number is not None:
                    self.skipped_rows.append(number - 1)
                return "skip"
            parts = _split(
                row.text, row.expected_columns, self.mapping.delimiter, at.get("container_number")
            )
            rule = Rule.UNCLOSED_QUOTE if len(parts) > 1 else Rule.WRONG_FIELD_COUNT
            for offset, text in enumerate(parts):
                read = fields_of(text)
                self.bad_lines.append(
                    BadLine(
                        None if number is None else number + offset,
                        text[:2000],
                        row.expected_columns,
                        row.actual_columns
                        if len(parts) == 1
                        else len(_fields(text, self.mapping.delimiter)),
                        bl_number=read.get("bl_number", "")[:100],
                        container_number=read.get("container_number", "")[:100],
                        rule=rule,
                        fields=read,
                    )
                )
            split_lines += len(parts) - 1
            return "skip"

        try:
            reader = pacsv.open_csv(
                self.path,
                # One thread: Arrow then numbers each bad line (with threads it cannot), and
                # the reading is done ahead on a thread of its own (`read_ahead`) anyway.
                read_options=pacsv.ReadOptions(
                    encoding=self.mapping.encoding,
                    block_size=8 << 20,
                    use_threads=False,
                    column_names=(self.file_header or self.header)
                    if self.trailing_delimiter
                    else None,
                    skip_rows=1 if self.trailing_delimiter else 0,
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.mapping.delimiter,
                    newlines_in_values=True,
                    invalid_row_handler=on_bad_line,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in self.file_header or self.header},
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                    include_columns=None if only is None else [only],
                ),
            )
            single_byte = only is None and _one_byte(self.mapping.encoding)
            good = 0
            for batch in reader:
                if only is None:
                    self._check_runs(batch, good, at.get("container_number"))
                if single_byte:
                    self._check_text(batch, good)
                good += batch.num_rows
                # outcomes come back in the engine's own CSV files (an export, a ranked list
                # with results added): read to the values it wrote, not with its formula guard
                yield _unguarded(batch) if self.kind == "outcomes" else batch
        except OSError as error:  # a truncated .csv.gz: "Truncated compressed stream"
            raise InputUnreadable(
                str(self.path), f"cannot be read past some rows: {error} (a cut-off file?)"
            ) from error
        except (pa.ArrowInvalid, UnicodeDecodeError) as error:
            found = _ARROW_ROW.search(str(error))
            if isinstance(error, UnicodeDecodeError) or ("invalid UTF8" in str(error) and found):
                # Arrow counts the header as row 1; the engine numbers the rows after it
                row = f"row {int(found.group(1)) - 1:,}, " if found else ""
                problem = _undecodable(
                    self.path,
                    self.mapping.encoding,
                    row,
                    header=self.file_header or self.header,
                    delimiter=self.mapping.delimiter,
                )
                raise InputUnreadable(str(self.path), problem) from error
            raise InputUnreadable(
                str(self.path), f"cannot be read past some rows: {error}"
            ) from error

    def _check_runs(self, batch: pa.RecordBatch, good: int, container: int | None) -> None:
        """A quote opened in a field and closed on a later line of the file (a stray ``"`` at a
        description's start, closed by an inch mark, ``12" PIPE``, three lines down) makes the
        lines between one value of a record with the right number of fields: they were read as
        a description and lost, exit 0. A value holding a whole line of the file (the header's
        fields, a container number where the header has one) refuses the file, naming where."""
        expected = len(self.header)
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            data = column.buffers()[2] if len(column.buffers()) > 2 else None
            if data is None or data.to_pybytes().find(b"\n") < 0:
                continue  # no line break in the column's text at all: the common case, at once
            broken = pc.indices_nonzero(pc.match_substring(column, "\n")).to_pylist()
            for index in broken:
                lines = _LINE_BREAK.split(column[index].as_py())
                swallowed = [
                    line
                    for line in lines[1:-1]
                    if _a_line(line, expected, self.mapping.delimiter, container)
                ]
                if swallowed:
                    row = row_numbers(good + index, 1, self._set_aside())
                    keys = [
                        _fields(line, self.mapping.delimiter)[container]
                        for line in swallowed
                        if container is not None
                    ]
                    raise InputUnreadable(
                        str(self.path),
                        f"row {int(row[0]):,}, column {name}: a quote opened there closes "
                        f"{len(lines) - 1:,} lines further down, so {len(swallowed):,} whole "
                        "lines of the file were read into that value"
                        + (f" (containers {', '.join(keys[:5])})" if keys else "")
                        + ': fix the quote (a stray " at the start of a value, or an inch '
                        "mark in a later one) and read the file again",
                    )

    def _check_text(self, batch: pa.RecordBatch, good: int) -> None:
        """A file read in a one-byte encoding (latin-1, cp1252) whose text shows it is in
        another is refused, in any batch: the check of the first MiB let a Windows quote (0x92)
        past it through as a control character, "O\\x92NEILL", which missed its watch-list
        entry, and a UTF-8 file read as cp1252 gave "SOCIÃ‰TÃ‰" without a word. A value
        "reads as UTF-8" only when its bytes spell UTF-8 accented letters or quotes
        (`_utf8_reading`): a correct cp1252 "ANDRÉ’S" (bytes C9 92, U+0252 in UTF-8) is not."""
        encoding = self.mapping.encoding
        latin1 = codecs.lookup(encoding).name == "iso8859-1"
        found: list[tuple[int, str, str]] = []  # the first in each column; the first told
        for name, column in zip(batch.schema.names, batch.columns, strict=True):
            odd = pc.indices_nonzero(pc.invert(pc.string_is_ascii(column))).to_pylist()
            sample = odd[:1000]
            reads = [i for i in sample if _utf8_reading(column[i].as_py(), encoding)]
            if reads and 2 * len(reads) > len(sample):  # most of them: the text is UTF-8
                value = column[reads[0]].as_py()
                found.append((reads[0], name, _utf8_problem(value, encoding)))
            if latin1 and odd:  # every value: a Windows byte may be anywhere
                windows = pc.indices_nonzero(pc.match_substring_regex(column, "[\x80-\x9f]"))
                if len(windows):
                    index = windows[0].as_py()
                    value = column[index].as_py()
                    found.append((index, name, _c1_problem(value, encoding)))
        if found:
            index, name, problem = min(found)
            row = row_numbers(good + index, 1, self._set_aside())
            raise InputUnreadable(str(self.path), f"row {int(row[0]):,}, column {name}: {problem}")

    def _parquet_batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from pq.ParquetFile(self.path).iter_batches(batch_size=self.chunk_rows)
        except (OSError, pa.ArrowException) as error:  # a damaged page: "Corrupt snappy ..."
            raise InputUnreadable(
                str(self.path), f"cannot be read past some rows: {error} (a damaged file?)"
            ) from error


_DONE = object()
_ARROW_ROW = re.compile(r"Row #(\d+)")


def _bare(name: str) -> str:
    """A header name or a value as compared with one: without spaces, marks and case."""
    return name.replace("\ufeff", "").strip().casefold()


def _bare_column(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """`_bare` of a text column, in Arrow (a byte-order mark of a file joined on: "\ufeff"
    before the repeated header's first name)."""
    text = pc.replace_substring(column, "\ufeff", "")
    return pc.utf8_lower(pc.utf8_trim_whitespace(text))


def _blank(text: str, delimiter: str) -> bool:
    """A line of nothing but spaces, delimiters and empty quotes."""
    return not text.replace(delimiter, "").replace('"', "").strip()


def _fields(text: str, delimiter: str) -> list[str]:
    """The fields of one record's text as CSV splits them; none when it cannot (a field over
    the csv module's size limit raised inside Arrow's bad-line handler and stopped the read)."""
    try:
        return next(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), [])
    except csv.Error:
        return []


def _split(text: str, expected: int, delimiter: str, container: int | None) -> list[str]:
    """A bad record's text as the lines of the file it stands for. A quote opened in a field
    and not closed (a stray ``"`` at the start of a description) makes Arrow read the lines
    after it, up to the next quote, as one record with the wrong number of fields: they were
    lost from the counts and the rejects alike. When any of its later lines is a line of its
    own (it splits into the header's fields, with a container number where the header has
    one, ``container`` its position), the record is such a run, and each line is told on its
    own. A correct quoted value with a line break in a line with a field too many stays one
    record (its second line's fields fell into place by chance only)."""
    lines = _LINE_BREAK.split(text)
    if len(lines) > 1 and any(_a_line(line, expected, delimiter, container) for line in lines[1:]):
        return lines
    return [text]


_LINE_BREAK = re.compile(r"\r\n|\r|\n")  # what ends a line of a CSV file, nothing else
_CONTAINER_LIKE = re.compile(r"[A-Z]{4}[0-9]{7}")  # after `normalise_container`


def _a_line(line: str, expected: int, delimiter: str, container: int | None) -> bool:
    fields = _fields(line, delimiter)
    if len(fields) != expected:
        return False
    if container is None:
        return True
    # as the contract reads it: "PCIU-831784-0", "PCIU 831784 0" and a full-width
    # "ＰＣＩＵ８３１７８４０" (`plain_form`) are PCIU8317840
    return bool(_CONTAINER_LIKE.fullmatch(normalise_container(plain_form(fields[container]))))


def read_ahead(items: Iterator[T], depth: int = 1) -> Iterator[T]:
    """Run an iterator one step ahead in a thread; its errors are raised in the caller."""
    slots: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                slots.put(item)
            slots.put(_DONE)
        except BaseException as error:  # handed to the consumer, raised there
            slots.put(error)

    worker = threading.Thread(target=produce, name="record-reader", daemon=True)
    worker.start()
    try:
        while True:
            item = slots.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        while worker.is_alive():
            try:
                slots.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)


# The first chunk is smaller, so that validation starts early and the read-ahead of the next
# chunk overlaps with it (nothing overlaps the first read).
_FIRST_CHUNK_ROWS = 50_000


def row_numbers(good: int, count: int, bad_rows: list[int]) -> np.ndarray:
    """Row numbers (1 = first data row) of ``count`` good rows after ``good`` others, when the
    rows ``bad_rows`` (in file order; -1 where unknown) were set aside: the j-th bad row comes
    after ``bad - 1 - j`` good rows, and every good row after it moves one place down."""
    index = np.arange(good, good + count, dtype=np.int64)
    known = np.asarray([row for row in bad_rows if row > 0], dtype=np.int64)
    if not len(known):
        return index + 1
    before = known - 1 - np.arange(len(known), dtype=np.int64)  # good rows before each bad one
    return index + 1 + np.searchsorted(before, index, side="right")


def _rechunk(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.Table]:
    pending: list[pa.RecordBatch] = []
    count = 0
    size = min(rows, _FIRST_CHUNK_ROWS)
    for batch in batches:
        pending.append(batch)
        count += batch.num_rows
        while count >= size:
            table = pa.Table.from_batches(pending)
            yield table.slice(0, size)
            rest = table.slice(size)
            pending, count = rest.to_batches(), rest.num_rows
            size = rows
    if count:
        yield pa.Table.from_batches(pending)


def _to_pandas(table: pa.Table, path: Path, first_row: int = 1) -> pd.DataFrame:
    """Strings stay pyarrow-backed; list columns become ``;``-joined text (the CSV form), but
    for a list with an item holding the separator: that one is kept as its list, for the
    contract to read its items as the API does (`_list_text`); the types other writers choose
    are read as the contract reads them (`_contract_types`). ``first_row`` numbers the table's
    first row in the file, for an error."""
    columns: dict[str, Any] = {}
    held: dict[str, tuple[np.ndarray, list[Any]]] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        column = _contract_types(name, column, path, first_row)
        if _is_list(column.type):
            try:
                # a cast of the items as the column's own (`_contract_types`): a float32 item
                # as its shortest decimal, bytes checked to be UTF-8
                as_text = pc.cast(_plain_list(column), pa.list_(pa.string()))
            except pa.ArrowInvalid:
                raise InputUnreadable(str(path), _not_utf8(name, column, first_row)) from None
            except (pa.ArrowNotImplementedError, pa.ArrowTypeError):
                # lists of objects or of lists (``[{"port": ...}]``): given to the contract as
                # they are, which finds them malformed (they stopped the read: "Unsupported
                # cast from struct to utf8")
                held[name] = (np.arange(len(column)), column.to_pylist())
                column = pa.chunked_array([pa.nulls(len(column), pa.string())])
            else:
                column, kept = _list_text(as_text)
                if len(kept[0]):
                    held[name] = kept
        columns[name] = column
    frame: pd.DataFrame = pa.table(columns).to_pandas(
        types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get, self_destruct=True
    )
    for name, (rows, lists) in held.items():
        values = np.empty(len(frame), dtype=object)
        values[:] = [None if value is pd.NA else value for value in frame[name].tolist()]
        for row, items in zip(rows, lists, strict=True):
            values[row] = items
        frame[name] = pd.Series(values, index=frame.index, dtype=object)
    return frame


def _list_text(column: pa.ChunkedArray) -> tuple[pa.Array, tuple[np.ndarray, list[Any]]]:
    """A list<string> column as ``;``-joined text, and (rows, lists) of the lists with an item
    that holds the separator (``["SGSIN;MYPKG"]``, or "；" read in plain form): joined, the
    item read as two ports where the API refuses it as no port. A null item is no item, as in
    a JSON list: Arrow's join gave null for the whole list, and every port of the line was
    lost without a word."""
    lists = column.combine_chunks()
    items = lists.flatten()
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False)
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    filled = pa.ListArray.from_arrays(
        pa.array(offsets), pc.fill_null(items, ""), mask=lists.is_null()
    )
    holding = np.asarray(pc.fill_null(pc.match_substring(items, ";"), False), dtype=bool)
    others = np.flatnonzero(~np.asarray(pc.fill_null(pc.string_is_ascii(items), True)))
    for index in others:
        holding[index] = holds_separator(items[int(index)].as_py())
    rows = np.unique(np.asarray(pc.list_parent_indices(lists))[holding])
    kept = lists.take(pa.array(rows, type=pa.int64())).to_pylist() if len(rows) else []
    return pc.binary_join(filled, ";"), (rows, kept)


def _is_list(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_list(kind)
        or pa.types.is_large_list(kind)
        or pa.types.is_fixed_size_list(kind)
        or pa.types.is_list_view(kind)
        or pa.types.is_large_list_view(kind)
    )


def _plain_list(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A fixed-size list or a list view as a plain list (a list view cast straight to a list
    of strings gave an invalid array)."""
    kind = column.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return column
    plain = pa.list_(kind.value_type)
    return pa.chunked_array([pa.array(chunk.to_pylist(), plain) for chunk in column.chunks], plain)


def _contract_types(
    name: str, column: pa.ChunkedArray, path: Path, first_row: int
) -> pa.ChunkedArray:
    """A Parquet column of a type other writers choose, read as what it holds:

    - a float32 (or float16) number as the decimal the writer wrote, not as its binary value
      widened: a float32 19.99 was read as 19.989999771118164, an HS code 4403.1 was shown as
      4403.10009765625;
    - a decimal (``decimal128(12, 2)``, as databases and .NET write amounts) as a number, so
      that an HS code sent as one is judged as a number is (0507.90 stored as 507.90 has lost
      its leading zero: it was read as the HS code 50790, accepted);
    - bytes (a string column written without its UTF-8 annotation, as older Hive and Impala
      do) as the text they spell: bytes that are not UTF-8 stop the read naming the column
      and the row (a traceback before);
    - a dictionary-encoded column of any of these as its values, and an extension type (a
      UUID) as what it stores."""
    kind = column.type
    if isinstance(kind, pa.BaseExtensionType):
        column = pa.chunked_array([chunk.storage for chunk in column.chunks], kind.storage_type)
        kind = kind.storage_type
    if pa.types.is_dictionary(kind) and _retyped(kind.value_type):
        column = column.cast(kind.value_type)
        kind = kind.value_type
    if pa.types.is_float16(kind) or pa.types.is_float32(kind) or pa.types.is_decimal(kind):
        # through its text: Arrow writes a float as the shortest decimal that reads back as the
        # same float, and a decimal as written (cast straight to a float, 507.90 came out as
        # 507.90000000000003)
        return pc.cast(pc.cast(column, pa.string()), pa.float64())
    if _is_bytes(kind):
        if pa.types.is_fixed_size_binary(kind) or pa.types.is_binary_view(kind):
            column = column.cast(pa.binary())
        try:
            return column.cast(pa.string())
        except pa.ArrowInvalid:
            raise InputUnreadable(str(path), _not_utf8(name, column, first_row)) from None
    return column


def _retyped(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_float16(kind)
        or pa.types.is_float32(kind)
        or pa.types.is_decimal(kind)
        or _is_bytes(kind)
        or isinstance(kind, pa.BaseExtensionType)
    )


def _is_bytes(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
        or pa.types.is_binary_view(kind)
    )


def _not_utf8(name: str, column: pa.ChunkedArray, first_row: int) -> str:
    """Where a column of bytes (or of lists of bytes) first holds bytes that are not UTF-8
    text (the error path only: the column is walked in Python)."""
    for index, value in enumerate(column.to_pylist()):
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, bytes):
                continue
            try:
                item.decode("utf-8")
            except UnicodeDecodeError as error:
                return (
                    f"row {first_row + index:,}, column {name}: the column holds bytes, not "
                    f"text, and {item[:40]!r} is not UTF-8 (byte 0x{item[error.start]:02x}): "
                    "write the column as a UTF-8 string column"
                )
    return f"column {name}: the column holds bytes that are not UTF-8 text"


def open_records(
    path: Path, kind: str, mapping: ColumnMapping | None = None, *, chunk_rows: int = 200_000
) -> RecordFile:
    """Open a record file and check it before any row is processed."""
    path = Path(path)
    mapping = mapping or ColumnMapping()
    if path.is_dir():
        raise InputUnreadable(str(path), "a folder, not a file: give one CSV or Parquet file")
    if not path.is_file():
        raise InputUnreadable(str(path), "no such file")
    fmt = file_format(path)
    trailing = False
    if fmt == "csv":
        sample = _read_sample(path)
        if "encoding" not in mapping.model_fields_set:
            _not_unmarked_utf16(path, sample)
            mapping = _with_marked_encoding(sample, mapping)
        if "delimiter" not in mapping.model_fields_set:
            mapping = _with_header_delimiter(sample, mapping)
        spelled, trailing = _csv_header(path, mapping, sample)
    else:
        spelled = _parquet_header(path)
    header = matched_header(spelled, set(mapping.source_columns(kind).values()))
    ignored = mapping.check_header(header, kind)
    file_header = spelled if spelled != header else None
    return RecordFile(
        path,
        kind,
        mapping,
        header,
        ignored,
        chunk_rows,
        file_header=file_header,
        trailing_delimiter=trailing,
    )


def matched_header(spelled: list[str], wanted: set[str]) -> list[str]:
    """The header with each column named as the contract (or the mapping) names it when the
    file spells it with other case or surrounding spaces (``BL_NUMBER``, `` hs_code ``), as
    customs systems export them. A column the mapping reads that appears twice is ambiguous
    (`MappingError`, naming both)."""
    by_folded: dict[str, list[str]] = {}
    for name in wanted:
        by_folded.setdefault(name.strip().casefold(), []).append(name)
    header = []
    for name in spelled:
        found = by_folded.get(name.strip().casefold(), [])
        header.append(name if name in wanted or len(found) != 1 else found[0])
    for name in sorted(wanted):
        spellings = [spelled[i] for i, matched in enumerate(header) if matched == name]
        if len(spellings) > 1:
            raise MappingError(
                f"column {name!r} appears {len(spellings)} times in the header (as "
                f"{spellings}): which one holds the field is ambiguous; drop or rename all "
                "but one"
            )
    return header


def _with_marked_encoding(sample: bytes, mapping: ColumnMapping) -> ColumnMapping:
    """A file that starts with a UTF-16 byte-order mark (Excel's "Unicode text") is read as
    UTF-16 when no mapping names an encoding: the mark says so beyond doubt."""
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return mapping.model_copy(update={"encoding": "utf-16"})
    return mapping


def _not_unmarked_utf16(path: Path, sample: bytes) -> None:
    """A UTF-16 file without its byte-order mark (a tool's "Unicode" export, a mark cut off) is
    refused saying so: read as UTF-8 its text is letters with NUL bytes between them, and the
    error named a header of one column "b\\x00l\\x00_\\x00..." or a wrong delimiter."""
    if sample[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        return
    head = sample[:512]
    if len(head) < 4 or head.count(0) * 4 < len(head):  # a stray NUL is a value's problem
        return
    order = "little" if head[1::2].count(0) > head[0::2].count(0) else "big"
    raise InputUnreadable(
        str(path),
        f"the file is UTF-16 ({order}-endian) without its byte-order mark (a NUL byte between "
        "the letters of its header): save it as UTF-8 CSV (Excel: \"CSV UTF-8\"), or set "
        f"'encoding: utf-16-{order[0]}e' in a mapping file",
    )


def _with_header_delimiter(sample: bytes, mapping: ColumnMapping) -> ColumnMapping:
    """The delimiter of a file whose header is one column by commas: the one the csv module's
    sniffer finds in the header line among semicolon, tab and bar (European Excel saves with
    semicolons, its "Unicode text" with tabs), when no mapping names one. A file that reads
    with commas is read so, as before; the header is the line looked at, since its names hold
    no delimiter where a value (a description with commas) may."""
    text = codecs.getincrementaldecoder(mapping.encoding)(errors="replace").decode(sample)
    line = next(iter(text.lstrip("\ufeff").splitlines()), "")
    if "," in line or not line.strip():
        return mapping
    try:
        found = csv.Sniffer().sniff(line, delimiters=";\t|").delimiter
    except csv.Error:
        return mapping  # `_csv_header` tells what it found
    return mapping.model_copy(update={"delimiter": found})


_C1 = re.compile("[\x80-\x9f]")


def _no_c1_controls(path: Path, encoding: str, text: str) -> None:
    """A file declared latin-1 whose bytes 0x80-0x9F read as control characters is a Windows
    (cp1252) file: read as latin-1, "O'NEILL" (0x92) became "O\\x92NEILL", silently, and missed
    its watch-list entry."""
    if codecs.lookup(encoding).name != "iso8859-1":
        return
    found = _C1.search(text)
    if found is None:
        return
    line = text.count("\n", 0, found.start()) + 1
    start = text.rfind("\n", 0, found.start()) + 1
    end = text.find("\n", found.start())
    words = text[start : end if end >= 0 else len(text)].split()
    word = next((w for w in words if _C1.search(w)), "")
    if _utf8_reading(word, encoding):  # UTF-8 É is C3 89: a "control character" in latin-1
        raise InputUnreadable(str(path), f"line {line}: {_utf8_problem(word, encoding)}")
    raise InputUnreadable(str(path), _windows_byte(found.group(), encoding, f" on line {line}"))


# Characters a correct one-byte text spells by chance when its bytes are read as UTF-8: an
# accented capital before a Windows quote or a no-break space (cp1252 "É’" is U+0252, "É "
# U+0260) lands in Latin Extended-B, the IPA and modifier letters, or the C1 controls. UTF-8
# text read in the wrong encoding reads back as real letters: Latin, Turkish, Greek, Cyrillic.
_BY_CHANCE = re.compile("[\u0080-\u009f\u0180-\u036f]")


def _utf8_reading(value: str, encoding: str) -> str:
    """``value``'s bytes in ``encoding`` read as UTF-8, when that reading is text (no character
    of `_BY_CHANCE`); "". A file is taken for UTF-8 when most of its values beyond ASCII read
    so (`RecordFile._check_text`): one coincidence among many accented names is not."""
    try:
        reading = value.encode(encoding).decode("utf-8")
    except (UnicodeError, LookupError):
        return ""
    if reading != value and not _BY_CHANCE.search(reading):
        return reading
    return ""


def _utf8_problem(value: str, encoding: str) -> str:
    return (
        f"declared {encoding}, but {value[:40]!r} reads as UTF-8 text "
        f"({_utf8_reading(value, encoding)[:40]!r}): the file is most likely UTF-8; set "
        "'encoding: utf-8' in the mapping or leave it out"
    )


def _c1_problem(value: str, encoding: str) -> str:
    if _utf8_reading(value, encoding):  # UTF-8 É is C3 89: a "control character" in latin-1
        return _utf8_problem(value, encoding)
    found = _C1.search(value)
    assert found is not None
    return _windows_byte(found.group(), encoding)


def _windows_byte(byte: str, encoding: str, where: str = "") -> str:
    return (
        f"declared {encoding}, but byte 0x{ord(byte):02x}{where} is a control character in "
        "latin-1: the file is most likely Windows text; set 'encoding: cp1252' in the mapping"
    )


def _one_byte(encoding: str) -> bool:
    """Whether every byte is one character in ``encoding`` (latin-1, cp1252, koi8-r), as the
    checks of `RecordFile._check_text` assume (gbk, shift_jis, big5 are not)."""
    if codecs.lookup(encoding).name.startswith("utf"):
        return False
    return len(bytes(range(256)).decode(encoding, errors="replace")) == 256


# Encodings the region's systems export in, tried on a file that is not the one declared: Chinese
# (gbk, gb18030, big5), Japanese (shift_jis), Korean (euc-kr), Thai (cp874), Vietnamese (cp1258),
# Western (cp1252). A one-byte encoding reads any bytes, so the multi-byte ones come first.
_CANDIDATE_ENCODINGS = ("gbk", "big5", "shift_jis", "euc-kr", "cp874", "cp1258", "cp1252")


def _encodings_that_read(sample: bytes, what: str = "its first bytes") -> str:
    """What the hint of an undecodable file names: the candidate encodings its first bytes (or
    ``what`` ``sample`` is) decode in (a GBK export was pointed at latin-1 or cp1252, which
    read every row of Chinese as accented Latin letters, accepted)."""
    end = len(sample)
    if end == _SAMPLE_BYTES:  # the sample may cut a character in two: not held against it
        end -= 4
    return (
        f"{what} read as {_readings(sample[:end])}"
        ": give the one its system writes (Chinese gbk or big5, Japanese shift_jis, Korean "
        "euc-kr, Thai cp874, Vietnamese cp1258, Western cp1252); a one-byte encoding (latin-1, "
        "cp1252) reads any bytes, as the wrong letters when it is not the file's"
    )


def _readings(data: bytes) -> str:
    """The candidate encodings ``data`` decodes in, or none of them."""
    reading = []
    for encoding in _CANDIDATE_ENCODINGS:
        try:
            data.decode(encoding)
        except UnicodeDecodeError:
            continue
        reading.append(encoding)
    return ", ".join(reading) or "none of " + ", ".join(_CANDIDATE_ENCODINGS)


def _undecodable(
    path: Path,
    encoding: str,
    row: str = "",
    *,
    header: list[str] | None = None,
    delimiter: str = ",",
) -> str:
    """What is wrong with a file that does not decode in ``encoding`` past its first MiB: the
    first line that does not (by a pass over the file's lines, on this error alone), its bad
    byte, the column of ``header`` it falls in and the encodings the line reads in. Arrow named
    a row and cp1252 or latin-1 (which read a Chinese or Thai export as accented Latin letters),
    or, for a file declared in another encoding, a byte's offset in its reading buffer."""
    if codecs.lookup(encoding).name.startswith("utf-16"):  # its lines are not split on b"\n"
        return f"{row}not {encoding} text; set the file's encoding in a mapping file"
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode(encoding)
            except UnicodeDecodeError as error:
                column = _column_at(line, error.start, encoding, header or [], delimiter)
                return _bad_line(number, line, error, encoding, row + column)
    return f"{row}not {encoding} text; set 'encoding:' in a mapping file"


def _column_at(line: bytes, start: int, encoding: str, header: list[str], delimiter: str) -> str:
    """``"column NAME, "`` for the column of ``header`` that byte ``start`` of ``line`` falls
    in, when the line splits into the header's fields (a line of a value with line breaks
    inside quotes does not, nor one with a field too many): "" when it cannot be known. The
    error named the line, the row and the character, and left the officer to count commas."""
    whole = line.decode(encoding, errors="replace").rstrip("\r\n")
    if len(header) < 2 or len(_fields(whole, delimiter)) != len(header):
        return ""
    before = _fields(line[:start].decode(encoding, errors="replace"), delimiter)
    return f"column {header[max(len(before), 1) - 1]}, "


def _bad_line(number: int, line: bytes, error: UnicodeDecodeError, encoding: str, row: str) -> str:
    """The error for line ``number`` of a file (the header is line 1), which ``error`` says
    does not decode in ``encoding``: where (``row`` holds the row and column where known), and
    what the line reads as."""
    column = len(line[: error.start].decode(encoding, errors="replace")) + 1
    return (
        f"line {number:,} ({row}character {column}) is not valid {encoding}: byte "
        f"0x{line[error.start]:02x}; set 'encoding:' in a mapping file: "
        f"{_encodings_that_read(line, 'its bytes')}"
    )


def _read_sample(path: Path) -> bytes:
    try:
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        with opener(path, "rb") as handle:
            return bytes(handle.read(_SAMPLE_BYTES))
    except (OSError, EOFError) as error:
        raise InputUnreadable(str(path), f"cannot be opened: {error}") from error


def _csv_header(path: Path, mapping: ColumnMapping, sample: bytes) -> tuple[list[str], bool]:
    """The header's names, and whether each data line ends with a delimiter the header's line
    does not (then named as a column of no name, read and left out)."""
    if not sample.strip():
        raise InputUnreadable(str(path), "the file is empty")
    decoder = codecs.getincrementaldecoder(mapping.encoding)()
    try:
        text = decoder.decode(sample, final=len(sample) < _SAMPLE_BYTES)
    except UnicodeDecodeError as error:
        where = ""
        if not codecs.lookup(mapping.encoding).name.startswith("utf-16"):
            line = sample[: error.start].count(b"\n") + 1
            start = sample.rfind(b"\n", 0, error.start) + 1
            column = len(sample[start : error.start].decode(mapping.encoding, "replace")) + 1
            named = ""
            if line > 1:  # the column, by the header's names (the first line decodes)
                end = sample.find(b"\n", error.start)
                heading = sample[: sample.find(b"\n")].decode(mapping.encoding, "replace")
                named = _column_at(
                    sample[start : end if end >= 0 else len(sample)],
                    error.start - start,
                    mapping.encoding,
                    _fields(heading.lstrip("\ufeff").rstrip("\r"), mapping.delimiter),
                    mapping.delimiter,
                )
            where = f" on line {line:,}, {named}character {column}"
        raise InputUnreadable(
            str(path),
            f"not valid {mapping.encoding} (byte 0x{sample[error.start]:02x}{where}, offset "
            f"{error.start}); set 'encoding:' in a mapping file: {_encodings_that_read(sample)}",
        ) from error
    except UnicodeError as error:  # "UTF-16 stream does not start with BOM": a traceback
        raise InputUnreadable(
            str(path),
            f"not {mapping.encoding} as the mapping says ({error}); set the file's encoding in "
            "the mapping, e.g. utf-16-le, utf-8 or cp1252",
        ) from error
    _no_c1_controls(path, mapping.encoding, text)
    text = text.lstrip("\ufeff")
    lines = io.StringIO(text, newline="")
    rows = csv.reader(lines, delimiter=mapping.delimiter)
    header = next(rows, [])  # as Arrow will name the columns (`matched_header` trims them)
    if not any(name.strip() for name in header):
        raise InputUnreadable(str(path), "the file has no header line")
    if len(header) == 1:
        for other in _OTHER_DELIMITERS:
            if other != mapping.delimiter and other in header[0]:
                raise InputUnreadable(
                    str(path),
                    f"the header is one column but contains {other!r}: the file looks delimited "
                    f"by {other!r}, not {mapping.delimiter!r} (set 'delimiter: {json.dumps(other)}' "
                    "in a mapping file)",
                )
    first: list[list[str]] = []  # the first data rows, blank ones and the header passed over
    names = [_bare(name) for name in header]
    try:
        for row in rows:
            if any(cell.strip() for cell in row) and [_bare(cell) for cell in row] != names:
                first.append(row)
                if len(first) > _TRAILING_ROWS:
                    break
    except csv.Error:  # a field past the csv module's size limit: a row all the same
        first.append([])
    if not first:
        raise InputUnreadable(str(path), "the file has a header but no data rows")
    if len(sample) == _SAMPLE_BYTES and len(first) <= _TRAILING_ROWS:
        first = first[:-1]  # the sample may cut its last row
    if first and "" not in header and all(
        len(row) == len(header) + 1 and not row[-1].strip() for row in first
    ):
        # a delimiter after each data line's last field, none after the header's (an export
        # that ends every record with ";"): each line was rejected as one field too many
        return [*header, ""], True
    return header, False


# The data rows looked at for a delimiter after each one's last field (`_csv_header`).
_TRAILING_ROWS = 20


def _parquet_header(path: Path) -> list[str]:
    try:
        metadata = pq.ParquetFile(path).metadata
    except (pa.ArrowInvalid, OSError) as error:
        raise InputUnreadable(str(path), f"not a readable Parquet file: {error}") from error
    if metadata.num_rows == 0:
        raise InputUnreadable(str(path), "the file has columns but no data rows")
    # The top-level columns: the Parquet schema's own names are its leaves, so a list column
    # (ports as a list) also showed its item, "element", as an unknown column.
    return list(metadata.schema.to_arrow_schema().names)


def _unguarded(batch: pa.RecordBatch) -> pa.RecordBatch:
    """A batch of a CSV file `csv_safe` wrote, read back to the values it was given: the quote
    put before a formula's first character, at the start or after a semicolon, tab or line
    break, is taken off ("'-phase 3" was recorded as such from an export of "-phase 3"). A
    value that itself starts with a quote before such a character was written with one more,
    so it reads back whole; one in a file another system wrote loses one quote."""
    columns = []
    for column in batch.columns:
        if pc.any(pc.match_substring(column, "'")).as_py():
            column = pc.replace_substring_regex(column, r"^'('*[=+\-@\t\r])", r"\1")
            column = pc.replace_substring_regex(column, r"([;\t\r\n])'('*[=+\-@])", r"\1\2")
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=batch.schema)


def csv_safe(value: object) -> object:
    """Escape text a spreadsheet would run as a formula (``=HYPERLINK(...)``) with a quote, at
    its start and after each semicolon, tab or line break (`_FORMULA_PART`)."""
    if isinstance(value, str):
        if (
            value.startswith(_FORMULA_START) and not _PLAIN_NUMBER.fullmatch(value)
        ) or _QUOTED_FORMULA.match(value):
            value = "'" + value
        if ";" in value or "\t" in value or "\n" in value or "\r" in value:
            value = _FORMULA_PART.sub(r"\1'", value)
    return value


def read_table(path: Path, what: str) -> pd.DataFrame:
    """A small table an analyst keeps (a watch list, port capacities): CSV read as text, or
    Parquet, column names stripped and lower-cased; `ConfigError` (exit 2) names ``what`` and
    the file when it cannot be read.

    A CSV may be comma, semicolon or tab separated (as its header shows: spreadsheets in many
    locales save with semicolons), and a row with more fields than the header (a name with an
    unquoted comma) is an error naming it: pandas took the first column for an index and read
    every field one column over."""
    path = Path(path)
    if not path.exists():  # a Parquet dataset may be a folder
        raise ConfigError(f"cannot read {what} {path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            opener = gzip.open if path.name.lower().endswith(".gz") else open
            with opener(path, "rt", encoding="utf-8-sig", errors="replace") as handle:
                header = handle.readline()
            delimiter = max((",", ";", "\t"), key=header.count)
            with warnings.catch_warnings():
                warnings.simplefilter("error", pd.errors.ParserWarning)
                frame = pd.read_csv(
                    path,
                    dtype=str,
                    keep_default_na=False,
                    sep=delimiter,
                    index_col=False,
                    encoding="utf-8-sig",
                )
    except UnicodeDecodeError:
        raise ConfigError(f"cannot read {what} {path}: {_table_not_utf8(path, delimiter)}") from None
    except pd.errors.ParserWarning:
        raise ConfigError(
            f"cannot read {what} {path}: a row has more fields than the header (a name with an "
            "unquoted comma? quote it)"
        ) from None
    except (OSError, ValueError) as error:
        raise ConfigError(f"cannot read {what} {path}: {error}") from error
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    return frame


def _table_not_utf8(path: Path, delimiter: str) -> str:
    """Where a small table (`read_table`) is not UTF-8, told as a record file's error tells it
    (line, row, column, character, byte and the encodings the line reads in): Python's "'utf-8'
    codec can't decode byte 0xc9 in position 38" named a place in the file's bytes. No option
    names a table's encoding: the fix is to save it as UTF-8."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    found: tuple[int, bytes, UnicodeDecodeError] | None = None
    before: list[bytes] = []
    with opener(path, "rb") as handle:
        for number, read in enumerate(handle, start=1):
            try:
                read.decode("utf-8")
            except UnicodeDecodeError as error:
                found = number, read, error
                break
            before.append(read)
    if found is None:
        return "not UTF-8 text; save the file as UTF-8"
    number, line, bad = found
    text = b"".join(before).decode("utf-8-sig")
    header = _fields(text.partition("\n")[0].rstrip("\r"), delimiter)
    column = _column_at(line, bad.start, "utf-8", header, delimiter) if number > 1 else ""
    # the rows before it, as CSV counts them (a quoted value may hold a line break)
    rows = sum(1 for _ in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)) - 1
    row = f"row {rows + 1:,}, " if column else ""
    character = len(line[: bad.start].decode("utf-8", errors="replace")) + 1
    return (
        f"line {number:,} ({row}{column}character {character}) is not valid UTF-8: byte "
        f"0x{line[bad.start]:02x} (the line reads as {_readings(line)}); save the file as "
        "UTF-8 (in Excel: CSV UTF-8)"
    )


@contextmanager
def _writing(path: Path, partial: Path | None = None) -> Iterator[None]:
    """An operating-system error while writing ``path`` (or the ``partial`` file that becomes
    it) becomes `OutputUnwritable` naming it."""
    try:
        yield
    except OSError as error:
        problem = error.strerror or str(error)
        if error.errno and "[errno" in problem:  # Arrow's "Error writing bytes to file. Detail:
            problem = os.strerror(error.errno)  # [errno 28] No space left on device"
        if error.filename is not None and str(error.filename) not in (str(path), str(partial)):
            problem = f"{problem}: {error.filename}"  # the folder, say
            if isinstance(error, FileExistsError | NotADirectoryError):
                problem = f"{error.filename} is a file, not a folder"
        raise OutputUnwritable(str(path), problem) from error


def check_outputs(
    outputs: Iterable[tuple[Path | None, bool]], *, inputs: Iterable[Path | str | None] = ()
) -> None:
    """`OutputUnwritable` for an output that cannot be one: two that are one file, one that is
    an input (any input: the profiles, the watch list), a table (``True`` with the path) without
    a .csv or .parquet name. Nothing is written or removed: a command checks its outputs so
    before it reads anything, and removes the old ones only when the work starts."""
    named = [(Path(path), table) for path, table in outputs if path is not None]
    distinct_outputs(*(path for path, _ in named))
    sources = [Path(source) for source in inputs if source is not None]
    for path, table in named:
        if table:
            try:
                file_format(path)
            except InputUnreadable:
                raise OutputUnwritable(
                    str(path),
                    "unknown file type: name it .csv, .csv.gz, .txt, .txt.gz, .parquet or .pq",
                ) from None
        if path.exists():
            for source in sources:
                if _same_file(path, source):
                    raise OutputUnwritable(
                        str(path),
                        f"it is the input {source}: writing it would destroy the input",
                    )


def fresh_outputs(
    outputs: Iterable[tuple[Path | None, bool]], *, inputs: Iterable[Path | str | None] = ()
) -> None:
    """`fresh_output` for every output of a job, all checked (`check_outputs`) before any is
    removed: a refused job used to remove the outputs checked before the one refused, and a bad
    extension was told after the work."""
    outputs = list(outputs)
    check_outputs(outputs, inputs=inputs)
    for path, _ in outputs:
        if path is not None:
            fresh_output(Path(path))


def fresh_output(path: Path, *, inputs: Iterable[Path | str | None] = ()) -> Path:
    """Make the folder of an output file and remove an earlier file of that name, before any
    long work starts: an output that cannot be written stops the job at once, naming it
    (`OutputUnwritable`), instead of after the work. The file is made and removed again, as
    only that tells a folder that refuses files (a read-only mount, /proc) when run as root.

    An output that is one of the job's ``inputs`` (``screen day.csv --out day.csv``) is refused
    before anything is removed: it deleted the day's arrivals file."""
    path = Path(path)
    if path.exists():
        for source in inputs:
            if source is not None and _same_file(path, Path(source)):
                raise OutputUnwritable(
                    str(path), f"it is the input {source}: writing it would destroy the input"
                )
    with _writing(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.unlink(missing_ok=True)
    if not os.access(path.parent, os.W_OK):
        raise OutputUnwritable(str(path), f"no permission to write in {path.parent}")
    with _writing(path):
        with open(path, "x", encoding="utf-8"):
            pass
        path.unlink()
    return path


def distinct_outputs(*paths: Path | None) -> None:
    """`OutputUnwritable` when two outputs of one job name the same file (``--out r.csv
    --rejects r.csv``): one would overwrite the other."""
    seen: dict[Path, Path] = {}
    for path in paths:
        if path is None:
            continue
        key = Path(os.path.abspath(Path(path).expanduser()))  # "a/../r.csv" is "r.csv"
        if key in seen:
            raise OutputUnwritable(
                str(path), "another output of this job is the same file: one would overwrite it"
            )
        seen[key] = Path(path)


def _same_file(a: Path, b: Path) -> bool:
    try:
        return b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def write_page(path: Path, text: str, *, hold: bool = False) -> Path:
    """Write a text file (an HTML report), its folder made, through a partial file renamed
    when whole: a full disk left a report cut off mid-table under its name. With ``hold`` the
    partial file is left for the caller to name (`partial_name`) or drop. `OutputUnwritable`
    names the file when the system refuses."""
    path = Path(path)
    partial = partial_name(path)
    _drop_stale_partials(path)
    try:
        with _writing(path, partial):
            path.parent.mkdir(parents=True, exist_ok=True)
            partial.write_text(text, encoding="utf-8")
            if not hold:
                partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise
    return path


def name_held(path: Path) -> None:
    """Give a page written with ``hold`` its name (`write_page`)."""
    with _writing(Path(path), partial_name(path)):
        partial_name(path).replace(path)


def partial_name(path: Path, writer: int = 0) -> Path:
    """The hidden file an output is written to before it takes its name, this process's own
    (and this ``writer``'s): two runs writing one name (two audit purges to one archive)
    removed and renamed each other's partial file, and the first deleted its rows once its
    archive was the second's, cut off."""
    return Path(path).with_name(f".partial-{os.getpid()}.{writer}-{Path(path).name}")


_WRITERS = itertools.count(1)  # each FrameWriter's own partial file


def _drop_stale_partials(path: Path) -> None:
    """Remove the partial files of ``path`` that runs no longer alive left (killed before they
    could), and the older form without a process id."""
    path = Path(path)
    with contextlib.suppress(OSError):
        for found in path.parent.glob(f".partial-*{glob.escape(path.name)}"):
            owner, _, name = found.name[len(".partial-") :].partition("-")
            pid = owner.partition(".")[0]
            if found.name == f".partial-{path.name}" or (
                name == path.name and pid.isdigit() and not _alive(int(pid))
            ):
                found.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


def _take_name(partial: Path, path: Path, *, overwrite: bool) -> None:
    """Give the partial file its name; without ``overwrite``, `OutputUnwritable` when the name
    was taken meanwhile (checked and taken in one step where the file system can link)."""
    with _writing(path, partial):
        if overwrite:
            partial.replace(path)
            return
        try:
            os.link(partial, path)
            taken = False
        except FileExistsError:
            taken = True
        except OSError:  # a file system without links: checked, then renamed
            taken = path.exists()
            if not taken:
                partial.replace(path)
                return
        partial.unlink(missing_ok=True)
        if taken:
            raise OutputUnwritable(
                str(path), "it exists now (another run wrote it meanwhile): not overwritten"
            )


class FrameWriter:
    """Writes a file chunk by chunk: CSV (formula-injection safe, one header) or Parquet (one
    row group per chunk), chosen by extension. Use as a context manager.

    The chunks go to a hidden file beside ``path`` (``.partial-PID.N-NAME``), renamed to ``path``
    when the writer closes: a run that fails half-way (a full disk, an error) leaves no file
    cut off mid-row under the name, to be taken for a whole one (an audit archive that looked
    like an earlier purge's). Leaving the context on an error removes the partial file. Without
    ``overwrite`` (an archive), a file that took the name meanwhile is not replaced."""

    def __init__(self, path: Path, *, overwrite: bool = True) -> None:
        self.path = Path(path)
        self.rows = 0
        self.overwrite = overwrite
        self._partial = partial_name(self.path, next(_WRITERS))
        self._started = False
        self._parquet: pq.ParquetWriter | None = None
        self._schema: pa.Schema | None = None

    def write(self, frame: pd.DataFrame) -> None:
        if not self._started:
            _drop_stale_partials(self.path)
            with _writing(self.path, self._partial):
                self._partial.unlink(missing_ok=True)  # a failed run's, never appended to
            self._started = True
        if file_format(self.path) == "csv":
            with _writing(self.path, self._partial):
                _write_csv(frame, self._partial, append=self.rows > 0, named=self.path)
        else:
            table = pa.Table.from_pandas(frame, preserve_index=False)
            with _writing(self.path, self._partial):
                if self._parquet is None:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    self._schema = table.schema
                    self._parquet = pq.ParquetWriter(self._partial, self._schema)
                self._parquet.write_table(table.cast(self._schema))
        self.rows += len(frame)

    def finish(self) -> None:
        """Finish the file under its partial name: `close` gives it its name, `discard` drops
        it (a screening commits its outputs only once the feature history is saved)."""
        if self._parquet is not None:
            with _writing(self.path, self._partial):
                self._parquet.close()
            self._parquet = None

    def close(self) -> None:
        """Finish the file and give it its name (nothing, when nothing was written)."""
        self.finish()
        if self._started:
            self._started = False
            _take_name(self._partial, self.path, overwrite=self.overwrite)

    def discard(self) -> None:
        """Drop what was written: no file under the name, no partial one beside it."""
        if self._parquet is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._parquet.close()
            self._parquet = None
        with contextlib.suppress(OSError):
            self._partial.unlink(missing_ok=True)
        self._started = False

    def __enter__(self) -> FrameWriter:
        return self

    def __exit__(self, error_type: type[BaseException] | None, *_: object) -> None:
        if error_type is not None:
            self.discard()
        else:
            self.close()


def write_frame(frame: pd.DataFrame, path: Path, *, append: bool = False) -> None:
    """Write CSV (formula-injection safe) or Parquet by extension; CSV can be appended to.

    The file is written under its partial name (`partial_name`) and renamed when whole, as
    `FrameWriter` does: written straight to the name, a full disk left an export cut off
    mid-row (a Parquet one empty) under it, in place of the good one written before. An append
    copies the file first and appends to the copy, so a failed one leaves the file as it was.
    `OutputUnwritable` names the file when the system refuses."""
    path = Path(path)
    partial = partial_name(path, next(_WRITERS))
    _drop_stale_partials(path)
    try:
        with _writing(path, partial):
            path.parent.mkdir(parents=True, exist_ok=True)
            if file_format(path) == "parquet":
                frame.to_parquet(partial, index=False)
            else:
                extend = append and path.exists()
                if extend:
                    shutil.copyfile(path, partial)
                _write_csv(frame, partial, append=extend, named=path)
            partial.replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise


def _write_csv(frame: pd.DataFrame, path: Path, *, append: bool, named: Path | None = None) -> None:
    """Write (or append) CSV; a ``.gz`` file is gzipped, its header naming the file it will be
    (``named``): written under its partial name, `gunzip -N` gave the hidden partial file.

    A file holding any text beyond ASCII starts with a UTF-8 byte-order mark (`_UTF8_BOM`), as
    Excel writes "CSV UTF-8": without one, Excel on Windows opens UTF-8 as the system's code
    page, and a Chinese, Thai or Vietnamese party name showed as mojibake. An ASCII file is
    written as before, byte for byte; the engine's readers, pandas and Arrow skip the mark."""
    safe = frame.copy()
    for name in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[name].dtype):
            safe[name] = safe[name].astype(object).map(csv_safe)
    exists = append and path.exists()
    mode: Literal["a", "w"] = "a" if exists else "w"
    path.parent.mkdir(parents=True, exist_ok=True)
    gz = (named or path).name.lower().endswith(".gz")
    # the mark goes first when the text beyond ASCII is known before writing (the usual case);
    # text found only in the rows' written form (a list's) has it put there after (`_mark_utf8`)
    marked = not exists and _beyond_ascii(safe)
    beyond_ascii = marked
    with contextlib.ExitStack() as stack:
        raw = stack.enter_context(open(path, f"{mode}b"))
        out: IO[Any] | gzip.GzipFile = raw
        if gz:
            out = stack.enter_context(
                gzip.GzipFile(filename=str(named or path), mode=f"{mode}b", fileobj=raw)
            )
        if marked:
            out.write(_UTF8_BOM)
        # a slice of rows at a time, as pandas writes to a file itself: the whole frame's text
        # and its bytes at once took ten times the file's size in memory (a 300 MB export, 740
        # MB more than written straight by pandas)
        step = max(1, _CSV_CELLS // max(1, len(safe.columns)))
        for start in range(0, max(len(safe), 1), step):
            text = io.StringIO(newline="")
            rows = safe.iloc[start : start + step]
            rows.to_csv(text, index=False, header=not exists and start == 0)
            data = text.getvalue().encode("utf-8")
            beyond_ascii = beyond_ascii or not data.isascii()
            out.write(data)
    if beyond_ascii and not marked:  # an append, or text beyond ASCII in no value's own text
        _mark_utf8(path, named or path)


def _beyond_ascii(frame: pd.DataFrame) -> bool:
    """Whether a frame's column names or text values (`_write_csv`'s, all objects) hold text
    beyond ASCII."""
    if not all(str(name).isascii() for name in frame.columns):
        return True
    return any(
        any(isinstance(value, str) and not value.isascii() for value in frame[name].array)
        for name in frame.columns
        if frame[name].dtype == object
    )


# The values of a CSV output turned into text at a time (`_write_csv`): pandas' own measure.
_CSV_CELLS = 100_000
_UTF8_BOM = codecs.BOM_UTF8


def _mark_utf8(path: Path, named: Path) -> None:
    """Put the byte-order mark before a CSV file that lacks it (its first rows were ASCII, a
    later chunk or an append is not): one copy of the file, in that case alone."""
    gz = named.name.lower().endswith(".gz")
    opener = gzip.open if gz else open
    with opener(path, "rb") as handle:
        if handle.read(len(_UTF8_BOM)) == _UTF8_BOM:
            return
    # a partial file of the output's own (`partial_name`), so that a run killed while copying
    # leaves none behind that the next run does not remove (`_drop_stale_partials`)
    marked = partial_name(named, next(_WRITERS))
    try:
        with opener(path, "rb") as source, open(marked, "wb") as raw:
            if gz:
                with gzip.GzipFile(filename=str(named), mode="wb", fileobj=raw) as packed:
                    packed.write(_UTF8_BOM)
                    shutil.copyfileobj(source, packed, 1 << 20)
            else:
                raw.write(_UTF8_BOM)
                shutil.copyfileobj(source, raw, 1 << 20)
        marked.replace(path)
    finally:
        marked.unlink(missing_ok=True)
