"""ovp's OpenAPI document: it holds Telnyx's contract, documents every route, and the server keeps to it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from ovp.api.app import OvpApp
from ovp.api.documents import OPENAPI_PATH, DuplicateKey, load_strict, openapi_document

CONTRACT = Path(__file__).parents[2] / "contract" / "telnyx-outbound-voice-profiles.openapi.yml"
SHARED_CONTRACT = Path(__file__).parents[3] / "shared" / "contract" / CONTRACT.name
METHODS = {"get", "post", "put", "patch", "delete", "head", "options"}


def contract() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(CONTRACT.read_text())
    return document


@pytest.mark.skipif(not SHARED_CONTRACT.exists(), reason="no shared/ checkout beside the project")
def test_the_project_copy_of_the_contract_is_current() -> None:
    assert CONTRACT.read_text() == SHARED_CONTRACT.read_text()


def test_served_document_is_the_one_in_the_package(client: TestClient) -> None:
    response = client.get("/v2/openapi.json")
    assert response.status_code == 200
    assert response.json() == openapi_document()


def test_every_contract_operation_is_served_as_the_contract_says() -> None:
    ours = openapi_document()
    for path, operations in contract()["paths"].items():
        for method, operation in operations.items():
            served = ours["paths"]["/v2" + path][method]
            assert served["operationId"] == operation["operationId"]
            for parameter in operation.get("parameters", []):
                assert parameter in served["parameters"]
            assert served.get("requestBody") == operation.get("requestBody")
            for status, response in operation["responses"].items():
                assert status in served["responses"]
                if "content" in response:
                    assert served["responses"][status]["content"] == response["content"]


def _untitled(schema: Any) -> Any:
    return {key: value for key, value in schema.items() if key != "title"} if isinstance(schema, dict) else schema


def test_contract_components_are_unchanged_but_for_their_titles() -> None:
    """The contract gives its create and update requests the profile's own title; ovp's document
    gives each schema a title of its own (a reader of /docs tells them apart by it), and nothing
    else differs."""
    ours = openapi_document()["components"]
    for kind, entries in contract()["components"].items():
        for name, entry in entries.items():
            assert _untitled(ours[kind][name]) == _untitled(entry), f"{kind}/{name} differs from the contract"


def test_every_schema_has_a_title_of_its_own() -> None:
    titles = [schema["title"] for schema in openapi_document()["components"]["schemas"].values() if "title" in schema]
    assert sorted(title for title in set(titles) if titles.count(title) > 1) == []


def test_every_route_is_documented_and_every_documented_operation_is_routed(client: TestClient) -> None:
    # `client` serves in open mode, so the admin surface is routed too.
    app: OvpApp = client.app  # type: ignore[assignment]
    routed = {
        (route.pattern.pattern, method.lower()) for route in app.router.routes if route.in_api
        for method in route.handlers
    }
    documented = set()
    for path, operations in openapi_document()["paths"].items():
        match = app.router.match(path.replace("{id}", "1"))
        assert match is not None, f"{path} is documented but not routed"
        documented |= {(match.route.pattern.pattern, method) for method in operations if method in METHODS}
    assert routed == documented


def test_the_document_names_no_key_twice() -> None:
    """YAML keeps the last of two equal keys: a second copy of a path would be served silently."""
    load_strict(OPENAPI_PATH.read_text())  # raises on a repeated key
    with pytest.raises(DuplicateKey, match="'/v2/ips' is repeated at line 4"):
        load_strict("paths:\n  /v2/ips:\n    get: {}\n  /v2/ips:\n    post: {}\n")
