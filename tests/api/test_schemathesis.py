"""Property-based runs of the server against Telnyx's contract and against ovp's own document.

Bounded and seeded, so every run is the same run: no 5xx, and every response that a document
describes matches its schema.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.testclient import TestClient

from ovp.api.app import create_app
from ovp.api.documents import openapi_document
from ovp.config import Settings
from tests.api.test_openapi import CONTRACT

SEED = 20261127
EXAMPLES = 40
HEADERS = {"Authorization": "Bearer schemathesis"}

# The schemas need an ASGI app to choose their transport; each test passes the app of its backend.
loading_app = create_app(Settings(database_url="sqlite:///:memory:", auth="open"))
contract_schema = schemathesis.openapi.from_path(CONTRACT)
contract_schema.app = loading_app
# The admin surface is left out: an armed fault would make the following requests fail on purpose.
ovp_schema = schemathesis.openapi.from_dict(openapi_document()).exclude(path_regex="^/_ovp/")
ovp_schema.app = loading_app

CONTRACT_CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
# ovp's own document lists every status ovp answers with, so it is held to that too.
OVP_CHECKS = [*CONTRACT_CHECKS, status_code_conformance]

@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    """The app of the backend, with no work in the background (no sender, no expiry sweep):
    schemathesis runs the app's lifespan again on loops of its own, and a task at work on this
    client's loop would share the database's connections across the two."""
    app = create_app(Settings(database_url=database_url, auth="open", rehearse_writes=True, send_webhooks=False,
                              sweep_expiry=False))
    with TestClient(app) as test_client:
        yield test_client


SETTINGS = hypothesis.settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=list(hypothesis.HealthCheck),
)


@contract_schema.parametrize()
@SETTINGS
@hypothesis.seed(SEED)
def test_server_keeps_to_the_telnyx_contract(case: Any, client: TestClient) -> None:
    case.call_and_validate(base_url="http://localhost/v2", headers=HEADERS, checks=CONTRACT_CHECKS, app=client.app)


@ovp_schema.parametrize()
@SETTINGS
@hypothesis.seed(SEED)
def test_server_keeps_to_its_own_document(case: Any, client: TestClient) -> None:
    case.call_and_validate(base_url="http://localhost", headers=HEADERS, checks=OVP_CHECKS, app=client.app)
