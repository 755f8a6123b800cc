"""What the asset registry's API routes and pages both take from a request: who may apply or
review, the data directory (certificates are sealed with keys kept there), the registrar."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from shuhui.assets import service
from shuhui.trust.identity.deps import require_role
from shuhui.trust.identity.models import User
from shuhui.trust.identity.roles import Role

Applicant = Annotated[
    User, Depends(require_role(Role.data_operator, Role.enterprise, Role.officer))
]
Operator = Annotated[User, Depends(require_role(Role.data_operator))]


def data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def registrar(request: Request) -> service.Registrar:
    found: service.Registrar = request.app.state.asset_registrar
    return found
