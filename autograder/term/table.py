"""The instructor's CSV files (roster.csv, extensions.csv), read one way: UTF-8 with or without a BOM, a header row
naming the columns, and every problem named by its line (a quoted field may span lines)."""
import csv
import difflib
import io
from pathlib import Path


def read_text(path) -> str:
    """The file's text; FileNotFoundError when it is missing, ValueError (saying how to save it) when not UTF-8."""
    try:
        return Path(path).read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"{path} is not UTF-8 text (byte {error.start}): save it as 'CSV UTF-8'") from None


def parse(text: str, columns: tuple[str, ...], required: tuple[str, ...] = ()) \
        -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """([(line, {column: value})] of every non-blank row, [problems, each 'line N: ...']) of a CSV's `text`, whose
    header may name any of `columns` and must name each of `required`. No rows are read past a bad header."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, dict[str, str]]] = []
    problems: list[str] = []
    try:
        header = [cell.strip() for cell in next(reader, [])]
        if not any(header):
            return [], [f"line 1: no header row (the first line names the columns, e.g. {columns[0]})"]
        problems = [f"line 1: {problem}" for problem in _header_problems(header, columns, required)]
        if problems:
            return [], problems
        end = reader.line_num
        for row in reader:
            line, end = end + 1, reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) != len(header):
                problems.append(f"line {line}: {len(row)} fields, the header has {len(header)}")
                continue
            rows.append((line, {column: cell.strip() for column, cell in zip(header, row)}))
    except csv.Error as error:
        problems.append(f"line {reader.line_num}: not valid CSV ({error})")
    return rows, problems


def _header_problems(header, columns, required):
    problems = []
    for column in header:
        if not column:
            problems.append("a column has no name")
        elif column not in columns:
            near = difflib.get_close_matches(column, columns, n=1)
            hint = f"did you mean {near[0]!r}?" if near else f"the columns are {', '.join(columns)}"
            problems.append(f"unknown column {column!r}: {hint}")
    problems += [f"column {column!r} appears twice" for column in sorted({c for c in header if header.count(c) > 1})]
    problems += [f"no {column} column (it is required)" for column in required if column not in header]
    return problems
