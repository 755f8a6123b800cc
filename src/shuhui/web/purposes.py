"""The data channel's approved purposes as the trust layer needs them (`trust.authorisations.
purposes.ApprovedPurposes`): a person authorising a consumer picks one of these, word for word."""

from __future__ import annotations

from sqlalchemy.orm import Session

from shuhui.channel import grants
from shuhui.channel.city import CityChannel
from shuhui.trust.authorisations.purposes import ApprovedPurpose


class ChannelPurposes:
    def __init__(self, city: CityChannel) -> None:
        self.city = city

    def approved(self, db: Session) -> list[ApprovedPurpose]:
        return [
            ApprovedPurpose(
                credit_code=row["credit_code"],
                consumer_name=row["consumer_name"],
                purpose=row["purpose"],
                products=tuple(row["products"]),
                certificate_types=tuple(row["certificate_types"]),
            )
            for row in grants.approved_purposes(db, self.city)
        ]
