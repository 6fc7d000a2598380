"""NF-e files: every nfelib sample reads; bad and hostile files are refused safely."""

from decimal import Decimal
from pathlib import Path

import nfelib
import pytest

from purchasing.nfe.apportion import line_costs, share_out
from purchasing.nfe.parsing import MAX_FILE_BYTES, NFeError, check_note, parse_note
from purchasing.tests.nfe_factory import OUR_CNPJ, XLine, nfe_xml

SAMPLES = Path(nfelib.__file__).parent / "nfe" / "samples" / "v4_0"
# The NF-e 4.00 notes nfelib ships (its other samples are events, NFC-e and inutilizations).
NOTE_SAMPLES = sorted([*(SAMPLES / "leiauteNFe").glob("*.xml"), SAMPLES / "procNFe.xml"])


def test_nfelib_ships_the_samples_these_tests_read():
    assert len(NOTE_SAMPLES) >= 15


@pytest.mark.parametrize("path", NOTE_SAMPLES, ids=lambda path: path.name[:24])
def test_every_nfe_sample_shipped_with_nfelib_parses(path):
    note = parse_note(path.read_bytes())
    assert len(note.access_key) == 44 and note.access_key.isdigit()
    assert note.version == "4.00"
    assert note.issuer.cnpj
    assert note.lines
    assert all(line.quantity > 0 for line in note.lines)
    # The line costs always add up to the note's total, to the cent.
    assert sum(line_costs(note)) == note.totals.note


@pytest.mark.parametrize(
    "path",
    [p for p in NOTE_SAMPLES if b"<tpAmb>1</tpAmb>" in p.read_bytes()],
    ids=lambda p: p.name[:24],
)
def test_authorized_production_samples_pass_the_checks(path):
    check_note(parse_note(path.read_bytes()))


def test_a_bare_nfe_without_protocol_is_read():
    note = parse_note(nfe_xml([XLine("A")], status=None))
    check_note(note)
    assert note.status_code == ""


def test_apportioning_totals_only_freight_and_discount_sums_to_the_cent():
    lines = [XLine(f"L{i}", value=value) for i, value in enumerate(["10.00", "10.00", "10.00"])]
    note = parse_note(nfe_xml(lines, freight="10.00", discount="0.01", other="0.02"))
    costs = line_costs(note)
    assert sum(costs) == note.totals.note == Decimal("40.01")
    assert costs == [Decimal("13.34"), Decimal("13.34"), Decimal("13.33")]


def test_apportioning_uses_the_lines_own_charges_when_present():
    lines = [
        XLine("A", value="100.00", freight="7.00", discount="2.00", ipi="5.00"),
        XLine("B", value="50.00", insurance="1.50", other="0.50"),
    ]
    note = parse_note(nfe_xml(lines))
    assert line_costs(note) == [Decimal("110.00"), Decimal("52.00")]
    assert sum(line_costs(note)) == note.totals.note


def test_apportioning_of_many_uneven_lines_sums_to_the_total():
    lines = [XLine(f"L{i}", value=f"{(i * 37) % 97 + 0.13:.2f}") for i in range(1, 120)]
    note = parse_note(nfe_xml(lines, freight="123.45", insurance="9.99", discount="77.77"))
    assert sum(line_costs(note)) == note.totals.note


def test_share_out_of_a_negative_amount_and_of_zero_weights():
    assert share_out(Decimal("-0.05"), [Decimal(1), Decimal(1)]) == [
        Decimal("-0.03"),
        Decimal("-0.02"),
    ]
    assert sum(share_out(Decimal("1.00"), [Decimal(0)] * 3)) == Decimal("1.00")


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"environment": "2"}, "homologation"),
        ({"status": "101"}, "cancelled"),
        ({"status": "302"}, "not authorized"),
        ({"model": "65"}, "model 65"),
        ({"recipient_cnpj": "11222333000181"}, "addressed to CNPJ"),
    ],
)
def test_bad_notes_are_refused_with_a_clear_message(kwargs, message):
    note = parse_note(nfe_xml([XLine("A")], **kwargs))
    with pytest.raises(NFeError, match=message):
        check_note(note, company_cnpj=OUR_CNPJ)


def test_any_recipient_is_accepted_when_our_cnpj_is_not_set():
    check_note(parse_note(nfe_xml([XLine("A")], recipient_cnpj="11222333000181")), company_cnpj="")


def test_a_wrong_access_key_is_refused():
    note = parse_note(nfe_xml([XLine("A")], key="3" * 44))
    with pytest.raises(NFeError, match="access key"):
        check_note(note)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"<nfeProc><NFe>", "not well-formed"),
        (b"id;name\n1;x\n", "not well-formed"),
        (b'<?xml version="1.0"?><invoice><total>1</total></invoice>', "not an NF-e"),
        (
            b'<cteProc xmlns="http://www.portalfiscal.inf.br/cte" versao="4.00"/>',
            "not an NF-e",
        ),
    ],
)
def test_files_that_are_not_an_nfe_are_refused(data, message):
    with pytest.raises(NFeError, match=message):
        parse_note(data)


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">&lol9;</nfeProc>"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE nfeProc [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">&xxe;</nfeProc>"""

EXTERNAL_DTD = b"""<?xml version="1.0"?>
<!DOCTYPE nfeProc SYSTEM "http://127.0.0.1:9/evil.dtd">
<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"/>"""


@pytest.mark.parametrize(
    "data", [BILLION_LAUGHS, EXTERNAL_ENTITY, EXTERNAL_DTD], ids=["laughs", "xxe", "dtd"]
)
def test_hostile_xml_is_refused_unread(data):
    with pytest.raises(NFeError, match="DTD or entities"):
        parse_note(data)


def test_a_huge_file_is_refused_before_parsing():
    data = nfe_xml([XLine("A")]) + b" " * MAX_FILE_BYTES
    with pytest.raises(NFeError, match="at most"):
        parse_note(data)


def test_a_deeply_nested_file_is_refused_safely():
    data = b"<a>" * 100_000 + b"</a>" * 100_000
    with pytest.raises(NFeError):
        parse_note(data)


NS = b'xmlns="http://www.portalfiscal.inf.br/nfe"'


@pytest.mark.parametrize(
    "data",
    [
        b"<nfeProc " + NS + b"><NFe>" + b"<a>" * 5000 + b"</a>" * 5000 + b"</NFe></nfeProc>",
        b"<NFe " + NS + b"/>",
        b"<NFe " + NS + b'><infNFe Id="x" versao="4.00"><ide><nNF>1</nNF></ide><emit>'
        b"<CNPJ>1</CNPJ></emit><total><ICMSTot><vNF>1</vNF></ICMSTot></total>"
        b'<det nItem="one"><prod><qCom>1</qCom></prod></det></infNFe></NFe>',
        b"<NFe " + NS + b' xmlns:xi="http://www.w3.org/2001/XInclude">'
        b'<xi:include href="/etc/passwd" parse="text"/></NFe>',
        b'<?xml version="1.0" encoding="UTF-8"?><NFe ' + NS + b">\xff\xfe</NFe>",
    ],
    ids=["deep", "empty", "bad-item", "xinclude", "bad-encoding"],
)
def test_broken_notes_are_refused_with_a_message_not_a_crash(data):
    with pytest.raises(NFeError):
        parse_note(data)
