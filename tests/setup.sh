#!/usr/bin/env bash
# Installs what the tests need beyond the Rust toolchain, idempotently:
# systemd-analyze (package systemd) to verify the unit, setpriv (util-linux) to
# connect as another uid, minisign (to sign plugins as a publisher would), a Python venv in tests/.venv with fakellm (a real
# server of the OpenAI and Anthropic wire formats), and Synapse (a real Matrix
# homeserver) in tests/.venv-synapse. Runs as root on CI; elsewhere
# it uses sudo for apt if needed.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

# Debian packages, only those missing.
need=()
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v setpriv >/dev/null 2>&1 || need+=(util-linux)
command -v minisign >/dev/null 2>&1 || need+=(minisign)
command -v python3 >/dev/null 2>&1 || need+=(python3)
python3 -c 'import venv, ensurepip' >/dev/null 2>&1 || need+=(python3-venv)
if [ ${#need[@]} -gt 0 ]; then
    sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    echo "tests/setup.sh: installing ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

# Python packages, pinned; reinstalled only when the pins change.
venv="$here/.venv"
pins="fakellm==0.3.5 mcp-server-time==2026.10.19 mcp-server-fetch==2026.10.24"
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
fi
if [ "$(cat "$venv/.pins" 2>/dev/null)" != "$pins" ]; then
    echo "tests/setup.sh: installing $pins into tests/.venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check $pins
    echo "$pins" > "$venv/.pins"
fi

# A real Matrix homeserver for the Matrix bot's tests: Synapse in its own venv
# (its pinned dependencies stay apart from the others).
synapse_venv="$here/.venv-synapse"
synapse_pin="matrix-synapse==1.163.2"
if [ ! -x "$synapse_venv/bin/python" ]; then
    python3 -m venv "$synapse_venv"
fi
if [ "$(cat "$synapse_venv/.pins" 2>/dev/null)" != "$synapse_pin" ]; then
    echo "tests/setup.sh: installing $synapse_pin into tests/.venv-synapse"
    "$synapse_venv/bin/pip" install --quiet --disable-pip-version-check "$synapse_pin"
    echo "$synapse_pin" > "$synapse_venv/.pins"
fi

# npm packages (real MCP servers), pinned in tests/npm/package.json.
if [ ! -f "$here/npm/node_modules/@modelcontextprotocol/server-everything/package.json" ] \
    || [ "$here/npm/package.json" -nt "$here/npm/node_modules/.installed" ]; then
    echo "tests/setup.sh: installing tests/npm packages"
    (cd "$here/npm" && npm install --no-audit --no-fund --silent)
    touch "$here/npm/node_modules/.installed"
fi
