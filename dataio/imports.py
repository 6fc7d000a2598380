"""Set-based import: the Resource's columns and widgets, applied to a whole file.

django-import-export checks and saves one row at a time (a few queries per
row). This module keeps the Resource as the one definition of columns and
rules (it calls the very same widgets) but works on the file as a set:

1. read the file (``readers``), refuse unknown or missing columns;
2. clean every cell with its column's widget (cheap, no query);
3. resolve each foreign-key column's names with one query per table;
4. find existing rows with one query on the natural key;
5. classify rows as new, updated or unchanged;
6. when applying: write with COPY (inserts) and one UPDATE ... FROM (updates),
   inside the caller's transaction; movements go through the ledger service.

The preview (dry run) and the import run exactly the same steps 1-5.
"""

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.db import connection, models
from django.utils import timezone
from django.utils.translation import gettext as _

from dataio import files
from dataio.readers import ImportFileError, Table, read_table
from dataio.registry import Transfer
from project.errors import UserFacingError

Progress = Callable[[int, int], None]
PROGRESS_EVERY = 5_000


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
    errors: list[RowError] = field(default_factory=list)


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
    keys: set = field(default_factory=set)


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
    """Runs steps 2-5 for one file; ``records`` holds the valid rows."""

    # Export-only columns whose raw cells ``clean_rows`` keeps in ``self.raw``.
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
        # (row number, values by slot) of rows without errors so far
        self.records: list[tuple[int, list]] = []
        key_names = _key_columns(self.resource)
        by_name = {column.name: column for column in self.writable}
        self.key_slots = [by_name[name].slot for name in key_names]
        self.key_names = key_names

    def error(self, row: int, column: str, message: str) -> None:
        self.result.errors.append(RowError(row, column, message))

    # Step 2: cheap per-row checks, no query.
    def clean_rows(self) -> None:
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
        seen: dict = {}
        slots = len(self.writable)
        errors = self.result.errors
        add_error = errors.append
        records = self.records.append
        self.refused: list[tuple[int, list]] = []
        refused = self.refused.append
        total = self.table.row_count
        count = 0
        invalid = 0
        max_rows = settings.IMPORT_MAX_ROWS
        # Plain tuples, looked up once: this loop runs once per row.
        values_plan = [(c.widget.clean, c.index, c.slot, c.name) for c in value_columns]
        fk_plan = [(c.widget.key, c.index, c.slot, c.name, c.keys.add) for c in fk_columns]
        raw_plan = [(c.index, raw[c.name]) for c in kept_columns]
        key_slots = self.key_slots
        single_key = key_slots[0] if len(key_slots) == 1 else None
        progress = self.progress
        for number, cells in self.table.rows:
            count += 1
            if count > max_rows:
                raise ImportFileError(
                    _("The file has more than %(limit)s data rows, the most one import accepts.")
                    % {"limit": f"{max_rows:,}"}
                )
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
            if not bad and key_slots:
                key = (
                    (values[single_key],)
                    if single_key is not None
                    else tuple(values[slot] for slot in key_slots)
                )
                first = seen.get(key)
                if first is not None:
                    add_error(
                        RowError(
                            number,
                            self.key_names[-1],
                            _("“%(key)s” is already on row %(row)d of this file.")
                            % {"key": " / ".join(map(str, _flatten(key))), "row": first},
                        )
                    )
                    bad = True
                else:
                    seen[key] = number
            if bad:
                invalid += 1
                # Its foreign keys are still looked up (step 3), so the
                # preview lists every error of the row in one pass.
                refused((number, values))
            else:
                records((number, values))
            if progress is not None and count % PROGRESS_EVERY == 0:
                progress(count, total)
        self.result.invalid += invalid
        self.result.total = count
        if count == 0:
            raise ImportFileError(_("The file has a header but no data rows."))

    # Step 3: one query per foreign-key table.
    def resolve_foreign_keys(self) -> None:
        fk_columns = [column for column in self.writable if column.kind == "fk"]
        if not fk_columns:
            return
        found = {column.slot: column.widget.resolve_many(column.keys) for column in fk_columns}
        # Rows already refused for other cells: their unknown names are
        # reported too (they are counted invalid once, already).
        for number, values in self.refused:
            for column in fk_columns:
                key = values[column.slot]
                if key is not None and key not in found[column.slot]:
                    self.error(number, column.name, column.widget.unknown_message(key))
        kept = []
        for number, values in self.records:
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
                self.result.invalid += 1
            else:
                kept.append((number, values))
        self.records = kept


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

    def check(self, *, lock: bool) -> None:
        self.clean_rows()
        self.resolve_foreign_keys()
        self.classify()

    # Step 4 and 5: one query for the existing rows, then compare.
    def classify(self) -> None:
        key_attnames = [self.writable[slot].attname for slot in self.key_slots]
        attnames = [column.attname for column in self.writable]
        existing = _existing_rows(self.model, key_attnames, attnames, self.records, self.key_slots)
        self.new: list[list] = []
        self.changed: list[tuple[int, list]] = []
        for _number, values in self.records:
            key = tuple(values[slot] for slot in self.key_slots)
            current = existing.get(key)
            if current is None:
                self.new.append(values)
            elif current[1] == tuple(values) or _fold_newlines(current[1]) == tuple(values):
                self.result.unchanged += 1
            else:
                self.changed.append((current[0], values))
        self.result.new = len(self.new)
        self.result.updated = len(self.changed)

    def write(self, *, user) -> None:
        now = timezone.now()
        attnames = [column.attname for column in self.writable]
        _insert(self.model, attnames, self.new, now)
        _update(self.model, attnames, self.changed, now)


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
    """Steps 1-5 (the dry run). Raises ImportFileError for a bad file."""
    table = read_table(path, file_format, max_rows=settings.IMPORT_MAX_ROWS)
    checker = checker_for(transfer, table, progress)
    checker.check(lock=lock)
    checker.result.errors.sort(key=lambda error: error.row)
    return checker


