"""The sandbox's data and the rules of the spec, with no HTTP in sight."""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field
from typing import Any

DRAFT, PUBLISHED, CANCELED = "Draft", "Published", "Canceled"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,}$")


class SandboxError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None):
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"message": message}
        if errors:
            self.body["errors"] = errors


def _field_error(field_name: str, reason: str) -> SandboxError:
    return SandboxError(422, f"Invalid {field_name}", [{"field": field_name, "reasons": [reason]}])


def human_name(customer: dict[str, Any]) -> str:
    name = " ".join(
        p
        for p in (
            str(customer.get("firstName") or "").strip(),
            str(customer.get("lastName") or "").strip(),
        )
        if p
    )
    return name or f"Anónimo #{customer['id']}"


@dataclass
class Program:
    id: int
    customers: dict[int, dict[str, Any]] = field(default_factory=dict)
    offers: dict[int, dict[str, Any]] = field(default_factory=dict)
    next_id: int = 7_000_000_000_000_000


class SandboxState:
    """Programs keyed by id; every method runs under one lock, like one database row lock."""

    def __init__(self, app_key: str) -> None:
        self.app_key = app_key  # opens every program without a key of its own (the demo's)
        self.programs: dict[int, Program] = {}
        self.program_keys: dict[str, int] = {}  # a shop's own key opens its own program
        self.lock = threading.RLock()

    def add_program(self, program_id: int, app_key: str) -> Program:
        """Another shop's program, opened only by its own App Key."""
        with self.lock:
            program = self.programs.setdefault(program_id, Program(program_id))
            self.program_keys[app_key] = program_id
            return program

    def opens(self, app_key: str | None, program_id: int) -> int:
        """200 if `app_key` may use the program, 403 for an unknown key, 404 for a
        program the key does not know (as Smart Passes answers another shop's id). A shop
        added with a key of its own is opened by that key only."""
        if app_key == self.app_key:
            return 404 if program_id in self.program_keys.values() else 200
        if app_key not in self.program_keys:
            return 403
        return 200 if self.program_keys[app_key] == program_id else 404

    def program(self, program_id: int) -> Program:
        try:
            return self.programs[program_id]
        except KeyError:
            raise SandboxError(404, "Program not found") from None

    def _new_id(self, program: Program) -> int:
        program.next_id += 1
        return program.next_id

    # -- customers -------------------------------------------------------

    def add_customer(
        self,
        program_id: int,
        data: dict[str, Any],
        *,
        customer_id: int | None = None,
        points: int = 0,
    ) -> dict[str, Any]:
        with self.lock:
            program = self.program(program_id)
            fields = self._customer_fields(program, data, None)
            cid = customer_id if customer_id is not None else self._new_id(program)
            customer = {
                "id": cid,
                "firstName": "",
                "lastName": "",
                "email": "",
                "phone": "",
                "points": points,
            }
            customer.update(fields)
            customer["humanName"] = human_name(customer)
            program.customers[cid] = customer
            return dict(customer)

    def customer(self, program_id: int, customer_id: int) -> dict[str, Any]:
        with self.lock:
            customers = self.program(program_id).customers
            if customer_id not in customers:
                raise SandboxError(404, "Customer not found")
            return dict(customers[customer_id])

    def update_customer(
        self, program_id: int, customer_id: int, data: dict[str, Any]
    ) -> dict[str, Any]:
        with self.lock:
            program = self.program(program_id)
            self.customer(program_id, customer_id)
            fields = self._customer_fields(program, data, customer_id)
            if "points" in data:
                fields["points"] = _whole(data["points"], "points", minimum=0)
            customer = program.customers[customer_id]
            customer.update(fields)
            customer["humanName"] = human_name(customer)
            return dict(customer)

    def add_points(self, program_id: int, customer_id: int, data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.customer(program_id, customer_id)
            points = _whole(data.get("points"), "points", minimum=1)
            customer = self.programs[program_id].customers[customer_id]
            customer["points"] += points
            return dict(customer)

    def delete_customer(self, program_id: int, customer_id: int) -> None:
        with self.lock:
            self.customer(program_id, customer_id)
            del self.programs[program_id].customers[customer_id]

    def _customer_fields(
        self, program: Program, data: dict[str, Any], own_id: int | None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}
        for name in ("firstName", "lastName", "email", "phone"):
            if name not in data:
                continue
            value = data[name]
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise _field_error(name, "Must be a string")
            value = value.strip()
            if len(value) > 100:
                raise _field_error(name, "Too long")
            fields[name] = value
        email, phone = fields.get("email", ""), fields.get("phone", "")
        if email and not _EMAIL.match(email):
            raise _field_error("email", "Invalid email address")
        if phone and not _PHONE.match(phone):
            raise _field_error("phone", "Invalid phone number")
        digits = "".join(ch for ch in phone if ch.isdigit())
        for other in program.customers.values():
            if other["id"] == own_id:
                continue
            if email and other["email"].lower() == email.lower():
                raise _field_error("email", "Email already taken")
            if digits and "".join(ch for ch in other["phone"] if ch.isdigit()) == digits:
                raise _field_error("phone", "Phone number already taken")
        return fields

    # -- offers ----------------------------------------------------------

    def add_offer(
        self,
        program_id: int,
        data: dict[str, Any],
        *,
        offer_id: int | None = None,
        status: str = DRAFT,
    ) -> dict[str, Any]:
        with self.lock:
            program = self.program(program_id)
            fields = _offer_fields(data, creating=True)
            oid = offer_id if offer_id is not None else self._new_id(program)
            offer = {
                "id": oid,
                "name": "",
                "description": "",
                "pointsCost": 0,
                "autoClaim": False,
                "status": status,
            }
            offer.update(fields)
            program.offers[oid] = offer
            return dict(offer)

    def offers(self, program_id: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(o) for o in self.program(program_id).offers.values()]

    def _offer(self, program_id: int, offer_id: int) -> dict[str, Any]:
        offers = self.program(program_id).offers
        if offer_id not in offers:
            raise SandboxError(404, "Offer not found")
        return offers[offer_id]

    def update_offer(self, program_id: int, offer_id: int, data: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            offer = self._offer(program_id, offer_id)
            offer.update(_offer_fields(data, creating=False))
            return dict(offer)

    def delete_offer(self, program_id: int, offer_id: int) -> None:
        with self.lock:
            offer = self._offer(program_id, offer_id)
            if offer["status"] != DRAFT:
                raise SandboxError(
                    422, f"Only Draft offers can be deleted; this one is {offer['status']}"
                )
            del self.programs[program_id].offers[offer_id]

    def transition_offer(self, program_id: int, offer_id: int, verb: str) -> dict[str, Any]:
        source, target = {"publish": (DRAFT, PUBLISHED), "cancel": (PUBLISHED, CANCELED)}[verb]
        with self.lock:
            offer = self._offer(program_id, offer_id)
            if offer["status"] != source:
                raise SandboxError(
                    422,
                    f"Only {source} offers can be {target.lower()}; this one is {offer['status']}",
                )
            offer["status"] = target
            return dict(offer)


def _whole(value: Any, name: str, *, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _field_error(name, "Must be a whole number")
    if value < minimum:
        raise _field_error(name, f"Must be at least {minimum}")
    return value


def _offer_fields(data: dict[str, Any], *, creating: bool) -> dict[str, Any]:
    fields: dict[str, Any] = {}
    if creating or "name" in data:
        name = data.get("name")
        if not isinstance(name, str) or not name.strip():
            raise _field_error("name", "Name is required")
        if len(name) > 150:
            raise _field_error("name", "Too long")
        fields["name"] = name.strip()
    if "description" in data:
        description = data["description"] if data["description"] is not None else ""
        if not isinstance(description, str) or len(description) > 2000:
            raise _field_error("description", "Must be text of at most 2000 characters")
        fields["description"] = description
    if "pointsCost" in data:
        fields["pointsCost"] = _whole(data["pointsCost"], "pointsCost", minimum=0)
    if "autoClaim" in data:
        if not isinstance(data["autoClaim"], bool):
            raise _field_error("autoClaim", "Must be true or false")
        fields["autoClaim"] = data["autoClaim"]
    return fields
