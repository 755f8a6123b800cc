from __future__ import annotations

from shuhui.core.regions import (
    PROVINCE_CODES,
    QINGDAO_CITY,
    QINGDAO_CITY_CODE,
    Region,
    qingdao_districts,
    region_by_code,
)


def test_ten_districts() -> None:
    districts = qingdao_districts()
    assert len(districts) == 10
    assert all(isinstance(d, Region) for d in districts)


def test_codes_unique_and_in_qingdao() -> None:
    codes = [d.code for d in qingdao_districts()]
    assert len(set(codes)) == len(codes)
    assert all(code.startswith("3702") and len(code) == 6 for code in codes)
    assert codes == sorted(codes)
    assert QINGDAO_CITY_CODE not in codes


def test_names_and_kinds() -> None:
    for district in qingdao_districts():
        assert district.name.endswith(("区", "市"))
        assert district.name_en
        expected_kind = "district" if district.name.endswith("区") else "county_city"
        assert district.kind == expected_kind


def test_expected_members() -> None:
    by_code = {d.code: d.name for d in qingdao_districts()}
    assert by_code == {
        "370202": "市南区",
        "370203": "市北区",
        "370211": "黄岛区",
        "370212": "崂山区",
        "370213": "李沧区",
        "370214": "城阳区",
        "370215": "即墨区",
        "370281": "胶州市",
        "370283": "平度市",
        "370285": "莱西市",
    }


def test_region_by_code() -> None:
    laoshan = region_by_code("370212")
    assert laoshan is not None
    assert (laoshan.name, laoshan.name_en, laoshan.kind) == (
        "崂山区",
        "Laoshan District",
        "district",
    )
    assert region_by_code(QINGDAO_CITY_CODE) == QINGDAO_CITY
    assert QINGDAO_CITY.name == "青岛市"
    assert region_by_code("370299") is None
    assert region_by_code("") is None


def test_districts_are_cached() -> None:
    assert qingdao_districts() is qingdao_districts()


def test_province_codes() -> None:
    assert "37" in PROVINCE_CODES
    assert "83" in PROVINCE_CODES
    assert "10" not in PROVINCE_CODES
    assert len(PROVINCE_CODES) == 35
