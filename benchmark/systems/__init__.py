"""Multi-stream systems built from single-stream runs: two-stream, hybrid and deep fusion."""
