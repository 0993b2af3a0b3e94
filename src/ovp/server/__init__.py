"""The HTTP server under the app: Granian's options from ovp's settings, its workers and their supervision."""
