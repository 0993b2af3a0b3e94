"""What every process of `ovp serve` shares (its log lines, its tie to the server's process), and
the webhook sender's own process beside the workers."""
