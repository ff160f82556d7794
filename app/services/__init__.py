"""Domain logic, one module per domain noun. Services flush; the request commits."""
