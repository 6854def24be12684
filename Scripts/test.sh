#!/usr/bin/env bash
# The test command: installs what the build needs, builds, and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

bash Scripts/install-system-deps.sh
swift build --build-tests
swift test --skip-build
# Operator files: man page and completions mention every subcommand, systemd units verify.
bash Scripts/check-operator-files.sh
