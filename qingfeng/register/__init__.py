"""The clue register: where detection becomes supervision (see docs/register.md).

Keep this module light: the CLI imports the package at start-up.
"""
