#!/usr/bin/env bash
# System packages the tests need: Debian's Chromium for browser tests (Playwright must not download one).
# PostgreSQL 15 binaries come with the machine; tests start their own server on loopback.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "==> installing Debian chromium"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-zenhei >/dev/null
  else
    echo "warning: chromium not found; browser tests will fail (apt-get install chromium)" >&2
  fi
fi
