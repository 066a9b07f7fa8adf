#!/usr/bin/env bash
# Installs Chromium from the distribution's packages when it is missing: the
# browser tests (npm run test:browser) drive it headless through playwright-core.
set -euo pipefail
for b in chromium chromium-browser; do
  if command -v "$b" >/dev/null 2>&1; then
    echo "chromium already installed: $(command -v "$b")"
    exit 0
  fi
done
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
command -v chromium
