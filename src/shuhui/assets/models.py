"""The data-asset registry's table: applications to register a dataset or data product as a data
asset, and, once accepted, the registrations with their sealed certificates and valuations.

The table keeps its name (``catalog_assets``) from when the registry was part of the catalog, so
the migrations still describe it; it refers to the catalog's datasets by key.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shuhui.core.db import Base, UTCDateTime

if TYPE_CHECKING:
    from shuhui.catalog.models import Dataset

ASSET_RIGHTS: dict[str, tuple[str, str]] = {
    "holding": ("数据资源持有权", "Right to hold the data resource"),
    "processing": ("数据加工使用权", "Right to process and use the data"),
    "operation": ("数据产品经营权", "Right to operate data products"),
}
ASSET_STATES: dict[str, tuple[str, str]] = {
    "submitted": ("待审核", "Awaiting review"),
    "returned": ("退回修改", "Returned for changes"),
    "rejected": ("不予登记", "Rejected"),
    "registered": ("已登记", "Registered"),
}


class AssetRegistration(Base):
    """An application to register a dataset or data product as a data asset (数据资产登记),
    and, once accepted, the registration with its sealed certificate and valuations."""

    __tablename__ = "catalog_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)  # application / registration no.
    kind: Mapped[str] = mapped_column(String(16))  # dataset | product
    dataset_id: Mapped[int | None] = mapped_column(ForeignKey("catalog_datasets.id"), index=True)
    title: Mapped[str] = mapped_column(String(256))
    holder_name: Mapped[str] = mapped_column(String(256))
    holder_code: Mapped[str] = mapped_column(String(18), index=True)  # credit code
    rights: Mapped[str] = mapped_column(String(256))  # JSON list of ASSET_RIGHTS keys
    sources: Mapped[str] = mapped_column(String())
    processing: Mapped[str] = mapped_column(String())
    scenarios: Mapped[str] = mapped_column(String())
    status: Mapped[str] = mapped_column(String(16), index=True)
    applicant: Mapped[str] = mapped_column(String(128))
    submitted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reviewer: Mapped[str | None] = mapped_column(String(128))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    review_reason: Mapped[str | None] = mapped_column(String(1024))
    certificate_no: Mapped[str | None] = mapped_column(String(32), unique=True)
    certificate: Mapped[bytes | None] = mapped_column(LargeBinary)  # the sealed document
    certificate_seal: Mapped[str | None] = mapped_column(String())  # its seal envelope, JSON
    valuation: Mapped[str | None] = mapped_column(String())  # the latest valuation, JSON

    # The catalogued dataset registered, if any: the catalog's row, read as the catalog keeps it.
    dataset: Mapped[Dataset | None] = relationship("Dataset", lazy="joined")
