"""Pure rules: profiles, their defaults and validation, listing and ids. No I/O here."""
