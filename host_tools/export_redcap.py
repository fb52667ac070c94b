"""Export the archive as a REDCap import (docs/export.md, "REDCap"): redcap_import.csv, one row per step as
an instance of the repeating instrument acupressure_step of the participant's record, and
redcap_data_dictionary.csv, REDCap's data-dictionary format, which creates that instrument. Both come from
the step columns of host_tools/columns.py, each field named acu_<column>.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from host_tools import columns, outfiles
from host_tools.errors import AcuError

INSTRUMENT = "acupressure_step"
ID_FORM = "participant"            # the non-repeating first instrument: the record id alone
PREFIX = "acu_"                    # keeps our fields apart from the trial's other instruments'
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
MAX_NAME = 26                      # REDCap's advice for variable names (its hard limit is 100)

# REDCap's data dictionary header (the 18 columns of its template), in order
DICT_HEADER = [
    "Variable / Field Name", "Form Name", "Section Header", "Field Type", "Field Label",
    "Choices, Calculations, OR Slider Labels", "Field Note", "Text Validation Type OR Show Slider Number",
    "Text Validation Min", "Text Validation Max", "Identifier?", "Branching Logic (Show field only if...)",
    "Required Field?", "Custom Alignment", "Question Number (surveys only)", "Matrix Group Name",
    "Matrix Ranking?", "Field Annotation",
]
_TYPE = {"int": ("text", "integer"), "float": ("text", "number"), "str": ("text", ""), "bool": ("yesno", ""),
         "utc": ("text", "datetime_seconds_ymd")}


def field_name(col) -> str:
    name = PREFIX + col.name
    if not NAME_RE.match(name) or len(name) > MAX_NAME:  # a column added with a name REDCap refuses
        raise AcuError("REDCap export: %r is not a valid REDCap variable name" % name)
    return name


def fields() -> list[str]:
    return [field_name(c) for c in columns.STEP]


def header() -> list[str]:
    return ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance"] + fields() + [INSTRUMENT + "_complete"]


def dictionary() -> list[list[str]]:
    rows = [list(DICT_HEADER), ["record_id", ID_FORM, "", "text", "Participant id (or device-<id>)"] + [""] * 13]
    for c in columns.STEP:
        ftype, valid = _TYPE[c.kind]
        label = c.name + (" (%s)" % c.unit if c.unit else "") + (" UTC" if c.kind == "utc" else "")
        rows.append([field_name(c), INSTRUMENT, "", ftype, label, "", c.description, valid] + [""] * 10)
    return rows


def _value(kind, v):
    if v is None or v == "":
        return ""
    if kind == "bool":
        return "1" if v else "0"
    if kind == "utc":  # 2023-11-14T22:13:20Z -> 2023-11-14 22:13:20 (datetime_seconds_ymd)
        return v.replace("T", " ").rstrip("Z")
    return v


def _csv(rows) -> bytes:
    from host_tools.export import _cell  # device text stays inert in a spreadsheet
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    for r in rows:
        w.writerow([_cell(v) for v in r])
    return buf.getvalue().encode()


def import_rows(step_rows: list[dict]) -> list[list]:
    """step_rows (with participant), in session order: the import's rows, instances numbered per record."""
    rows: list[list] = [header()]
    instance: dict[str, int] = {}
    for r in step_rows:
        rec = r["participant"] or "device-%s" % r["device_id"]
        instance[rec] = instance.get(rec, 0) + 1
        rows.append([rec, INSTRUMENT, instance[rec]] + [_value(c.kind, r[c.name]) for c in columns.STEP] + [2])
    return rows


def write(out: Path, step_rows: list[dict]) -> list[Path]:
    from host_tools.export import safe_path

    written = []
    for name, rows in (("redcap_data_dictionary.csv", dictionary()), ("redcap_import.csv", import_rows(step_rows))):
        p = safe_path(out, name)
        outfiles.write_atomic(p, _csv(rows))
        written.append(p)
    return written
