"""Content openpyxl would drop on save, found before anything is written, so the SENDCo's file is never saved without
it: the results then go to a copy beside the register instead (docs/register.md s5). Two sources: the warnings openpyxl
gives while loading, and a look at the zip's parts for what it drops without a word."""

from __future__ import annotations

import contextlib
import re
import threading
import warnings
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TextIO

import openpyxl
from openpyxl.drawing.image import PILImage

# openpyxl warns while loading when it meets content it will drop on save. Each warning, in the SENDCo's words.
_WARNING_MEANINGS: tuple[tuple[str, str], ...] = (
    ("Data Validation extension", "dropdown lists that point at another sheet"),
    ("Conditional Formatting extension", "conditional formatting such as data bars or icon sets"),
    ("Sparkline Group extension", "sparklines"),
    ("Slicer List extension", "slicers"),
    ("Timeline Ref extension", "timelines"),
    ("Protected Range extension", "protected ranges"),
    ("Web Extension extension", "Office add-ins"),
    ("Ignored Error extension", "ignored error markers"),
    ("extension is not supported", "newer Excel features"),
    ("DrawingML support is incomplete", "shapes or text boxes"),
    ("Unable to read chart", "charts"),
    ("image", "pictures"),
    ("conditional formatting rule", "conditional formatting"),
    ("header or footer", "print headers and footers"),
    ("has a comment", "comments on merged cells"),
    ("Defined names", "named ranges"),
    ("Print area", "print areas"),
    ("invalid specification", "sheets openpyxl cannot read"),
    ("invalid dependency definitions", "linked parts openpyxl cannot read"),
)
# Warnings about things openpyxl replaces with an equivalent default: nothing the SENDCo made is lost.
_HARMLESS_WARNINGS = ("no default style", "no stylesheet", "more than 31 characters")

_DRAWING_PART = re.compile(r"xl/drawings/[^/]+\.xml$")
_VML_PART = re.compile(r"xl/drawings/[^/]+\.vml$")
_VML_OBJECT_TYPE = re.compile(rb'ObjectType\s*=\s*"([A-Za-z]+)"')
_GRAPHIC_URI = re.compile(rb'graphicData\s+uri\s*=\s*"([^"]+)"')
_CHART_URI = b"http://schemas.openxmlformats.org/drawingml/2006/chart"
_SHAPE_TAG = re.compile(rb"<(?:\w+:)?(?:sp|grpSp|cxnSp)[\s>]")
_RICH_RUN = re.compile(rb"<(?:\w+:)?r[\s>]")
_PICTURE_TAG = re.compile(rb"<(?:\w+:)?pic[\s>]")


def inspect_parts(path: Path) -> tuple[list[str], bool]:
    """Content openpyxl drops silently (no warning), found by looking at the zip's parts; and whether any text
    has formatted runs."""
    found: list[str] = []
    rich_text = False

    def note(what: str) -> None:
        if what not in found:
            found.append(what)

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        for part in names:
            if _DRAWING_PART.match(part):
                xml = archive.read(part)
                if _SHAPE_TAG.search(xml):
                    note("shapes or text boxes")
                if any(uri != _CHART_URI for uri in _GRAPHIC_URI.findall(xml)):
                    note("SmartArt or newer chart types")
                if PILImage is None and _PICTURE_TAG.search(xml):
                    # openpyxl reads pictures through Pillow and drops them without a word when it is missing.
                    note("pictures")
            elif _VML_PART.match(part):
                kinds = {k.decode() for k in _VML_OBJECT_TYPE.findall(archive.read(part))}
                if kinds - {"Note"}:
                    note("buttons or form controls")
            elif part.startswith(("xl/ctrlProps/", "xl/activeX/")):
                note("buttons or form controls")
            elif part.startswith(("xl/slicers/", "xl/slicerCaches/")):
                note("slicers")
            elif part.startswith(("xl/timelines/", "xl/timelineCaches/")):
                note("timelines")
            elif part.startswith(("xl/threadedComments/", "xl/persons/")):
                note("threaded comments")
            elif (
                part == "xl/connections.xml"
                or part.startswith("xl/queryTables/")
                or (part.startswith("customXml/item") and part.endswith(".xml") and b"DataMashup" in archive.read(part))
            ):
                note("data connections or Power Query tables")
            elif part == "xl/metadata.xml":
                note("spilling (dynamic array) formulas")
            elif part.startswith("xl/richData/"):
                note("pictures in cells or linked data types")
            elif part.endswith("sharedStrings.xml"):
                rich_text = rich_text or bool(_RICH_RUN.search(archive.read(part)))
    return found, rich_text


_OPENPYXL_DIR = str(Path(openpyxl.__file__).resolve().parent)
# warnings.catch_warnings swaps process-wide state and is not thread-safe: two loads at once (two requests in `serve`)
# would restore each other's filters. One recording at a time.
_RECORDING = threading.Lock()


@contextlib.contextmanager
def openpyxl_warnings() -> Iterator[list[str]]:
    """The warnings openpyxl itself gives on this thread while the block runs (its messages), for describe_warnings.

    Warning filters are one per process, so recording every warning also caught what others warned meanwhile: a
    ResourceWarning from the garbage collector finalising an earlier unclosed file (collections run inside openpyxl's
    allocation-heavy load), or another of `serve`'s threads. Each then read as "content openpyxl cannot read" and the
    results went to a copy, leaving the SENDCo's register unwritten (a contributor's Received never set). Only
    UserWarnings raised in openpyxl's own modules on this thread count; any other warning goes where it would have."""
    found: list[str] = []
    me = threading.get_ident()
    with _RECORDING, warnings.catch_warnings():
        passed_on = warnings.showwarning

        def show(
            message: Warning | str,
            category: type[Warning],
            filename: str,
            lineno: int,
            file: TextIO | None = None,
            line: str | None = None,
        ) -> None:
            ours = threading.get_ident() == me and issubclass(category, UserWarning)
            if ours and str(Path(filename).resolve()).startswith(_OPENPYXL_DIR):
                found.append(str(message))
            else:
                passed_on(message, category, filename, lineno, file, line)

        # "always" for openpyxl's warnings only (a warning seen once would otherwise be silent on the next load);
        # every other warning keeps the filters in force.
        warnings.filterwarnings("always", category=UserWarning, module=r"openpyxl(\.|$)")
        warnings.showwarning = show
        yield found


def describe_warnings(messages: Iterable[str]) -> list[str]:
    found: list[str] = []
    for message in messages:
        if any(harmless in message for harmless in _HARMLESS_WARNINGS):
            continue
        meaning = next((m for pattern, m in _WARNING_MEANINGS if pattern in message), "content openpyxl cannot read")
        if meaning not in found:
            found.append(meaning)
    return found


def join_words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
