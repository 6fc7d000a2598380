"""Set-based, streaming import: the Resource's columns and widgets, applied to a file in batches.

django-import-export checks and saves one row at a time (a few queries per
row). This module keeps the Resource as the one definition of columns and
rules (it calls the very same widgets) but works on the file as a stream of
batches of ``BATCH_ROWS`` rows, so memory stays flat whatever the file's size:

1. read the file (``readers``, streamed), refuse unknown or missing columns;
2. clean every cell of a batch with its column's widget (cheap, no query), and
   check its natural keys against every earlier row of the file (staged);
3. resolve each foreign-key column's names with one query per table and batch;
4. find the batch's existing rows with one query on the natural key;
5. classify rows as new, updated or unchanged, and stage the rows to write in
   a temporary table (``staging``); errors are counted all, the first kept;
6. when applying: swap the staged rows in (one INSERT ... SELECT, one
   UPDATE ... FROM) inside the caller's transaction; movements are replayed
   from the staging table through the ledger service.

The preview (dry run) and the import run exactly the same steps 1-5
(``check_file``); the import runs them again on the file, it never reuses
what the preview found.
"""

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from dataio import files, staging
from dataio.readers import ImportFileError, Table, read_table
from dataio.registry import Transfer
from project.errors import UserFacingError

Progress = Callable[[int, int], None]
# Rows read, checked and staged at a time: memory holds one batch, whatever
# the file's size. SQLite's 32,766 bound parameters bound the statements of
# a batch (keys looked up, rows staged), hence no more than that.
BATCH_ROWS = 5_000
# Foreign-key names remembered across batches (brands, categories: a few; a
# movement file's products: as many as it names, so bounded).
FK_CACHE_SIZE = 100_000


@dataclass
class RowError:
    row: int
    column: str
    message: str

    def __post_init__(self):
        # Messages quote the cell; a NUL in it could not be stored with the
        # preview (PostgreSQL refuses U+0000 in text and JSON): show its symbol.
        if "\x00" in self.message:
            self.message = self.message.replace("\x00", "\u2400")

    def as_dict(self) -> dict:
        return {"row": self.row, "column": self.column, "message": self.message}


@dataclass
class ImportResult:
    total: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    invalid: int = 0
    # The first ``IMPORT_ERRORS_KEPT`` errors; ``error_count`` counts them all
    # and ``all_errors()`` gives them all back (spooled to a temporary file).
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    _spool: object = field(default=None, repr=False)

    def add_errors(self, errors: list[RowError]) -> None:
        if not errors:
            return
        room = max(_errors_kept() - len(self.errors), 0)
        self.errors.extend(errors[:room])
        self.error_count += len(errors)
        if self._spool is None:
            # Closed by close(): it outlives this call.
            self._spool = tempfile.SpooledTemporaryFile(  # noqa: SIM115
                max_size=1 << 20, mode="w+", newline="", encoding="utf-8"
            )
        csv.writer(self._spool).writerows((e.row, e.column, e.message) for e in errors)

    def all_errors(self) -> Iterator[RowError]:
        """Every error, in row order, read back from the spool."""
        if self._spool is None:
            return
        self._spool.flush()
        self._spool.seek(0)
        for row, column, message in csv.reader(self._spool):
            yield RowError(int(row), column, message)
        self._spool.seek(0, 2)

    def close(self) -> None:
        if self._spool is not None:
            self._spool.close()
            self._spool = None


def _errors_kept() -> int:
    # Enough for the preview page and the job's summary; the report has all.
    return max(settings.IMPORT_PREVIEW_MAX_ERRORS, 1)


def _row_of(item) -> int:
    return item.row if isinstance(item, RowError) else item[0]


def _batches(rows: Iterable, size: int) -> Iterator[list]:
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class ImportAborted(UserFacingError):
    """The import stopped; nothing was written. ``message`` is for the user."""


@dataclass
class Column:
    name: str  # column name as in the Resource (lower case)
    index: int  # position in the file
    widget: object
    kind: str  # "value", "fk" or "readonly"
    attname: str | None  # model attribute written, None when readonly
    slot: int = -1  # position in a record's values
    keys: set = field(default_factory=set)  # a batch's foreign keys (step 3)
    cache: dict = field(default_factory=dict)  # {foreign key: pk or None} found so far


