"""NF-e 4.00 XML written for tests and the benchmark: a valid key, the fields the receipt reads."""

from dataclasses import dataclass
from decimal import Decimal

from purchasing.nfe.parsing import key_check_digit

ISSUER_CNPJ = "11222333000181"
OUR_CNPJ = "11444777000161"


@dataclass
class XLine:
    code: str
    quantity: str = "1.0000"
    value: str = "10.00"
    ean: str = "SEM GTIN"
    ean_taxable: str = ""
    description: str = "PRODUTO"
    freight: str = ""
    insurance: str = ""
    discount: str = ""
    other: str = ""
    ipi: str = ""


def access_key(number: int, *, cnpj: str = ISSUER_CNPJ, series: int = 1, code: int = 12345678):
    body = f"35{'2611'}{cnpj}55{series:03d}{number:09d}1{code:08d}"
    return body + str(key_check_digit(body))


def _opt(tag: str, value: str) -> str:
    return f"<{tag}>{value}</{tag}>" if value else ""


def _det(index: int, line: XLine) -> str:
    ipi = (
        "<IPI><cEnq>999</cEnq><IPITrib><CST>50</CST><vBC>0.00</vBC><pIPI>0.0000</pIPI>"
        f"<vIPI>{line.ipi}</vIPI></IPITrib></IPI>"
        if line.ipi
        else ""
    )
    return (
        f'<det nItem="{index}"><prod>'
        f"<cProd>{line.code}</cProd><cEAN>{line.ean}</cEAN><xProd>{line.description}</xProd>"
        f"<NCM>61091000</NCM><CFOP>5102</CFOP><uCom>UN</uCom><qCom>{line.quantity}</qCom>"
        f"<vUnCom>{line.value}</vUnCom><vProd>{line.value}</vProd>"
        f"<cEANTrib>{line.ean_taxable or line.ean}</cEANTrib><uTrib>UN</uTrib>"
        f"<qTrib>{line.quantity}</qTrib><vUnTrib>{line.value}</vUnTrib>"
        f"{_opt('vFrete', line.freight)}{_opt('vSeg', line.insurance)}"
        f"{_opt('vDesc', line.discount)}{_opt('vOutro', line.other)}<indTot>1</indTot>"
        "</prod><imposto><ICMS><ICMS00><orig>0</orig><CST>00</CST><modBC>3</modBC>"
        "<vBC>0.00</vBC><pICMS>0.00</pICMS><vICMS>0.00</vICMS></ICMS00></ICMS>"
        f"{ipi}</imposto></det>"
    )


def nfe_xml(
    lines: list[XLine],
    *,
    number: int = 1001,
    issuer_cnpj: str = ISSUER_CNPJ,
    issuer_name: str = "FORNECEDOR EXEMPLO LTDA",
    recipient_cnpj: str = OUR_CNPJ,
    environment: str = "1",
    status: str | None = "100",
    model: str = "55",
    freight: str | None = None,
    insurance: str | None = None,
    discount: str | None = None,
    other: str | None = None,
    total: str | None = None,
    key: str | None = None,
) -> bytes:
    """An ``nfeProc`` (or a bare ``NFe`` when ``status`` is None) with ``lines``.

    Totals not given are the sums of the lines' figures; ``total`` (vNF)
    defaults to products + freight + insurance + other - discount + IPI.
    """

    def sums(attr: str) -> Decimal:
        return sum((Decimal(getattr(x, attr) or "0") for x in lines), Decimal("0.00"))

    products = sums("value")
    freight_total = Decimal(freight) if freight is not None else sums("freight")
    insurance_total = Decimal(insurance) if insurance is not None else sums("insurance")
    discount_total = Decimal(discount) if discount is not None else sums("discount")
    other_total = Decimal(other) if other is not None else sums("other")
    ipi_total = sums("ipi")
    note_total = (
        Decimal(total)
        if total is not None
        else products + freight_total + insurance_total + other_total - discount_total + ipi_total
    )
    key = key or access_key(number, cnpj=issuer_cnpj)
    nfe = (
        '<NFe xmlns="http://www.portalfiscal.inf.br/nfe">'
        f'<infNFe Id="NFe{key}" versao="4.00"><ide><cUF>35</cUF><cNF>12345678</cNF>'
        f"<natOp>VENDA</natOp><mod>{model}</mod><serie>1</serie><nNF>{number}</nNF>"
        "<dhEmi>2026-11-20T10:00:00-03:00</dhEmi><tpNF>1</tpNF><idDest>1</idDest>"
        "<cMunFG>3550308</cMunFG><tpImp>1</tpImp><tpEmis>1</tpEmis>"
        f"<cDV>{key[-1]}</cDV><tpAmb>{environment}</tpAmb><finNFe>1</finNFe>"
        "<indFinal>0</indFinal><indPres>9</indPres><procEmi>0</procEmi><verProc>1</verProc>"
        f"</ide><emit><CNPJ>{issuer_cnpj}</CNPJ><xNome>{issuer_name}</xNome>"
        "<xFant>EXEMPLO</xFant><enderEmit><xLgr>RUA A</xLgr><nro>1</nro>"
        "<xBairro>CENTRO</xBairro><cMun>3550308</cMun><xMun>SAO PAULO</xMun><UF>SP</UF>"
        "<CEP>01001000</CEP><fone>1133334444</fone></enderEmit><IE>111111111111</IE><CRT>3</CRT>"
        f"</emit><dest>{_opt('CNPJ', recipient_cnpj)}<xNome>NOSSA EMPRESA</xNome>"
        "<indIEDest>9</indIEDest></dest>"
        + "".join(_det(index, line) for index, line in enumerate(lines, start=1))
        + "<total><ICMSTot><vBC>0.00</vBC><vICMS>0.00</vICMS><vICMSDeson>0.00</vICMSDeson>"
        "<vFCP>0.00</vFCP><vBCST>0.00</vBCST><vST>0.00</vST><vFCPST>0.00</vFCPST>"
        f"<vFCPSTRet>0.00</vFCPSTRet><vProd>{products}</vProd><vFrete>{freight_total}</vFrete>"
        f"<vSeg>{insurance_total}</vSeg><vDesc>{discount_total}</vDesc><vII>0.00</vII>"
        f"<vIPI>{ipi_total}</vIPI><vIPIDevol>0.00</vIPIDevol><vPIS>0.00</vPIS>"
        f"<vCOFINS>0.00</vCOFINS><vOutro>{other_total}</vOutro><vNF>{note_total}</vNF>"
        "</ICMSTot></total><transp><modFrete>0</modFrete></transp>"
        "<pag><detPag><tPag>90</tPag><vPag>0.00</vPag></detPag></pag>"
        "</infNFe></NFe>"
    )
    if status is None:
        return ('<?xml version="1.0" encoding="UTF-8"?>' + nfe).encode()
    proc = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00">'
        + nfe
        + '<protNFe versao="4.00"><infProt><tpAmb>'
        + environment
        + "</tpAmb><verAplic>SP_NFE_PL009_V4</verAplic>"
        f"<chNFe>{key}</chNFe><dhRecbto>2026-11-20T10:00:05-03:00</dhRecbto>"
        f"<nProt>135260000000001</nProt><digVal>AAAA</digVal><cStat>{status}</cStat>"
        "<xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe></nfeProc>"
    )
    return proc.encode()
