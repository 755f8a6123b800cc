"""What a city configures for its data channel, read from its content: the zones
(``channel-zones.yaml``), the data products (``data-products.yaml``), the certificate types a
product may need the subject's authorisation for, the providing departments by their short
names (``departments.yaml``) and the seal the channel's statements are issued under
(``channel-billing.yaml``); and, beside the content, the products organisations host
(:mod:`shuhui.channel.hosted`), which change at run time: :meth:`CityChannel.current` is the
city with them as the database holds them now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path

from sqlalchemy.orm import Session

from shuhui.channel import products as product_defs
from shuhui.channel.common import REVISION
from shuhui.channel.engine import Engine
from shuhui.channel.hosted import HostedProducts
from shuhui.channel.products import Product, Products
from shuhui.core.clock import local_today, utcnow
from shuhui.core.content import ContentError, Item, Items, load_items


@dataclass(frozen=True)
class BillingSeal:
    """The e-seal statements are issued under, and the department that issues them."""

    code: str
    name: str
    biller: str  # the department's full name, as the statement and the seal carry it


@dataclass(frozen=True)
class CityChannel:
    """The city's channel configuration, as the app holds it (``app.state.city_channel``):
    ``products`` are the content's; :meth:`current` adds the hosted ones."""

    zones: Items
    products: Products
    certificate_types: Items
    departments: Items
    billing: Items
    hosted: HostedProducts  # the hosted products, as of the channel's revision

    def current(self, db: Session) -> CityChannel:
        """The city with every product in force or once offered, content and hosted, as
        ``db``'s transaction sees them: one read of the channel's revision, and of the hosted
        products when it moved. What a request that names products reads them from."""
        revision = int(db.execute(REVISION).scalar_one())
        return replace(self, products=self.hosted.at(db, revision))

    def product_at(self, db: Session, revision: int, code: str) -> Product | None:
        """A product, content or hosted, at a revision read already (the gateway's: its key
        cache reads it for every call, so this reads nothing more while it stands)."""
        found = self.products.get(code)
        return found if found is not None else self.hosted.at(db, revision).get(code)

    def department(self, name: str) -> str:
        """The short name (``departments.yaml``) of a department named in full or short, as
        products name their provider and accounts their department; a name the content does
        not list stands for itself."""
        for item in self.departments:
            if name in (item.name_zh, item.attrs.get("short")):
                return str(item.attrs.get("short") or item.name_zh)
        return name

    def billing_seal(self, on: date) -> BillingSeal:
        """The billing seal in force on a day."""
        for item in self.billing.in_force(on):
            return BillingSeal(
                item.code, item.name_zh, _biller(self.departments, self.billing, item)
            )
        raise ContentError(self.billing.path, "items", f"no billing seal in force on {on}")


def _biller(departments: Items, billing: Items, item: Item) -> str:
    """The full name of the department a billing seal names by its short name."""
    short = item.attrs.get("department")
    for department in departments:
        if department.attrs.get("short") == short:
            return department.name_zh
    raise ContentError(billing.path, f"{item.code}.department", "not in departments.yaml")


def city_channel(content: Path) -> CityChannel:
    zones = load_items(content / "channel-zones.yaml", "channel-zones")
    types = load_items(content / "certificate-types.yaml", "certificate-types")
    holders = {t.code: str(t.attrs.get("holder", "any")) for t in types}
    departments = load_items(content / "departments.yaml", "departments")
    billing = load_items(content / "channel-billing.yaml", "channel-billing")
    for item in billing:  # refused at start, not when the first statement is issued
        _biller(departments, billing, item)
    products = product_defs.load(content, {z.code for z in zones}, holders)
    return CityChannel(zones, products, types, departments, billing, HostedProducts(products))


def prepare_products_later(engine: Engine, city: CityChannel) -> None:
    """Starts preparing every product in force, in the background (at server start)."""
    today = local_today(utcnow())
    engine.prepare_later(city.products.in_force(today), today)
