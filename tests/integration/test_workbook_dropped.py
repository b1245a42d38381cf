"""Content openpyxl cannot keep: the SENDCo's file stays byte-identical and the results go to a copy beside it.
Macro-enabled workbooks keep their VBA project byte for byte.

Each case first proves the claim: a plain openpyxl load and save really does lose the content."""

from __future__ import annotations

import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import load_workbook
from openpyxl.drawing.image import PILImage

from connectors.workbook import WorkbookRegister
from tests.integration.conftest import FIRST_PUPIL_ROW, HEADER_ROW, libreoffice_csv, rewrite_zip
from tests.integration.test_workbook import FIRST_RESULTS, make_plan

SHEET = "xl/worksheets/sheet1.xml"
SHEET_RELS = "xl/worksheets/_rels/sheet1.xml.rels"
TYPES = "[Content_Types].xml"
XDR = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A = "http://schemas.openxmlformats.org/drawingml/2006/main"
R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
DRAWING_REL = f"{R}/drawing"

CROSS_SHEET_LIST = (
    '<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
    'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
    '<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
    '<x14:dataValidation type="list" allowBlank="1" showInputMessage="1" showErrorMessage="1">'
    "<x14:formula1><xm:f>Key!$A$2:$A$5</xm:f></x14:formula1><xm:sqref>B5:B200</xm:sqref>"
    "</x14:dataValidation></x14:dataValidations></ext></extLst></worksheet>"
)
SHAPE_DRAWING = (
    f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}"><xdr:twoCellAnchor>'
    "<xdr:from><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>1</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
    "<xdr:to><xdr:col>12</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>3</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
    '<xdr:sp macro="" textlink=""><xdr:nvSpPr><xdr:cNvPr id="2" name="TextBox 1"/><xdr:cNvSpPr txBox="1"/>'
    '</xdr:nvSpPr><xdr:spPr><a:xfrm><a:off x="0" y="0"/><a:ext cx="1800000" cy="400000"/></a:xfrm>'
    '<a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr><xdr:txBody><a:bodyPr/><a:lstStyle/>'
    "<a:p><a:r><a:t>Red = overdue: ring the LA</a:t></a:r></a:p></xdr:txBody></xdr:sp><xdr:clientData/>"
    "</xdr:twoCellAnchor></xdr:wsDr>"
)
PICTURE_DRAWING = (
    f'<xdr:wsDr xmlns:xdr="{XDR}" xmlns:a="{A}" xmlns:r="{R}"><xdr:oneCellAnchor>'
    "<xdr:from><xdr:col>9</xdr:col><xdr:colOff>0</xdr:colOff><xdr:row>0</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
    '<xdr:ext cx="952500" cy="952500"/><xdr:pic><xdr:nvPicPr><xdr:cNvPr id="1" name="School logo"/><xdr:cNvPicPr/>'
    '</xdr:nvPicPr><xdr:blipFill><a:blip r:embed="rIdImg"/><a:stretch><a:fillRect/></a:stretch></xdr:blipFill>'
    '<xdr:spPr><a:prstGeom prst="rect"><a:avLst/></a:prstGeom></xdr:spPr></xdr:pic><xdr:clientData/>'
    "</xdr:oneCellAnchor></xdr:wsDr>"
)
# A 1x1 transparent PNG.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c4890000000d49444154789c6360000002000154a24f5d"
    "0000000049454e44ae426082"
)


def drawing_parts(drawing: str, extra: dict[str, bytes] | None = None, rels: str = "") -> dict[str, bytes]:
    return {
        "xl/drawings/drawing1.xml": drawing.encode(),
        "xl/drawings/_rels/drawing1.xml.rels": (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f"{rels}</Relationships>"
        ).encode(),
        SHEET_RELS: (
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            f'<Relationship Id="rIdDr" Type="{DRAWING_REL}" Target="../drawings/drawing1.xml"/></Relationships>'
        ).encode(),
        **(extra or {}),
    }


