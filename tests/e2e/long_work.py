"""A 65,535-line rate deck imported while GETs of one profile run, for the long-work test and
`python -m bench.long_work`."""

from __future__ import annotations

import threading
import time

import httpx

DECK_LINES = 65_535
PROFILES = "/v2/outbound_voice_profiles"


def deck() -> str:
    return "prefix,rate\n" + "".join(f"{1_000_000 + n},0.0{n % 1000:03d}\n" for n in range(DECK_LINES))


def gets_beside_an_import(origin: str, token: str) -> tuple[list[float], httpx.Response]:
    """The latencies (s) of GETs of one profile, one after another, while a whole deck is imported
    on another connection; and the import's answer."""
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=origin, headers=headers, timeout=60.0) as client:
        profile = client.post(PROFILES, json={"name": "read meanwhile"}).json()["data"]
        content = deck()
        latencies: list[float] = []
        importing = threading.Event()
        imported: list[httpx.Response] = []

        def import_deck() -> None:
            with httpx.Client(base_url=origin, headers=headers, timeout=60.0) as importer:
                importing.set()
                imported.append(importer.put("/ovp/rates", content=content, headers={"Content-Type": "text/csv"}))

        worker = threading.Thread(target=import_deck)
        worker.start()
        importing.wait(10)
        while worker.is_alive():
            began = time.monotonic()
            response = client.get(f"{PROFILES}/{profile['id']}")
            latencies.append(time.monotonic() - began)
            response.raise_for_status()
        worker.join()
    return latencies, imported[0]


def gets_alone(origin: str, token: str, count: int) -> list[float]:
    """The latencies (s) of `count` GETs of one profile with nothing else under way: the ceiling."""
    with httpx.Client(base_url=origin, headers={"Authorization": f"Bearer {token}"}, timeout=60.0) as client:
        profile = client.post(PROFILES, json={"name": "read alone"}).json()["data"]
        latencies = []
        for _ in range(count):
            began = time.monotonic()
            client.get(f"{PROFILES}/{profile['id']}").raise_for_status()
            latencies.append(time.monotonic() - began)
    return latencies
