"""What the Loyalty API returns, as typed models."""

from __future__ import annotations

import hashlib
from typing import Any

import msgspec
from pydantic import ConfigDict, Field, TypeAdapter, field_validator
from pydantic.dataclasses import dataclass

DRAFT = "draft"
PUBLISHED = "published"

# Slotted dataclasses rather than BaseModel: a large program's customers must fit in a
# small worker, and a slotted record is a fraction of a model's size.
# A number where the API documents text (a phone typed into a spreadsheet and imported,
# say) is read as its digits: one such customer must not make the whole list unreadable.
_api_model = dataclass(
    slots=True,
    frozen=True,
    config=ConfigDict(populate_by_name=True, extra="ignore", coerce_numbers_to_str=True),
)


def _empty_if_null(value: object) -> object:
    return "" if value is None else value


@_api_model
class Customer:
    id: int
    first_name: str = Field("", alias="firstName")
    last_name: str = Field("", alias="lastName")
    email: str = ""
    phone: str = ""
    points: int = 0
    human_name: str = Field("", alias="humanName")

    _blank_to_empty = field_validator(
        "first_name", "last_name", "email", "phone", "human_name", mode="before"
    )(_empty_if_null)

    @field_validator("points", mode="before")
    @classmethod
    def _null_points(cls, value: object) -> object:
        return 0 if value is None else value

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name.strip(), self.last_name.strip()) if p)

    @property
    def display_name(self) -> str:
        return self.human_name or self.full_name or f"Anónimo #{self.id}"

    def content_hash(self) -> str:
        """Changes when any field a form edits changes (points are not in the form)."""
        return _digest(self.first_name, self.last_name, self.email, self.phone)


@_api_model
class Offer:
    id: int
    name: str = ""
    description: str = ""
    points_cost: int = Field(0, alias="pointsCost")
    auto_claim: bool = Field(False, alias="autoClaim")
    status: str = "Draft"

    _blank_to_empty = field_validator("name", "description", "status", mode="before")(
        _empty_if_null
    )

    @field_validator("points_cost", mode="before")
    @classmethod
    def _null_cost(cls, value: object) -> object:
        return 0 if value is None else value

    @field_validator("auto_claim", mode="before")
    @classmethod
    def _null_auto_claim(cls, value: object) -> object:
        return False if value is None else value

    @property
    def status_key(self) -> str:
        """The status compared case-insensitively ("Draft" == "draft")."""
        return self.status.strip().lower()

    @property
    def is_draft(self) -> bool:
        return self.status_key == DRAFT

    @property
    def is_published(self) -> bool:
        return self.status_key == PUBLISHED

    def content_hash(self) -> str:
        return _digest(self.name, self.description, self.points_cost, self.auto_claim, self.status)

    def with_status(self, status: str) -> Offer:
        """The same offer in another status (after a publish or cancel answered 2xx)."""
        return _OFFER.validate_python({**_OFFER.dump_python(self, by_alias=True), "status": status})

    @property
    def is_canceled(self) -> bool:
        # The spec never names the canceled state; accept either spelling.
        return self.status_key.startswith("cancel")


def _digest(*parts: object) -> str:
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


_CUSTOMER = TypeAdapter(Customer)
_OFFER = TypeAdapter(Offer)


def parse_customer(data: Any) -> Customer:
    return _CUSTOMER.validate_python(data)


def parse_offer(data: Any) -> Offer:
    return _OFFER.validate_python(data)


def json_array(body: bytes) -> list[Any]:
    """A list as the API sends it: a JSON array, or an object wrapping it under `data`."""
    try:
        data = msgspec.json.decode(body)
    except msgspec.DecodeError:
        raise ValueError("not JSON") from None
    if isinstance(data, dict) and isinstance(data.get("data"), list):
        data = data["data"]
    if not isinstance(data, list):
        raise ValueError("not a JSON array")
    return data