DRAWING_EDITS = {
    SHEET: (r"</worksheet>", f'<drawing xmlns:r="{R}" r:id="rIdDr"/></worksheet>'),
    TYPES: (
        r"</Types>",
        '<Override PartName="/xl/drawings/drawing1.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.drawing+xml"/></Types>',
    ),
}


@dataclass(frozen=True)
class Case:
    id: str
    parts: dict[str, bytes]
    edits: dict[str, tuple[str, str]]
    marker: tuple[str, bytes]  # (part, bytes) present before openpyxl saves, gone after
    words: str  # how the note names it


def part(name: str, xml: str, content_type: str) -> tuple[dict[str, bytes], dict[str, tuple[str, str]]]:
    return (
        {name: xml.encode()},
        {TYPES: (r"</Types>", f'<Override PartName="/{name}" ContentType="{content_type}"/></Types>')},
    )


CASES = [
    Case(
        "cross-sheet dropdown",
        {},
        {SHEET: (r"</worksheet>", CROSS_SHEET_LIST)},
        (SHEET, b"x14:dataValidation"),
        "dropdown lists that point at another sheet",
    ),
    Case("shapes", drawing_parts(SHAPE_DRAWING), DRAWING_EDITS, ("xl/drawings/drawing1.xml", b"TextBox"), "shapes"),
    Case(
        "form controls",
        *part(
            "xl/ctrlProps/ctrlProp1.xml",
            '<formControlPr xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main" objectType="CheckBox"/>',
            "application/vnd.ms-excel.controlproperties+xml",
        ),
        ("xl/ctrlProps/ctrlProp1.xml", b"CheckBox"),
        "form controls",
    ),
    Case(
        "slicers",
        *part(
            "xl/slicers/slicer1.xml",
            '<slicers xmlns="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main"/>',
            "application/vnd.ms-excel.slicer+xml",
        ),
        ("xl/slicers/slicer1.xml", b"slicers"),
        "slicers",
    ),
    Case(
        "timelines",
        *part(
            "xl/timelines/timeline1.xml",
            '<timelines xmlns="http://schemas.microsoft.com/office/spreadsheetml/2010/11/main"/>',
            "application/vnd.ms-excel.timeline+xml",
        ),
        ("xl/timelines/timeline1.xml", b"timelines"),
        "timelines",
    ),
    Case(
        "threaded comments",
        *part(
            "xl/threadedComments/threadedComment1.xml",
            '<ThreadedComments xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments"/>',
            "application/vnd.ms-excel.threadedcomments+xml",
        ),
        ("xl/threadedComments/threadedComment1.xml", b"ThreadedComments"),
        "threaded comments",
    ),
    Case(
        "power query",
        {"customXml/item1.xml": b'<DataMashup xmlns="http://schemas.microsoft.com/DataMashup">AAAA</DataMashup>'},
        {},
        ("customXml/item1.xml", b"DataMashup"),
        "Power Query",
    ),
    Case(
        "dynamic arrays",
        *part(
            "xl/metadata.xml",
            '<metadata xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"/>',
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheetMetadata+xml",
        ),
        ("xl/metadata.xml", b"metadata"),
        "dynamic array",
    ),
]


