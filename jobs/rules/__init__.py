"""The rule catalogue (S01–S07, E01–E07, A01–A05, P01–P05) as pure Spark transforms."""
