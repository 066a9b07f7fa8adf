#!/usr/bin/env bash
# Installs redis-server and redis-tools (redis-cli, redis-benchmark), and strace, from the
# distribution's packages when redis-server is missing: the differential suite
# (npm run test:compat) compares redloop with a real redis-server 7.
set -euo pipefail
# strace too: the trace and AOF tests compare --trace with it and use it to slow syscalls down.
if command -v redis-server >/dev/null 2>&1 && command -v redis-benchmark >/dev/null 2>&1 && command -v strace >/dev/null 2>&1; then
  echo "redis already installed: $(redis-server --version)"
  exit 0
fi
SUDO=''
if [ "$(id -u)" -ne 0 ]; then SUDO='sudo'; fi
$SUDO apt-get update
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y redis-server redis-tools strace
# The package may start a system redis on 6379; the tests use their own ports and do not need it.
redis-server --version