def _normalize(header) -> str:
    return str(header or "").replace("\ufeff", "").strip().lower()


def build_columns(resource, headers: list) -> list[Column]:
    """Map the file's header to the Resource's fields, refusing unknown or missing ones."""
    model = resource._meta.model
    by_name = {field.column_name.lower(): field for field in resource.get_import_fields()}
    names = [_normalize(header) for header in headers]
    seen: set[str] = set()
    repeated = {name for name in names if name and (name in seen or seen.add(name))}
    if repeated:
        raise ImportFileError(
            _("Column(s) appear twice in the header: %(columns)s.")
            % {"columns": ", ".join(sorted(repeated))}
        )
    unknown = [name for name in names if name and name not in by_name]
    required = set(_key_columns(resource))
    for name, resource_field in by_name.items():
        if resource_field.readonly:
            continue
        if getattr(resource_field.widget, "required", False):
            required.add(name)
        # Cells a widget reads beside its own (a product model's brand).
        required.update(getattr(resource_field.widget, "row_columns", ()))
    missing = [name for name in by_name if name in required and name not in names]
    # Both at once: a renamed column is unknown under its new name and
    # missing under the old one, and the person fixes the file once.
    problems = []
    if unknown:
        problems.append(_("Unknown column(s): %(unknown)s.") % {"unknown": ", ".join(unknown)})
    if missing:
        problems.append(
            _("Missing required column(s): %(missing)s.") % {"missing": ", ".join(missing)}
        )
    if unknown:
        # What a file may hold: the writable columns and the required ones
        # (brand is read-only on a product, yet it names the model's brand).
        writable = [
            name for name, field in by_name.items() if not field.readonly or name in required
        ]
        problems.append(
            _("The columns this import reads are: %(known)s.") % {"known": ", ".join(writable)}
        )
    if problems:
        raise ImportFileError(" ".join(str(problem) for problem in problems))
    if not any(names):
        raise ImportFileError(_("The first row must be the header with the column names."))

    columns = []
    for index, name in enumerate(names):
        if not name:
            continue
        resource_field = by_name[name]
        if resource_field.readonly:
            columns.append(Column(name, index, resource_field.widget, "readonly", None))
            continue
        model_field = model._meta.get_field(resource_field.attribute)
        kind = "fk" if model_field.is_relation else "value"
        columns.append(Column(name, index, resource_field.widget, kind, model_field.attname))
    writable = [column for column in columns if column.attname]
    for slot, column in enumerate(writable):
        column.slot = slot
    return columns


def _key_columns(resource) -> list[str]:
    return [resource.fields[name].column_name.lower() for name in resource._meta.import_id_fields]


