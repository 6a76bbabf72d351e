#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, idempotently:
# systemd-analyze (package systemd) to verify the unit, setpriv (util-linux) to
# connect as another uid. Runs as root on CI; elsewhere it uses sudo if needed.
set -euo pipefail

need=()
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)

if [ ${#need[@]} -eq 0 ]; then
    exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
    sudo="sudo"
fi
echo "tests/setup.sh: installing ${need[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
