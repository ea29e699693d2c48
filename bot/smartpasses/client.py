"""The one adapter for the Smart Passes Loyalty API (see shared spec).

Quirks of the spec honoured here: the App Key goes raw in `Authorization`
(no "Bearer"), customer update is PUT, offer update is POST to the offer URL.

Reads (GET) are retried with backoff, honouring Retry-After. A change (POST, PUT,
DELETE) is sent once and its answer classified:
- refused (400, 403, 404, 422): not applied, raised as ValidationFailed,
  AuthenticationFailed or NotFound;
- never sent (no connection could be made): not applied, ApiUnavailable;
- anything else once it was sent (5xx, 429, a timeout, a dropped connection, an
  unreadable body): OutcomeUnknown, for the caller to settle by re-reading.
A change that answers 2xx without the record it should return gives None: the caller
reads the record to learn the new state.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
from pydantic import SecretStr, ValidationError

from bot.domain.errors import (
    ApiUnavailable,
    AuthenticationFailed,
    LoyaltyAPIError,
    NotFound,
    OutcomeUnknown,
    RateLimited,
    ServerError,
    UnexpectedResponse,
    ValidationFailed,
)
from bot.domain.say import N_, Say
from bot.smartpasses.models import Customer, Offer, json_array
from bot.smartpasses.models import parse_customer as _parse_customer
from bot.smartpasses.models import parse_offer as _parse_offer
from bot.smartpasses.pool import with_linear_pool

log = logging.getLogger(__name__)

T = TypeVar("T")

RETRIED_METHODS = frozenset({"GET"})
MAX_RETRY_WAIT = 10.0


@dataclass
class ApiHealth:
    """The last time Smart Passes answered well, and the last time it did not."""

    last_answer: dt.datetime | None = None
    last_failure: dt.datetime | None = None
    failure: str = ""

    def answered(self) -> None:
        self.last_answer = dt.datetime.now(dt.UTC)

    def failed(self, what: str) -> None:
        self.last_failure, self.failure = dt.datetime.now(dt.UTC), what

    def report(self) -> dict[str, Any]:
        if self.last_failure and (not self.last_answer or self.last_failure > self.last_answer):
            state = "failing"
        else:
            state = "answering" if self.last_answer else "not asked yet"
        return {
            "state": state,
            "last_answer": _iso(self.last_answer),
            "last_failure": _iso(self.last_failure),
            "failure": self.failure or None,
        }


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment else None


def program_key(base_url: str, program_id: int) -> str:
    """`1001@pass.smartpasses.io/api/v1/loyalty`: a program, wherever it is reached from."""
    place = base_url.split("://", 1)[-1].rstrip("/").lower()
    return f"{int(program_id)}@{place}"


def shared_http(
    timeout: float = 10.0, transport: httpx.BaseTransport | None = None
) -> httpx.Client:
    """The connection pool to the Loyalty API (one per process in OAuth mode, shared by
    every workspace's client; bot.smartpasses.pool says why it is not httpx's own)."""
    client = httpx.Client(
        timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
        transport=transport,
        limits=httpx.Limits(max_connections=256, max_keepalive_connections=256),
    )
    return with_linear_pool(client)


class LoyaltyClient:
    def __init__(
        self,
        *,
        app_key: SecretStr | str,
        program_id: int,
        base_url: str = "https://pass.smartpasses.io/api/v1/loyalty/",
        timeout: float = 10.0,
        transport: httpx.BaseTransport | None = None,
        http: httpx.Client | None = None,
        max_retries: int = 2,
        backoff: float = 0.5,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        key = app_key.get_secret_value() if isinstance(app_key, SecretStr) else app_key
        self.program_id = int(program_id)
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.max_retries = max_retries
        self.backoff = backoff
        self.health = ApiHealth()
        self._sleep = sleep
        # Sent with each request, not kept on the connection pool: one pool (`http`) can
        # serve every workspace's program, each with its own key.
        self._headers = {"Authorization": key, "Accept": "application/json"}
        self._owns_http = http is None
        self._http = http or shared_http(timeout, transport)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> LoyaltyClient:
        app_key, program_id = settings.program()
        return cls(
            app_key=app_key,
            program_id=program_id,
            base_url=settings.smartpasses_base_url,
            timeout=settings.smartpasses_timeout,
            **kwargs,
        )

    def __repr__(self) -> str:
        return f"LoyaltyClient(base_url={self.base_url!r}, program_id={self.program_id})"

    @property
    def program(self) -> str:
        """Which program this client changes, the same for every workspace connected to
        it: its id and where the API lives (the scope of locks and fences)."""
        return program_key(self.base_url, self.program_id)

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> LoyaltyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- customers -------------------------------------------------------

    def list_customers(self, parse: Callable[[bytes], T]) -> T:
        """The whole customer list, parsed by `parse` (the customer index's
        `CustomerList.from_json`: the list's shape in memory is the index's business)."""
        result: T = self._list("customers", parse)
        return result

    def list_customers_body(self, keep: Callable[[Iterator[bytes]], Any] = b"".join) -> Any:
        """The customer list as the API sent it, unparsed (a builder process parses it:
        bot.core.index.builder): its pieces, as they arrive, handed to `keep`, which
        returns what the builder takes (by default they are joined into one bytes object;
        the builder's own writes them to a file instead: a large list joined in one piece
        holds the interpreter while it is copied)."""
        return self._list("customers", keep, pieces=True)

    def get_customer(self, customer_id: int) -> Customer:
        data = self._request("GET", f"customers/{int(customer_id)}", what="That customer")
        return parse_customer(data)

    def create_customer(
        self, *, first_name: str = "", last_name: str = "", email: str = "", phone: str = ""
    ) -> Customer | None:
        body = {"firstName": first_name, "lastName": last_name, "email": email, "phone": phone}
        return _record_or_none(self._request("POST", "customers", json=body), parse_customer)

    def update_customer(self, customer_id: int, **fields: Any) -> Customer | None:
        """PUT the given fields (firstName, lastName, email, phone, points)."""
        body = {_CUSTOMER_FIELDS.get(k, k): v for k, v in fields.items()}
        data = self._request(
            "PUT", f"customers/{int(customer_id)}", json=body, what="That customer"
        )
        return _record_or_none(data, parse_customer)

    def delete_customer(self, customer_id: int) -> None:
        self._request("DELETE", f"customers/{int(customer_id)}", what="That customer")

    def add_points(self, customer_id: int, points: int) -> Customer | None:
        data = self._request(
            "POST",
            f"customers/{int(customer_id)}/points/add",
            json={"points": int(points)},
            what="That customer",
        )
        return _record_or_none(data, parse_customer)

    # -- offers ----------------------------------------------------------

    def list_offers(self) -> list[Offer]:
        return self._list("offers", _offers_from_json)

    def get_offer(self, offer_id: int) -> Offer:
        """The spec has no single-offer GET: read the list and pick it."""
        for offer in self.list_offers():
            if offer.id == int(offer_id):
                return offer
        raise NotFound(N_("That offer"))

    def create_offer(
        self, *, name: str, description: str = "", points_cost: int = 0, auto_claim: bool = False
    ) -> Offer | None:
        body = {
            "name": name,
            "description": description,
            "pointsCost": int(points_cost),
            "autoClaim": bool(auto_claim),
        }
        return _record_or_none(self._request("POST", "offers", json=body), parse_offer)

    def update_offer(self, offer_id: int, **fields: Any) -> Offer | None:
        """POST (sic, per the spec) the given fields: name, description, pointsCost, autoClaim."""
        body = {_OFFER_FIELDS.get(k, k): v for k, v in fields.items()}
        data = self._request("POST", f"offers/{int(offer_id)}", json=body, what="That offer")
        return _record_or_none(data, parse_offer)

    def delete_offer(self, offer_id: int) -> None:
        self._request("DELETE", f"offers/{int(offer_id)}", what="That offer")

    def publish_offer(self, offer_id: int) -> Offer | None:
        return self._offer_transition(offer_id, "publish")

    def cancel_offer(self, offer_id: int) -> Offer | None:
        return self._offer_transition(offer_id, "cancel")

    # -- plumbing --------------------------------------------------------

    def _offer_transition(self, offer_id: int, verb: str) -> Offer | None:
        data = self._request("POST", f"offers/{int(offer_id)}/{verb}", what="That offer")
        return _record_or_none(data, parse_offer)

    def _list(
        self, collection: str, parse_body: Callable[[Any], Any], *, pieces: bool = False
    ) -> Any:
        """The whole list read, then parsed (in C, by the parser given): the body is held
        only for a moment; the parsed list keeps a fraction of it.
        With `pieces`, `parse_body` is given the body's pieces as they arrive instead."""

        def parse(response: httpx.Response) -> Any:
            try:
                return parse_body(response.iter_bytes() if pieces else response.read())
            except ValueError:
                raise UnexpectedResponse(response.status_code) from None

        return self._request("GET", collection, what="The loyalty program", parse=parse)

    def _request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        what: str = "That record",
        parse: Callable[[httpx.Response], Any] | None = None,
    ) -> Any:
        if method not in RETRIED_METHODS:
            return self._send_change(method, path, json, what)
        url = f"programs/{self.program_id}/{path}"
        attempt = 0
        while True:
            try:
                response = self._send(self._build(method, url, json), stream=True)
                try:
                    if response.status_code < 400:
                        return parse(response) if parse else _json_or_none(response)
                    response.read()
                finally:
                    response.close()
            except httpx.TimeoutException as exc:
                error: LoyaltyAPIError = ApiUnavailable(N_("did not answer in time"))
                cause: Exception = exc
            except httpx.TransportError as exc:
                error, cause = ApiUnavailable(), exc
            else:
                error = _error_for(response, what)
                cause = error
                if not isinstance(error, RateLimited | ServerError):
                    raise error
            if attempt >= self.max_retries:
                raise error from None
            wait = self._wait_before_retry(attempt, error)
            if wait is None:
                raise error from None
            attempt += 1
            log.info(
                "loyalty api %s %s failed (%s), retry %d in %.1fs",
                method,
                path,
                type(cause).__name__,
                attempt,
                wait,
            )
            self._sleep(wait)

    def _send_change(self, method: str, path: str, json: Any, what: str) -> Any:
        """Send a change exactly once and classify the answer (see the module doc)."""
        url = f"programs/{self.program_id}/{path}"
        try:
            response = self._send(self._build(method, url, json))
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout):
            raise ApiUnavailable() from None  # it never left: nothing was applied
        except httpx.TimeoutException:
            raise OutcomeUnknown(
                cause=N_("Smart Passes did not answer in time"), answered=False
            ) from None
        except httpx.TransportError:
            raise OutcomeUnknown(
                cause=N_("the connection dropped before Smart Passes answered"), answered=False
            ) from None
        status = response.status_code
        if 200 <= status < 300:
            return _json_or_none(response)
        if status in DEFINITE_REFUSALS:
            raise _error_for(response, what)
        raise OutcomeUnknown(cause=f"Smart Passes answered HTTP {status}")

    def _build(self, method: str, url: str, json: Any) -> httpx.Request:
        return self._http.build_request(
            method, self.base_url + url, json=json, headers=self._headers
        )

    def _send(self, request: httpx.Request, *, stream: bool = False) -> httpx.Response:
        """Send, and remember how Smart Passes fared (for /healthz, which never calls it)."""
        try:
            response = self._http.send(request, stream=stream)
        except httpx.TransportError as exc:
            self.health.failed(type(exc).__name__)
            raise
        status = response.status_code
        if status >= 500 or status in (401, 403, 429):
            self.health.failed(f"HTTP {status}")
        else:
            self.health.answered()
        return response

    def _wait_before_retry(self, attempt: int, error: LoyaltyAPIError) -> float | None:
        if isinstance(error, RateLimited) and error.retry_after is not None:
            return error.retry_after if error.retry_after <= MAX_RETRY_WAIT else None
        return self.backoff * (2**attempt) * (1 + random.random() / 4)