class Checker:
    """Runs steps 2-5 for one file, batch by batch; subclasses stage the valid rows.

    Each batch of ``BATCH_ROWS`` rows is cleaned (step 2), its foreign keys
    resolved (step 3, one query per table and batch, names cached), its
    natural keys checked against every earlier row (the staged ``Keys``),
    then handed to ``check_batch`` (steps 4-5 and the staging). Its errors go
    to ``self.result`` in row order. Nothing of a batch stays in memory.
    """

    # Export-only columns whose raw cells ``clean_batch`` keeps in ``self.raw``.
    raw_columns: tuple[str, ...] = ()

    def stock_impact(self) -> dict:
        """What the file does to stock (movement files only; see movements.imports)."""
        return {}

    def stock_moved(self, preview: dict) -> list[str]:
        """How stock moved since ``preview`` was taken; empty when it did not."""
        return []

    def __init__(self, transfer: Transfer, table: Table, *, progress: Progress | None):
        self.transfer = transfer
        self.resource = transfer.resource()
        self.model = transfer.model
        self.table = table
        self.progress = progress
        self.columns = build_columns(self.resource, table.headers)
        self.writable = [column for column in self.columns if column.attname]
        self.result = ImportResult()
        key_names = _key_columns(self.resource)
        by_name = {column.name: column for column in self.writable}
        self.key_slots = [by_name[name].slot for name in key_names]
        self.key_names = key_names
        self.batch_errors: list[RowError] = []
        self.keys: staging.Keys | None = None
        self.rows: staging.Rows | None = None

    def error(self, row: int, column: str, message: str) -> None:
        self.batch_errors.append(RowError(row, column, message))

    # The whole check: every batch, then what only the whole file tells.
    def check(self, *, lock: bool) -> None:
        self.lock = lock
        self.start()
        if self.key_slots:
            self.keys = staging.Keys()
        max_rows = settings.IMPORT_MAX_ROWS
        total = self.table.row_count
        count = 0
        for batch in _batches(self.table.rows, BATCH_ROWS):
            count += len(batch)
            if count > max_rows:
                raise ImportFileError(
                    _("The file has more than %(limit)s data rows, the most one import accepts.")
                    % {"limit": f"{max_rows:,}"}
                )
            self.batch_errors = []
            records, refused = self.clean_batch(batch)
            records = self.resolve_batch(records, refused)
            self.check_batch(records)
            # Stable: a row's errors keep the order they were found in.
            self.batch_errors.sort(key=_row_of)
            self.result.add_errors(self.batch_errors)
            if self.progress is not None:
                self.progress(count, total)
        self.result.total = count
        if count == 0:
            raise ImportFileError(_("The file has a header but no data rows."))
        self.finish()

    def start(self) -> None:
        """Before the first batch (a subclass creates its staging table)."""

    def check_batch(self, records: list[tuple[int, list]]) -> None:
        """Steps 4-5 for a batch's valid rows, then stage them."""
        raise NotImplementedError

    def finish(self) -> None:
        """After the last batch."""

    def close(self) -> None:
        """Drop the staging tables (the transaction's rollback drops them too)."""
        self.result.close()
        if self.keys is not None or self.rows is not None:
            staging.drop_all()
            self.keys = self.rows = None

    # Step 2: cheap per-row checks, no query; duplicates against the staged keys.
    def clean_batch(self, batch) -> tuple[list[tuple[int, list]], list[tuple[int, list]]]:
        width = max(column.index for column in self.columns) + 1
        value_columns = [column for column in self.columns if column.kind == "value"]
        fk_columns = [column for column in self.columns if column.kind == "fk"]
        # Export-only columns (a product's stock, a movement's date or author)
        # are not read: an export imports back whatever they say. A subclass
        # may keep some raw (a movement's id, to spot rows already recorded).
        kept_columns = [
            column
            for column in self.columns
            if column.kind == "readonly" and column.name in self.raw_columns
        ]
        raw = self.raw = {column.name: {} for column in kept_columns}
        # Only the cells a widget reads from the rest of the row (the brand of
        # a product model) go into the per-row dict.
        index_of = {column.name: column.index for column in self.columns}
        row_cells = [
            (name, index_of[name])
            for column in fk_columns
            for name in getattr(column.widget, "row_columns", ())
            if name in index_of
        ]
        slots = len(self.writable)
        add_error = self.batch_errors.append
        records: list[tuple[int, list]] = []
        refused: list[tuple[int, list]] = []
        # Plain tuples, looked up once: this loop runs once per row.
        values_plan = [(c.widget.clean, c.index, c.slot, c.name) for c in value_columns]
        fk_plan = [(c.widget.key, c.index, c.slot, c.name, c.keys.add) for c in fk_columns]
        raw_plan = [(c.index, raw[c.name]) for c in kept_columns]
        key_slots = self.key_slots
        single_key = key_slots[0] if len(key_slots) == 1 else None
        # (key as text, row number, values) of the rows whose cells are valid
        keyed: list[tuple[str, int, list]] = []
        for number, cells in batch:
            if len(cells) < width:
                cells = list(cells) + [None] * (width - len(cells))
            row = {name: cells[index] for name, index in row_cells} if row_cells else None
            values = [None] * slots
            bad = False
            for clean, index, slot, name in values_plan:
                try:
                    values[slot] = clean(cells[index])
                except ValueError as exc:
                    add_error(RowError(number, name, str(exc)))
                    bad = True
            for key_of, index, slot, name, remember in fk_plan:
                try:
                    key = key_of(cells[index], row)
                except ValueError as exc:
                    add_error(RowError(number, name, str(exc)))
                    bad = True
                    continue
                values[slot] = key
                if key is not None:
                    remember(key)
            for index, kept in raw_plan:
                if cells[index] is not None and cells[index] != "":
                    kept[number] = cells[index]
            if bad:
                # Its foreign keys are still looked up (step 3), so the
                # preview lists every error of the row in one pass.
                refused.append((number, values))
            elif key_slots:
                key = values[single_key] if single_key is not None else None
                text = key if type(key) is str else repr([values[slot] for slot in key_slots])
                keyed.append((text, number, values))
            else:
                records.append((number, values))
        if keyed:
            records, duplicates = self._first_of_each_key(keyed)
            refused.extend(duplicates)
        return records, refused

    def _first_of_each_key(self, keyed):
        """The rows whose key no earlier row has; the others, with their error."""
        earlier = self.keys.seen([text for text, _n, _v in keyed])
        first: dict[str, int] = {}
        records, duplicates, fresh = [], [], []
        for text, number, values in keyed:
            seen = earlier.get(text) or first.get(text)
            if seen is None:
                first[text] = number
                fresh.append((text, number))
                records.append((number, values))
                continue
            key = tuple(values[slot] for slot in self.key_slots)
            self.error(
                number,
                self.key_names[-1],
                _("“%(key)s” is already on row %(row)d of this file.")
                % {"key": " / ".join(map(str, _flatten(key))), "row": seen},
            )
            duplicates.append((number, values))
        self.keys.add(fresh)
        return records, duplicates

    # Step 3: one query per foreign-key table and batch, names already found cached.
    def resolve_batch(self, records, refused) -> list[tuple[int, list]]:
        fk_columns = [column for column in self.writable if column.kind == "fk"]
        invalid = len(refused)
        if not fk_columns:
            self.result.invalid += invalid
            return records
        found = {column.slot: self._resolve(column) for column in fk_columns}
        # Rows already refused for other cells: their unknown names are
        # reported too (they are counted invalid once, already).
        for number, values in refused:
            for column in fk_columns:
                key = values[column.slot]
                if key is not None and found[column.slot].get(key) is None:
                    self.error(number, column.name, column.widget.unknown_message(key))
        kept = []
        for number, values in records:
            bad = False
            for column in fk_columns:
                key = values[column.slot]
                if key is None:
                    continue
                pk = found[column.slot].get(key)
                if pk is None:
                    self.error(number, column.name, column.widget.unknown_message(key))
                    bad = True
                else:
                    values[column.slot] = pk
            if bad:
                invalid += 1
            else:
                kept.append((number, values))
        self.result.invalid += invalid
        return kept

    def _resolve(self, column: Column) -> dict:
        """{key: pk or None} for the batch's keys of ``column``; a bounded cache across batches."""
        cache = column.cache
        if len(cache) > FK_CACHE_SIZE:
            cache.clear()
        wanted = [key for key in column.keys if key not in cache]
        column.keys.clear()
        if wanted:
            found = column.widget.resolve_many(wanted)
            for key in wanted:
                cache[key] = found.get(key)
        return cache