def write_error_report(errors: list[RowError]) -> str:
    """A CSV of every invalid row's errors; returns its private path."""
    name = files.new_name(files.ERRORS, "csv")
    with open(files.absolute(name), "w", newline="", encoding="utf-8-sig") as handle:
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
    select = ", ".join(["id", *attnames])
    found = {}
    if connection.vendor == "postgresql":
        key_values = [[values[slot] for _n, values in records] for slot in key_slots]
        where = " AND ".join(f"{attname} = ANY(%s)" for attname in key_attnames)
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


def _insert(model, attnames, rows: list[list], now) -> None:
    if not rows:
        return
    fields = _new_row_fields(model, attnames)
    defaults = [None if slot is not None else _default(f, now) for f, slot in fields]
    if connection.vendor != "postgresql":
        objects = []
        for values in rows:
            data = {
                f.attname: values[slot] if slot is not None else default
                for (f, slot), default in zip(fields, defaults, strict=True)
            }
            objects.append(model(**data))
        model.objects.bulk_create(objects, batch_size=2000)
        return
    columns = ", ".join(f.column for f, _slot in fields)
    plan = [(slot, default) for (_f, slot), default in zip(fields, defaults, strict=True)]
    sql = f"COPY {model._meta.db_table} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for values in rows:
            copy.write_row([values[slot] if slot is not None else dflt for slot, dflt in plan])


def _update(model, attnames, rows: list[tuple[int, list]], now) -> None:
    if not rows:
        return
    touched = list(attnames)
    has_updated_at = any(
        getattr(f, "auto_now", False) and f.attname == "updated_at"
        for f in model._meta.concrete_fields
    )
    if connection.vendor != "postgresql":
        objects = []
        for pk, values in rows:
            obj = model(pk=pk, **dict(zip(attnames, values, strict=True)))
            if has_updated_at:
                obj.updated_at = now
            objects.append(obj)
        model.objects.bulk_update(
            objects, [*touched, *(["updated_at"] if has_updated_at else [])], batch_size=1000
        )
        return
    table = model._meta.db_table
    temp = "_import_update"
    columns = ", ".join(["id", *touched])
    assignments = ", ".join(f"{a} = t.{a}" for a in touched)
    if has_updated_at:
        assignments += ", updated_at = %s"
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {temp}")
        cursor.execute(
            f"CREATE TEMP TABLE {temp} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA"
        )
        with cursor.cursor.copy(f"COPY {temp} ({columns}) FROM STDIN") as copy:
            for pk, values in rows:
                copy.write_row([pk, *values])
        cursor.execute(
            f"UPDATE {table} p SET {assignments} FROM {temp} t WHERE p.id = t.id",
            [now] if has_updated_at else [],
        )
        cursor.execute(f"DROP TABLE {temp}")
