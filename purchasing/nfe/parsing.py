"""Reading an NF-e XML file into a ``Note``, refusing anything else safely.

A file is refused before nfelib sees it when it is too large, not XML, or
carries a DTD (which is where entity expansion, "billion laughs", and
external entities live: a real NF-e never has one). defusedxml checks that
on the raw bytes; only then nfelib's bindings (xsdata over lxml) read it.
"""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import ParseError
from defusedxml.ElementTree import fromstring as safe_fromstring
from django.utils.translation import gettext as _

from project.errors import UserFacingError

NAMESPACE = "http://www.portalfiscal.inf.br/nfe"
# SEFAZ takes at most 500 KB per batch of notes; the protocol adds little.
# Twice that leaves room and keeps a hostile "huge file" out of the parser.
MAX_FILE_BYTES = 1024 * 1024
# cStat of an authorized note: 100 in time, 150 late.
AUTHORIZED = {"100", "150"}
CANCELLED = {"101", "135", "151", "155"}
NO_GTIN = "SEM GTIN"
ZERO = Decimal("0.00")


class NFeError(UserFacingError):
    """A file or a note refused: ``message`` says why, for the person who sent it."""


@dataclass
class Issuer:
    cnpj: str
    name: str
    trade_name: str = ""
    address: str = ""
    phone: str = ""


@dataclass
class Line:
    item: int
    code: str
    ean: str
    ean_taxable: str
    description: str
    unit: str
    quantity: Decimal
    value: Decimal
    freight: Decimal
    insurance: Decimal
    discount: Decimal
    other: Decimal
    # Taxes paid on top of the goods (IPI, ICMS-ST, FCP-ST, import tax).
    taxes: Decimal

    @property
    def eans(self) -> list[str]:
        """The line's GTINs (commercial first), without "SEM GTIN" and blanks."""
        codes = []
        for code in (self.ean, self.ean_taxable):
            code = (code or "").strip()
            if code and code.upper() != NO_GTIN and code.isdigit() and code not in codes:
                codes.append(code)
        return codes


@dataclass
class Totals:
    products: Decimal
    freight: Decimal
    insurance: Decimal
    discount: Decimal
    other: Decimal
    note: Decimal


@dataclass
class Note:
    access_key: str
    number: str
    series: str
    model: str
    environment: str
    version: str
    issued_at: datetime | None
    issuer: Issuer
    recipient_cnpj: str
    status_code: str
    status_reason: str
    totals: Totals
    lines: list[Line] = field(default_factory=list)


def _dec(value) -> Decimal:
    if value in (None, ""):
        return ZERO
    try:
        return Decimal(str(value))
    except InvalidOperation:
        raise NFeError(
            _("The file has a malformed amount: %(value)s.") % {"value": value}
        ) from None


def _text(value) -> str:
    if value is None:
        return ""
    value = getattr(value, "value", value)  # nfelib's enums
    return str(value).strip()


def key_check_digit(first_43: str) -> int:
    """The access key's last digit: modulo 11 of the first 43, weights 2..9 from the right."""
    total = sum(int(digit) * (2 + index % 8) for index, digit in enumerate(first_43[::-1]))
    rest = total % 11
    return 0 if rest < 2 else 11 - rest


def _not_nfe() -> NFeError:
    return NFeError(
        _("This file is not an NF-e: an NF-e XML (layout 4.00) starts with <nfeProc> or <NFe>.")
    )