def _fold_newlines(stored: tuple) -> tuple:
    """``stored`` with the line breaks an import reads (``\\n``), for comparison.

    Browsers send a text area's line breaks as CR LF, spreadsheets keep LF:
    a description is the same text either way, not an update.
    """
    return tuple(
        value.replace("\r\n", "\n").replace("\r", "\n")
        if type(value) is str and "\r" in value
        else value
        for value in stored
    )


def _flatten(key):
    for part in key:
        if isinstance(part, tuple):
            yield from part
        else:
            yield part


class UpsertImport(Checker):
    """Catalog rows: insert or update by the Resource's natural key."""

    # An import may change existing rows: it needs the change permission too.
    updates_rows = True

    def start(self) -> None:
        self.attnames = [column.attname for column in self.writable]
        self.rows = staging.Rows(self.model, self.attnames)

    # Step 4 and 5: one query for the batch's existing rows, then compare.
    def check_batch(self, records: list[tuple[int, list]]) -> None:
        key_attnames = [self.writable[slot].attname for slot in self.key_slots]
        existing = _existing_rows(self.model, key_attnames, self.attnames, records, self.key_slots)
        staged = []
        result = self.result
        for number, values in records:
            current = existing.get(tuple(values[slot] for slot in self.key_slots))
            if current is None:
                staged.append([number, None, *values])
                result.new += 1
            elif current[1] == tuple(values) or _fold_newlines(current[1]) == tuple(values):
                result.unchanged += 1
            else:
                staged.append([number, current[0], *values])
                result.updated += 1
        self.rows.add(staged)

    def write(self, *, user) -> None:
        """Swap the staged rows in: one INSERT of the new rows, one UPDATE of the changed."""
        now = timezone.now()
        if self.result.new:
            _insert(self.model, self.attnames, self.rows, now)
        if self.result.updated:
            _update(self.model, self.attnames, self.rows, now)


