"""The HTTP edge: routing, authentication, parsing, the Telnyx error envelope and serialisation."""