def has_marker(path: Path, marker: tuple[str, bytes]) -> bool:
    name, needle = marker
    with zipfile.ZipFile(path) as archive:
        return name in archive.namelist() and needle in archive.read(name)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_content_openpyxl_would_drop_goes_to_a_copy(register: Path, tmp_path: Path, case: Case) -> None:
    rewrite_zip(register, case.parts, case.edits)
    assert has_marker(register, case.marker)

    # The claim: openpyxl on its own loses this content.
    plain = tmp_path / "plain.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # openpyxl announces some of these losses; the assert below proves them
        load_workbook(register, keep_links=True).save(plain)
    assert not has_marker(plain, case.marker)

    original = register.read_bytes()
    adapter = WorkbookRegister(register)
    adapter.read()
    result = adapter.write(make_plan(FIRST_RESULTS))
    copy = register.with_name("Register (Review Keeper).xlsx")
    assert register.read_bytes() == original
    assert result.destination == str(copy)
    assert result.backup is None
    assert len(result.notes) == 1
    note = result.notes[0]
    assert note.startswith("Your workbook has ")
    assert case.words in note
    assert "so your file was left untouched and the results were written to Register (Review Keeper).xlsx." in note
    ws = load_workbook(copy)["Register"]
    row = [c.value for c in ws[FIRST_PUPIL_ROW]]
    assert "OVERDUE" in row
    assert "AR status" in [c.value for c in ws[HEADER_ROW]]
    assert not (register.parent / ".keeper-backups").exists()


def test_pictures_are_kept_only_when_openpyxl_can_read_them(register: Path) -> None:
    parts = drawing_parts(
        PICTURE_DRAWING,
        {"xl/media/image1.png": PNG},
        f'<Relationship Id="rIdImg" Type="{R}/image" Target="../media/image1.png"/>',
    )
    rewrite_zip(register, parts, DRAWING_EDITS)
    original = register.read_bytes()
    adapter = WorkbookRegister(register)
    adapter.read()
    result = adapter.write(make_plan(FIRST_RESULTS))
    if PILImage is None:
        # Without Pillow openpyxl drops every picture without a warning: the school logo would vanish.
        assert register.read_bytes() == original
        assert "pictures" in result.notes[0]
        assert result.destination.endswith("Register (Review Keeper).xlsx")
    else:
        assert result.notes == []
        assert has_marker(register, ("xl/media/image1.png", b"PNG"))


def make_xlsm(register: Path) -> tuple[Path, bytes]:
    """A macro-enabled register: the VBA project part, its relationship and the macro-enabled content type."""
    vba = os.urandom(3000) + b'Attribute VB_Name = "Module1"'
    rewrite_zip(
        register,
        {"xl/vbaProject.bin": vba},
        {
            TYPES: (
                r"application/vnd\.openxmlformats-officedocument\.spreadsheetml\.sheet\.main\+xml",
                'application/vnd.ms-excel.sheet.macroEnabled.main+xml"/>'
                '<Default Extension="bin" ContentType="application/vnd.ms-office.vbaProject',
            ),
            "xl/_rels/workbook.xml.rels": (
                r"</Relationships>",
                '<Relationship Id="rIdVba" Type="http://schemas.microsoft.com/office/2006/relationships/vbaProject" '
                'Target="vbaProject.bin"/></Relationships>',
            ),
        },
    )
    return register.rename(register.with_suffix(".xlsm")), vba


def test_xlsm_keeps_its_macros_byte_for_byte(register: Path) -> None:
    path, vba = make_xlsm(register)
    adapter = WorkbookRegister(path)
    adapter.read()
    result = adapter.write(make_plan(FIRST_RESULTS))
    assert result.destination == str(path)
    assert result.backup.endswith(".xlsm")
    with zipfile.ZipFile(path) as archive:
        assert archive.read("xl/vbaProject.bin") == vba
        assert b"macroEnabled" in archive.read(TYPES)
        assert b"vbaProject" in archive.read("xl/_rels/workbook.xml.rels")
    ws = load_workbook(path, keep_vba=True)["Register"]
    assert "OVERDUE" in [c.value for c in ws[FIRST_PUPIL_ROW]]


@pytest.mark.libreoffice
def test_written_xlsm_reopens_in_libreoffice(register: Path, lo_profile: Path, tmp_path: Path) -> None:
    path, _ = make_xlsm(register)
    adapter = WorkbookRegister(path)
    adapter.read()
    adapter.write(make_plan(FIRST_RESULTS))
    csv = libreoffice_csv(lo_profile, path, tmp_path / "csv")
    assert "OVERDUE" in next(line for line in csv.splitlines() if line.startswith("Ava Smith"))
