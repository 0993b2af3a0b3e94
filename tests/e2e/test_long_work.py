"""Long work never stalls other requests: while a 65,535-line rate deck is imported, GETs of a
profile keep answering within milliseconds, on both backends."""

from __future__ import annotations

import statistics
import threading
import time

import httpx
import pytest

from tests.e2e.servers import PROFILES, OvpServer

pytestmark = [pytest.mark.e2e, pytest.mark.alone]

DECK_LINES = 65_535
GET_P99_S = 0.020


def _deck() -> str:
    return "prefix,rate\n" + "".join(f"{1_000_000 + n},0.0{n % 1000:03d}\n" for n in range(DECK_LINES))


def test_a_whole_deck_imported_beside_gets_stalls_none_of_them(server: OvpServer, account: str) -> None:
    with server.http(account) as client:
        profile = client.post(PROFILES, json={"name": "read meanwhile"}).json()["data"]
        deck = _deck()
        latencies: list[float] = []
        importing = threading.Event()
        imported: list[httpx.Response] = []

        def import_deck() -> None:
            with server.http(account) as importer:
                importing.set()
                imported.append(importer.put("/ovp/rates", content=deck, headers={"Content-Type": "text/csv"},
                                             timeout=60.0))

        worker = threading.Thread(target=import_deck)
        worker.start()
        importing.wait(10)
        while worker.is_alive():
            began = time.monotonic()
            response = client.get(f"{PROFILES}/{profile['id']}")
            latencies.append(time.monotonic() - began)
            assert response.status_code == 200
        worker.join()

    assert imported[0].status_code == 200, imported[0].text
    assert imported[0].json()["data"]["rates_count"] == DECK_LINES
    assert len(latencies) >= 20, f"the import took too little time to measure: {len(latencies)} GETs"
    p99 = statistics.quantiles(latencies, n=100)[98]
    assert p99 < GET_P99_S, f"GET p99 {p99 * 1000:.1f} ms over {len(latencies)} GETs during the import"