# The answers that prove a change was not applied: the request was refused as it stood.
DEFINITE_REFUSALS = frozenset({400, 401, 403, 404, 422})

_CUSTOMER_FIELDS = {"first_name": "firstName", "last_name": "lastName"}
_OFFER_FIELDS = {"points_cost": "pointsCost", "auto_claim": "autoClaim"}


def parse_customer(data: Any) -> Customer:
    try:
        return _parse_customer(data)
    except ValidationError:
        raise UnexpectedResponse(200) from None


def parse_offer(data: Any) -> Offer:
    try:
        return _parse_offer(data)
    except ValidationError:
        raise UnexpectedResponse(200) from None


def _record_or_none(data: Any, parse: Callable[[Any], Any]) -> Any:
    """The record a change answered with, or None when the answer carries none usable."""
    if not (isinstance(data, dict) and "id" in data):
        return None
    try:
        return parse(data)
    except UnexpectedResponse:
        return None


def _offers_from_json(body: bytes) -> list[Offer]:
    return [parse_offer(item) for item in json_array(body)]


def _json_or_none(response: httpx.Response) -> Any:
    if not response.read():
        return None
    try:
        return response.json()
    except ValueError:
        return None


def _error_for(response: httpx.Response, what: str) -> LoyaltyAPIError:
    status = response.status_code
    if status in (400, 422):
        return _validation_error(response)
    if status in (401, 403):
        return AuthenticationFailed()
    if status == 404:
        return NotFound(what)
    if status == 429:
        return RateLimited(_retry_after(response))
    if status >= 500:
        return ServerError(status)
    return UnexpectedResponse(status)


def _validation_error(response: httpx.Response) -> ValidationFailed:
    body = _json_or_none(response)
    message: str | Say = Say("Smart Passes refused the data.")
    fields: dict[str, list[str]] = {}
    if isinstance(body, dict):
        text = body.get("message") or body.get("error") or body.get("detail")
        if isinstance(text, str) and text.strip():
            message = text.strip()  # Smart Passes' words: outside text, shown inert
        errors = body.get("errors")
        if isinstance(errors, list):
            for item in errors:
                if isinstance(item, dict) and item.get("field"):
                    reasons = item.get("reasons") or item.get("messages") or []
                    if isinstance(reasons, str):
                        reasons = [reasons]
                    fields.setdefault(str(item["field"]), []).extend(str(r) for r in reasons)
    elif response.text.strip() and len(response.text) < 300:
        message = response.text.strip()
    return ValidationFailed(message, fields, status_code=response.status_code)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
