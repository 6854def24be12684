#!/usr/bin/env bash
# Read-only checks run by CI after the tests: lint, warnings-as-errors build, banned patterns, shellcheck.
set -euo pipefail
cd "$(dirname "$0")/.."

status=0
fail() { echo "soundness: $*" >&2; status=1; }

echo "soundness: swift format lint" >&2
git ls-files -z '*.swift' | xargs -0 swift format lint --strict --parallel || fail "swift format lint found problems (run Scripts/format.sh)"

echo "soundness: build with warnings as errors" >&2
# Only our targets: -Xswiftc would also apply to dependencies and rebuild all of them.
USERPLANE_WARNINGS_AS_ERRORS=1 swift build --build-tests || fail "the build has warnings in our targets"

echo "soundness: banned patterns" >&2
banned() {  # banned <description> <grep -E pattern> <paths...>
    local description=$1 pattern=$2
    shift 2
    local hits
    hits=$(grep -rnE "$pattern" "$@" 2>/dev/null || true)
    if [ -n "$hits" ]; then fail "$description:"$'\n'"$hits"; fi
}
banned "Task.detached in Sources" 'Task\.detached' Sources
banned "DispatchSemaphore in Sources" 'DispatchSemaphore' Sources
banned "Thread.sleep in Sources" 'Thread\.sleep' Sources
banned "print( in ArchiverKit" '(^|[^A-Za-z_.])print\(' Sources/ArchiverKit
hits=$(grep -rn 'LoggingSystem\.bootstrap' Sources Tests | grep -v '^Sources/userplane-archiver/' | grep -v '^Sources/userplane-sim/' || true)
[ -z "$hits" ] || fail "LoggingSystem.bootstrap outside the executables:"$'\n'"$hits"
hits=$(grep -rn '@unchecked Sendable' Sources | grep -v '// unchecked:' || true)
if [ -n "$hits" ]; then
    # The justification may stand on the line(s) just above the declaration.
    while IFS= read -r hit; do
        file=${hit%%:*}; rest=${hit#*:}; line=${rest%%:*}
        start=$((line > 4 ? line - 4 : 1))
        sed -n "${start},${line}p" "$file" | grep -q 'unchecked:' || fail "@unchecked Sendable without a '// unchecked:' invariant: $hit"
    done <<<"$hits"
fi
hits=$(grep -rlnE '^\s*(internal |public |package |private |fileprivate |@_implementationOnly )?import CLib(Curl|Archive)' Sources Tests \
    | grep -vE '^Sources/ArchiverKit/(Transfer|Packing)/' || true)
[ -z "$hits" ] || fail "CLibCurl/CLibArchive imported outside Transfer/ and Packing/:"$'\n'"$hits"

if command -v shellcheck >/dev/null 2>&1; then
    echo "soundness: shellcheck" >&2
    git ls-files -z '*.sh' .ci/run | xargs -0 shellcheck || fail "shellcheck found problems"
fi

if [ "$status" -eq 0 ]; then echo "soundness: all checks passed" >&2; fi
exit "$status"
