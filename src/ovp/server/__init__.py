"""The HTTP server under the app: connection limits and timeouts, workers, logging."""
