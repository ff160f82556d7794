"""The evidence pack: what reaches the police, readable and checkable by anyone
(docs/architecture.md, "The evidence pack"; docs/adr/0006-pack-format.md)."""
