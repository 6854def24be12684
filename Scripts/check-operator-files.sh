#!/usr/bin/env bash
# CI check of the operator-facing files: the generated man page and completion scripts are non-empty
# and mention every subcommand, and the systemd units pass `systemd-analyze verify` (or, without
# systemd, a syntax check of sections and keys). Needs a debug build (`swift build`).
set -euo pipefail
cd "$(dirname "$0")/.."

subcommands=(archive download verify audit status prune delete-remote hold)
binary="$(swift build --show-bin-path)/userplane-archiver"
[ -x "$binary" ] || swift build --product userplane-archiver
failures=0
fail() { echo "check-operator-files: $*" >&2; failures=$((failures + 1)); }
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Completions
for shell in bash zsh fish; do
    "$binary" --generate-completion-script "$shell" >"$work/completion.$shell"
    [ -s "$work/completion.$shell" ] || fail "$shell completion script is empty"
    for name in "${subcommands[@]}"; do
        grep -q -- "$name" "$work/completion.$shell" || fail "$shell completion does not mention '$name'"
    done
done

# Man page
swift package plugin generate-manual --configuration debug >/dev/null
man_page=".build/plugins/GenerateManual/outputs/userplane-archiver/userplane-archiver.1"
if [ -s "$man_page" ]; then
    for name in "${subcommands[@]}" config wait-lock metrics-file; do
        grep -q -- "$name" "$man_page" || fail "man page does not mention '$name'"
    done
else
    fail "man page not generated at $man_page"
fi

# systemd units: verify with the binary path pointed at the build (ExecStart must be executable).
units=(contrib/systemd/userplane-archiver.service contrib/systemd/userplane-archiver.timer
    contrib/systemd/userplane-archiver-audit.service contrib/systemd/userplane-archiver-audit.timer)
for unit in "${units[@]}"; do
    sed "s#/usr/local/bin/userplane-archiver#$binary#" "$unit" >"$work/$(basename "$unit")"
done
if command -v systemd-analyze >/dev/null 2>&1; then
    # verify exits 0 on unknown keys and bad values, so any diagnostic counts as a failure.
    if ! output="$(systemd-analyze verify --man=no "$work/userplane-archiver.service" "$work/userplane-archiver.timer" \
        "$work/userplane-archiver-audit.service" "$work/userplane-archiver-audit.timer" 2>&1)" \
        || [ -n "$output" ]; then
        fail "systemd-analyze verify: $output"
    fi
else
    for unit in "${units[@]}"; do
        awk -v file="$unit" '
            /^[[:space:]]*(#|;|$)/ { next }
            /^\[[A-Za-z]+\]$/ { section = $0; next }
            continued { continued = /\\$/; next }
            /^[A-Za-z][A-Za-z0-9]*=/ { if (section == "") { print file ": key outside a section: " $0; bad = 1 } continued = /\\$/; next }
            { print file ":" NR ": not a section, key=value or comment: " $0; bad = 1 }
            END { exit bad }
        ' "$unit" || fail "syntax errors in $unit"
    done
    echo "check-operator-files: systemd-analyze not found; did a syntax check only" >&2
fi
grep -q '^\[Install\]' contrib/systemd/userplane-archiver.timer || fail "timer has no [Install] section"
grep -q '^\[Install\]' contrib/systemd/userplane-archiver-audit.timer || fail "audit timer has no [Install] section"
grep -q '^ProtectSystem=strict$' contrib/systemd/userplane-archiver-audit.service || fail "audit service is not ProtectSystem=strict"
grep -q '^ProtectSystem=strict$' contrib/systemd/userplane-archiver.service || fail "service is not ProtectSystem=strict"
grep -q '^LoadCredential=' contrib/systemd/userplane-archiver.service || fail "service has no LoadCredential="

# The example configuration must parse.
if ! output="$("$binary" status --config contrib/config.example.toml 2>&1)" && ! grep -q "no archive state" <<<"$output"; then
    fail "contrib/config.example.toml does not parse: $output"
fi

if [ "$failures" -gt 0 ]; then
    echo "check-operator-files: $failures problem(s)" >&2
    exit 1
fi
echo "check-operator-files: man page, completions, systemd units and example config OK"