def _refuse_unsafe(data: bytes) -> str:
    """The root's tag, after refusing what is too big, malformed or hostile."""
    if len(data) > MAX_FILE_BYTES:
        raise NFeError(
            _("The file is %(size)d KB; an NF-e XML is at most %(limit)d KB.")
            % {"size": len(data) // 1024, "limit": MAX_FILE_BYTES // 1024}
        )
    if not data.strip():
        raise NFeError(_("The file is empty."))
    try:
        root = safe_fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except DefusedXmlException:
        raise NFeError(
            _(
                "The file declares a DTD or entities, which an NF-e never has; "
                "it was refused unread for safety."
            )
        ) from None
    except (ParseError, ValueError, UnicodeError):
        raise NFeError(_("The file is not well-formed XML.")) from None
    return root.tag


def parse_note(data: bytes) -> Note:
    """The note in ``data`` (an ``nfeProc`` or a bare ``NFe``), or NFeError."""
    from nfelib.nfe.bindings.v4_0.nfe_v4_00 import Nfe
    from nfelib.nfe.bindings.v4_0.proc_nfe_v4_00 import NfeProc
    from xsdata.exceptions import XmlContextError
    from xsdata.formats.dataclass.parsers import XmlParser
    from xsdata.formats.dataclass.parsers.config import ParserConfig

    tag = _refuse_unsafe(data)
    classes = {f"{{{NAMESPACE}}}nfeProc": NfeProc, f"{{{NAMESPACE}}}NFe": Nfe}
    if tag not in classes:
        raise _not_nfe()
    parser = XmlParser(config=ParserConfig(fail_on_unknown_properties=False))
    try:
        document = parser.from_bytes(data, classes[tag])
    except (XmlContextError, ValueError, TypeError, AttributeError, SyntaxError):
        raise NFeError(_("The file is not a valid NF-e 4.00 XML.")) from None
    nfe = document.NFe if tag.endswith("nfeProc") else document
    info = getattr(nfe, "infNFe", None) if nfe is not None else None
    if info is None or info.ide is None or info.emit is None or info.total is None:
        raise NFeError(_("The file is not a valid NF-e 4.00 XML."))
    try:
        return _note(document if tag.endswith("nfeProc") else None, info)
    except NFeError:
        raise
    except (ValueError, TypeError, AttributeError):  # an item number that is not one...
        raise NFeError(_("The file is not a valid NF-e 4.00 XML.")) from None


def _issuer(emit) -> Issuer:
    address = emit.enderEmit
    parts = []
    phone = ""
    if address is not None:
        parts = [
            _text(address.xLgr),
            _text(address.nro),
            _text(address.xCpl),
            _text(address.xBairro),
            " / ".join(p for p in (_text(address.xMun), _text(address.UF)) if p),
            _text(address.CEP),
        ]
        phone = _text(address.fone)
    return Issuer(
        cnpj=_text(emit.CNPJ),
        name=_text(emit.xNome),
        trade_name=_text(emit.xFant),
        address=", ".join(p for p in parts if p),
        phone=phone,
    )


def _line_taxes(det) -> Decimal:
    imposto = det.imposto
    total = ZERO
    if imposto is not None:
        ipi = getattr(imposto, "IPI", None)
        ipi_trib = getattr(ipi, "IPITrib", None) if ipi is not None else None
        if ipi_trib is not None:
            total += _dec(ipi_trib.vIPI)
        import_tax = getattr(imposto, "II", None)
        if import_tax is not None:
            total += _dec(import_tax.vII)
        icms = getattr(imposto, "ICMS", None)
        if icms is not None:
            # One of ICMS00 ... ICMSSN900 is filled; ST and FCP-ST are paid on top.
            for name in vars(icms):
                group = getattr(icms, name)
                if group is not None:
                    total += _dec(getattr(group, "vICMSST", None))
                    total += _dec(getattr(group, "vFCPST", None))
    devol = getattr(det, "impostoDevol", None)
    if devol is not None and getattr(devol, "IPI", None) is not None:
        total += _dec(devol.IPI.vIPIDevol)
    return total


def _line(det) -> Line:
    prod = det.prod
    return Line(
        item=int(_text(det.nItem) or 0),
        code=_text(prod.cProd)[:60],
        ean=_text(prod.cEAN),
        ean_taxable=_text(prod.cEANTrib),
        description=_text(prod.xProd)[:120],
        unit=_text(prod.uCom),
        quantity=_dec(prod.qCom),
        value=_dec(prod.vProd),
        freight=_dec(prod.vFrete),
        insurance=_dec(prod.vSeg),
        discount=_dec(prod.vDesc),
        other=_dec(prod.vOutro),
        taxes=_line_taxes(det),
    )


def _note(proc, info) -> Note:
    ide = info.ide
    key = _text(info.Id).removeprefix("NFe")
    status_code = status_reason = ""
    prot = getattr(proc, "protNFe", None) if proc is not None else None
    if prot is not None and prot.infProt is not None:
        status_code = _text(prot.infProt.cStat)
        status_reason = _text(prot.infProt.xMotivo)
        key = key or _text(prot.infProt.chNFe)
    issued = None
    if ide.dhEmi:
        try:
            issued = datetime.fromisoformat(_text(ide.dhEmi))
        except ValueError:
            issued = None
    totals = info.total.ICMSTot
    dest = info.dest
    return Note(
        access_key=key,
        number=_text(ide.nNF),
        series=_text(ide.serie),
        model=_text(ide.mod),
        environment=_text(ide.tpAmb),
        version=_text(info.versao),
        issued_at=issued,
        issuer=_issuer(info.emit),
        recipient_cnpj=_text(dest.CNPJ) if dest is not None else "",
        status_code=status_code,
        status_reason=status_reason,
        totals=Totals(
            products=_dec(totals.vProd),
            freight=_dec(totals.vFrete),
            insurance=_dec(totals.vSeg),
            discount=_dec(totals.vDesc),
            other=_dec(totals.vOutro),
            note=_dec(totals.vNF),
        ),
        lines=[_line(det) for det in info.det],
    )


def check_note(note: Note, *, company_cnpj: str = "") -> None:
    """Refuse (NFeError) a note that must not enter stock; nothing is written either way."""
    from catalog.validators import normalize_cnpj

    key = note.access_key
    if len(key) != 44 or not key.isdigit() or key_check_digit(key[:43]) != int(key[43]):
        raise NFeError(
            _("The NF-e's access key “%(key)s” is not a valid 44-digit key.") % {"key": key}
        )
    if note.version != "4.00":
        raise NFeError(
            _("This NF-e uses layout %(version)s; only layout 4.00 is read.")
            % {"version": note.version or "?"}
        )
    if note.model != "55":
        raise NFeError(
            _("This is not an NF-e (model 55) but model %(model)s (an NFC-e is model 65).")
            % {"model": note.model or "?"}
        )
    if note.environment != "1":
        raise NFeError(
            _(
                "NF-e %(number)s was issued in the homologation (test) environment: "
                "it has no fiscal value and is not received."
            )
            % {"number": note.number}
        )
    if note.status_code in CANCELLED:
        raise NFeError(
            _("NF-e %(number)s is cancelled (SEFAZ status %(code)s: %(reason)s).")
            % {"number": note.number, "code": note.status_code, "reason": note.status_reason}
        )
    if note.status_code and note.status_code not in AUTHORIZED:
        raise NFeError(
            _("NF-e %(number)s is not authorized (SEFAZ status %(code)s: %(reason)s).")
            % {"number": note.number, "code": note.status_code, "reason": note.status_reason}
        )
    ours = normalize_cnpj(company_cnpj)
    if ours and normalize_cnpj(note.recipient_cnpj) != ours:
        raise NFeError(
            _(
                "NF-e %(number)s is addressed to CNPJ %(theirs)s, not to ours (%(ours)s): "
                "it is not ours to receive."
            )
            % {"number": note.number, "theirs": note.recipient_cnpj or "—", "ours": ours}
        )
    if not note.issuer.cnpj:
        raise NFeError(
            _("NF-e %(number)s has no issuer CNPJ (issued by a person?): it cannot be received.")
            % {"number": note.number}
        )
    if not note.lines:
        raise NFeError(_("NF-e %(number)s has no lines.") % {"number": note.number})
