"""What moving an image produced: where it went and the digest checked at both ends."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Transport = Literal["oras", "unicore", "rsync"]


class ShipResult(BaseModel):
    """One image moved by one transport, with the digest that both ends agreed on."""

    image: str
    destination: str
    transport: Transport
    digest: str
    size: int
    verified: bool
    manifest_digest: str | None = None