def checker_for(transfer: Transfer, table: Table, progress: Progress | None) -> Checker:
    return transfer.importer(transfer, table, progress=progress)


def check_file(
    transfer: Transfer,
    path: Path,
    file_format: str,
    *,
    lock: bool = False,
    progress: Progress | None = None,
) -> Checker:
    """Steps 1-5 (the dry run), rows staged. Raises ImportFileError for a bad file.

    The preview and the import both call this, and only this, to check a
    file: what one accepts the other does. The caller ``close()``s the
    checker when done (its staged rows are dropped).
    """
    table = read_table(path, file_format, max_rows=settings.IMPORT_MAX_ROWS)
    checker = checker_for(transfer, table, progress)
    try:
        checker.check(lock=lock)
    except BaseException:
        checker.close()
        raise
    return checker


def write_error_report(errors: Iterable[RowError]) -> str:
    """A CSV of every invalid row's errors; returns its private path."""
    name = files.new_name(files.ERRORS, "csv")
    # A local path on the disk, or a temporary file uploaded to the bucket.
    with files.writing(name) as path, open(path, "w", newline="", encoding="utf-8-sig") as handle:
        writer = csv.writer(handle)
        writer.writerow(["row", "column", "message"])
        writer.writerows((error.row, error.column, error.message) for error in errors)
    return name


# --- writing ---------------------------------------------------------------


def _existing_rows(model, key_attnames, attnames, records, key_slots) -> dict:
    """{natural key: (pk, current values in ``attnames`` order)}, in one query."""
    if not records:
        return {}
    table = model._meta.db_table
    select = ", ".join(["id", *[model._meta.get_field(a).column for a in attnames]])
    found = {}
    if connection.vendor == "postgresql":
        key_values = [[values[slot] for _n, values in records] for slot in key_slots]
        where = " AND ".join(
            f"{model._meta.get_field(attname).column} = ANY(%s)" for attname in key_attnames
        )
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {select} FROM {table} WHERE {where}", key_values)
            rows = cursor.fetchall()
    else:
        filters = {
            f"{attname}__in": list({values[slot] for _n, values in records})
            for attname, slot in zip(key_attnames, key_slots, strict=True)
        }
        rows = list(model.objects.filter(**filters).values_list("id", *attnames))
    key_positions = [attnames.index(attname) for attname in key_attnames]
    for pk, *current in rows:
        key = tuple(current[position] for position in key_positions)
        found[key] = (pk, tuple(current))
    return found


def _new_row_fields(model, attnames):
    """(model field, slot in the record or None) for every column of an INSERT."""
    fields = []
    for model_field in model._meta.concrete_fields:
        if model_field.primary_key:
            continue
        slot = attnames.index(model_field.attname) if model_field.attname in attnames else None
        fields.append((model_field, slot))
    return fields


def _default(model_field, now):
    if isinstance(model_field, models.DateTimeField) and (
        model_field.auto_now or model_field.auto_now_add
    ):
        return now
    return model_field.get_default()


def _insert(model, attnames, rows: staging.Rows, now) -> None:
    fields = _new_row_fields(model, attnames)
    defaults = [None if slot is not None else _default(f, now) for f, slot in fields]
    rows.insert_new(fields, defaults)


def _update(model, attnames, rows: staging.Rows, now) -> None:
    has_updated_at = any(
        getattr(f, "auto_now", False) and f.attname == "updated_at"
        for f in model._meta.concrete_fields
    )
    rows.update_existing(attnames, {"updated_at": now} if has_updated_at else {})
