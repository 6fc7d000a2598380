"""The Brazilian Portuguese translation of the back office.

The catalog lives in locale/pt_BR/LC_MESSAGES; both the .po and the compiled
.mo are committed, because CI and the Docker image do not run compilemessages.
"""

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from movements import services

LC_MESSAGES = Path(settings.BASE_DIR) / "locale" / "pt_BR" / "LC_MESSAGES"
PO_FILE = LC_MESSAGES / "django.po"
MO_FILE = LC_MESSAGES / "django.mo"

PLACEHOLDER = re.compile(r"%\(\w+\)[-+ #0-9.]*[sdifr]|%[sdif]|\{\w*\}")


def _po_entries(path: Path) -> list[dict]:
    """The entries of a .po file, without the header and obsolete (#~) ones.

    Each entry is {"msgctxt", "msgid", "msgid_plural", "msgstr": {index: text},
    "flags": set}. Enough of the format for what makemessages writes.
    """
    entries, entry, key = [], None, None

    def finish():
        if entry is not None and "msgid" in entry and entry["msgid"] != "":
            entries.append(entry)

    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#~"):
            continue
        if line.startswith("#"):
            if entry is not None and "msgid" in entry:
                finish()
                entry = None
            entry = entry or {"flags": set(), "msgstr": {}}
            if line.startswith("#,"):
                entry["flags"].update(flag.strip() for flag in line[2:].split(","))
            continue
        if line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(key, int):
                entry["msgstr"][key] += text
            else:
                entry[key] += text
            continue
        keyword, _, quoted = line.partition(" ")
        if keyword in ("msgctxt", "msgid") and entry is not None and "msgid" in entry:
            finish()
            entry = None
        entry = entry or {"flags": set(), "msgstr": {}}
        text = ast.literal_eval(quoted)
        if keyword == "msgstr":
            key = 0
            entry["msgstr"][0] = text
        elif keyword.startswith("msgstr["):
            key = int(keyword[len("msgstr[") : -1])
            entry["msgstr"][key] = text
        else:
            key = keyword
            entry[key] = text
    finish()
    return entries


@pytest.fixture(scope="module")
def po_entries():
    return _po_entries(PO_FILE)


def _sidebar_and_list(admin_client, language):
    url = reverse("admin:catalog_product_changelist")
    response = admin_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return response, response.content.decode()


@pytest.mark.django_db
def test_product_list_and_sidebar_are_portuguese_for_a_pt_br_browser(admin_client, stocked_product):
    stocked_product(quantity=3, title="Parafusadeira 12V")

    response, html = _sidebar_and_list(admin_client, "pt-br,pt;q=0.9,en;q=0.5")

    assert response["Content-Language"] == "pt-br"
    assert '<html lang="pt-br"' in html
    # Product's plural verbose name and the sidebar sections and links.
    for label in ("Produtos", "Catálogo", "Movimentações", "Entradas", "Saídas", "Painel"):
        assert label in html, label
    # Column headers come from the model fields' verbose names.
    for header in ("Preço de custo", "Preço de venda", "Estoque"):
        assert header in html, header
    # The stock-level filter (under Django's own "By ..." heading) and the search help.
    assert "Por nível de estoque" in html
    assert "No nível de reposição ou abaixo" in html
    assert "Pesquise por título ou número de série;" in html  # the search field's help
    for english in ("Product models", "Inflows", "Outflows", "Cost price"):
        assert english not in html, english


@pytest.mark.django_db
def test_the_same_page_stays_english_for_an_english_browser(admin_client, stocked_product):
    stocked_product(quantity=3)

    response, html = _sidebar_and_list(admin_client, "en-US,en;q=0.9")

    assert response["Content-Language"] == "en"
    for label in ("Products", "Movements", "Inflows", "Outflows", "Dashboard"):
        assert label in html, label
    assert "Movimentações" not in html


@pytest.mark.django_db
def test_outflow_above_stock_error_is_portuguese(stocked_product):
    product = stocked_product(quantity=1)

    with translation.override("pt-br"), pytest.raises(services.InsufficientStock) as caught:
        services.outflow_create(product=product, quantity=2)

    assert caught.value.message == (
        f"Estoque insuficiente de {product}: solicitado 2, disponível 1."
    )
    product.refresh_from_db()
    assert product.quantity == 1


def test_po_file_has_no_untranslated_or_fuzzy_entries(po_entries):
    assert len(po_entries) > 100  # the parser really read the catalog
    fuzzy = [entry["msgid"] for entry in po_entries if "fuzzy" in entry["flags"]]
    untranslated = [
        entry["msgid"]
        for entry in po_entries
        if not entry["msgstr"] or not all(entry["msgstr"].values())
    ]
    assert fuzzy == []
    assert untranslated == []


def test_po_header_has_the_pt_br_plural_forms():
    header = PO_FILE.read_text(encoding="utf-8").split("\n\n", 1)[0]
    assert '"Plural-Forms: nplurals=2; plural=(n > 1);\\n"' in header
    assert '"Language: pt_BR\\n"' in header
    assert "#, fuzzy" not in header


def test_translations_keep_every_placeholder(po_entries):
    wrong = []
    for entry in po_entries:
        source = entry.get("msgid_plural", entry["msgid"])
        expected = sorted(PLACEHOLDER.findall(source))
        for text in entry["msgstr"].values():
            if sorted(PLACEHOLDER.findall(text)) != expected:
                wrong.append((entry["msgid"], text))
    assert wrong == []


def test_committed_mo_matches_the_po(po_entries):
    with MO_FILE.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for entry in po_entries:
        context = entry.get("msgctxt")
        if "msgid_plural" in entry:
            for n, index in ((1, 0), (2, 1)):
                if context is None:
                    got = compiled.ngettext(entry["msgid"], entry["msgid_plural"], n)
                else:
                    got = compiled.npgettext(context, entry["msgid"], entry["msgid_plural"], n)
                if got != entry["msgstr"][index]:
                    stale.append(entry["msgid"])
        else:
            if context is None:
                got = compiled.gettext(entry["msgid"])
            else:
                got = compiled.pgettext(context, entry["msgid"])
            if got != entry["msgstr"][0]:
                stale.append(entry["msgid"])
    assert stale == [], "run msgfmt again: the .mo is older than the .po"
