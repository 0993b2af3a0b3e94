"""The official Telnyx Python SDK's own generated tests (`tests/api_resources` of its source
distribution), run against a real `ovp serve`: `make sdk-tests`, or `python -m tests.sdk_generated`.

Not part of `make test`: it fetches the sdist and builds a virtualenv of its own once, and runs over
a thousand tests one at a time against one account that each test resets and seeds.
"""
