"""Spark jobs: pure DataFrame transforms, each with a thin ``main`` that reads and writes the lake."""
