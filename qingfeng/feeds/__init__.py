"""Declarative source feeds: one YAML file per agency export (see ``feeds/``)."""

from qingfeng.feeds.model import ColumnSpec, FeedSpec, FileSpec, RowCheck, load_feed, load_feeds

__all__ = ["ColumnSpec", "FeedSpec", "FileSpec", "RowCheck", "load_feed", "load_feeds"]
