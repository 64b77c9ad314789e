"""Synthetic district generator: every source export in the shared formats, with planted cases,
look-alike traps and a truth file (see docs/synth.md)."""
