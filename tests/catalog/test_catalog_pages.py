"""The catalog's pages as a visitor sees them: search, facets, a dataset, a class, a download."""

from __future__ import annotations

import csv
import io
import re

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from shuhui.catalog import service
from shuhui.catalog.models import DataItem


def visitor(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False)


def names_on(page: str) -> list[str]:
    return re.findall(r'<li data-name="([^"]+)"', page)


def test_search_with_chinese_and_facets(catalogued: FastAPI) -> None:
    client = visitor(catalogued)
    home = client.get("/catalog")
    assert home.status_code == 200
    assert "公共数据资源目录" in home.text and len(names_on(home.text)) == 20
    found = client.get("/catalog", params={"q": "社保"})
    assert {"insurance_enrolments", "insurance_contributions"} <= set(names_on(found.text))
    assert "transit_trips" not in names_on(found.text)
    opened = client.get("/catalog", params={"open_level": "open"})
    # Open without conditions: enterprise registrations and their electricity, and the
    # statistics of villages and district population the infrastructure registry counts by.
    assert set(names_on(opened.text)) == {
        "enterprises",
        "enterprise_electricity",
        "administrative_villages",
        "district_population",
    }
    assert 'class="chosen"' in opened.text
    themed = client.get("/catalog", params={"groups": "04"})
    assert set(names_on(themed.text)) == {
        "insurance_enrolments",
        "insurance_contributions",
        "pension_recipients",
        "pension_payments",
        "benefit_accounts",
        "social_security_card_uses",
        "benefit_collections",
    }
    # The navigation now links to the catalog.
    assert 'href="/catalog" data-module="catalog"' in home.text


def test_paging_covers_every_dataset_once(scaled: FastAPI) -> None:
    client = visitor(scaled)
    seen: list[str] = []
    page = 1
    while True:
        response = client.get(
            "/catalog", params={"q": "社会保险", "sort": "title_string asc", "page": page}
        )
        names = names_on(response.text)
        seen += names
        if 'id="next-page"' not in response.text:
            break
        page += 1
    count = int(re.search(r"找到 (\d+) 个数据集", response.text).group(1))  # type: ignore[union-attr]
    assert len(seen) == len(set(seen)) == count > 20


def test_bad_search_parameters_are_refused_not_crashed(catalogued: FastAPI) -> None:
    client = visitor(catalogued)
    response = client.get("/catalog", params={"sort": "nonsense"}, headers={"accept": "text/html"})
    assert response.status_code == 422
    api = client.get("/catalog", params={"page": 0})
    assert api.status_code == 422


def test_a_dataset_page_shows_schema_governance_versions_and_open_samples(
    catalogued: FastAPI,
) -> None:
    client = visitor(catalogued)
    page = client.get("/catalog/datasets/enterprises").text
    assert "企业登记信息" in page and "无条件开放" in page
    assert 'data-personal="true"' in page  # the legal representative's ID is flagged
    assert 'id="sample"' in page and 'id="versions"' in page
    sample = page.split('id="sample"')[1].split("</table>")[0]
    assert "legal_rep_citizen_id" not in sample and "credit_code" in sample
    closed = client.get("/catalog/datasets/medical_visits").text
    assert 'id="sample"' not in closed and 'id="apply"' in closed
    assert client.get("/catalog/datasets/no_such").status_code == 404


def test_a_class_page_lists_its_items_and_datasets(catalogued: FastAPI) -> None:
    client = visitor(catalogued)
    page = client.get("/catalog/classes/QD-04-INSURANCE_ENROLMENTS")
    assert page.status_code == 200
    assert (
        "社会保险参保登记" in page.text
        and 'href="/catalog/datasets/insurance_enrolments"' in page.text
    )


def test_open_data_downloads_as_csv_without_personal_fields(catalogued: FastAPI) -> None:
    client = visitor(catalogued)
    response = client.get("/catalog/datasets/enterprises/download.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    assert "credit_code" in header and "legal_rep_citizen_id" not in header
    assert "legal_rep_name" not in header
    with catalogued.state.session_factory() as db:
        assert len(body) == service.get_dataset(db, "enterprises").rows
    refused = client.get("/catalog/datasets/residents/download.csv")
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")


def test_a_column_the_catalog_marks_personal_leaves_no_public_channel(
    catalogued: FastAPI,
) -> None:
    """The catalog may call a column personal that the loaded table's spec does not (it
    describes the version it registered): the page sample, the CSV download and the CKAN
    datastore all leave it out, as every caller asks service.public_columns. Before, the sample
    and the download read the spec's flags only and published it."""
    spec = catalogued.state.datacore.spec("enterprises")
    hidden = "address"  # not personal in the data standard
    assert not next(c for c in spec.columns if c.name == hidden).personal
    with catalogued.state.session_factory() as db:
        enterprises = service.get_dataset(db, "enterprises")
        db.execute(
            update(DataItem)
            .where(DataItem.class_id == enterprises.class_id, DataItem.name == hidden)
            .values(personal=True)
        )
        db.commit()
        public = [c.name for c in service.public_columns(db, spec)]
    assert hidden not in public and "legal_rep_citizen_id" not in public
    assert "credit_code" in public

    client = visitor(catalogued)
    sample = client.get("/catalog/datasets/enterprises").text.split('id="sample"')[1]
    assert f">{hidden}<" not in sample.split("</table>")[0]
    download = client.get("/catalog/datasets/enterprises/download.csv")
    header = next(csv.reader(io.StringIO(download.content.decode("utf-8-sig"))))
    assert header == public
    with catalogued.state.session_factory() as db:
        uid = next(
            d.uid for d in service.get_dataset(db, "enterprises").distributions if d.kind == "api"
        )
    fields = client.get("/api/3/action/datastore_search", params={"resource_id": uid}).json()
    assert [f["id"] for f in fields["result"]["fields"]] == public
