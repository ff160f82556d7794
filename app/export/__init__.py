"""The evidence pack (DESIGN §6): what reaches the police, readable and checkable by anyone."""
