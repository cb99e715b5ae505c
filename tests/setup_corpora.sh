#!/usr/bin/env bash
# Download the real projects the corpora tests use (tests/corpora.py) into
# $KERASFIX_TEST_CACHE/corpora (default ~/.cache/kerasfix-tests/corpora), each archive checked
# against its sha256. A second run only checks them. tests/run_all.sh runs this before pytest;
# the tests never download and fail with a message when a corpus is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERASFIX_TEST_CACHE="${KERASFIX_TEST_CACHE:-$HOME/.cache/kerasfix-tests}"
python3 tests/corpora.py --fetch
