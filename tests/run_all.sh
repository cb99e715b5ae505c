#!/usr/bin/env bash
# Install everything the test suite needs on a fresh Debian machine, then run the whole suite.
# This is the README's test command and what CI runs (.ci/run calls exactly this script).
# Installs are cached under $KERASFIX_TEST_CACHE (default ~/.cache/kerasfix-tests), so a second
# run only checks them.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERASFIX_TEST_CACHE="${KERASFIX_TEST_CACHE:-$HOME/.cache/kerasfix-tests}"
mkdir -p "$KERASFIX_TEST_CACHE"

python3 -m pip install --quiet --disable-pip-version-check -e '.[test]'
for setup in tests/editors/setup.sh tests/keras3/setup.sh; do
    if [ -f "$setup" ]; then bash "$setup"; fi
done
# The real projects the corpora tests read (tests/corpora.py); the tests themselves never
# download them.
bash tests/setup_corpora.sh

python3 -m pytest tests "$@"
