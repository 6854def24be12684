#!/usr/bin/env bash
# The README's first command: runs the whole archival job end to end against the local Userplane
# simulator (no API key, no network): builds release binaries, starts `userplane-sim`, archives its
# workspace, verifies every archive, shows `status`, and prints where the archives are.
#
# With --s3 it archives into a local S3 server (moto, installed by install-system-deps.sh) instead: a
# bucket with Object Lock, every tar and sidecar locked in governance mode for 1 day, verified by
# streaming from S3, with the state in a temporary directory.
#
# Environment: DEMO_ARCHIVE (default ./demo-archive), DEMO_RECORDINGS (default 36).
set -euo pipefail
cd "$(dirname "$0")/.."

s3=0
if [ "${1:-}" = "--s3" ]; then s3=1; fi

bash Scripts/install-system-deps.sh

echo "==> building release binaries (the first build takes several minutes)" >&2
swift build -c release --product userplane-archiver >&2
swift build -c release --product userplane-sim >&2
bin=$(swift build -c release --show-bin-path)

archive=${DEMO_ARCHIVE:-$PWD/demo-archive}
recordings=${DEMO_RECORDINGS:-36}
work=$(mktemp -d)
sim_pid=""
moto_pid=""
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
    if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
    if [ -n "$moto_pid" ]; then kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; fi
    rm -rf "$work"
}
trap cleanup EXIT

echo "==> starting the simulator with $recordings recordings (limit 600 requests/min)" >&2
"$bin/userplane-sim" --port 0 --recordings "$recordings" --seed 42 --rate-per-minute 600 \
    --info-file "$work/sim.json" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 1 300); do
    [ -s "$work/sim.json" ] && break
    kill -0 "$sim_pid" 2>/dev/null || { cat "$work/sim.log" >&2; exit 1; }
    sleep 0.1
done
[ -s "$work/sim.json" ] || { echo "the simulator did not start; see $work/sim.log" >&2; exit 1; }

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$work/sim.json" "$1"; }
api_base=$(field apiBaseURL)
workspace=$(field workspaceId)
# The simulator's own key: not a real Userplane key. It goes through the environment, never argv.
USERPLANE_API_KEY=$(field apiKey)
export USERPLANE_API_KEY

if [ "$s3" = 1 ]; then
    port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    echo "==> starting a local S3 server (moto) on 127.0.0.1:$port" >&2
    python3 -m moto.server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
    moto_pid=$!
    for _ in $(seq 1 600); do
        python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1])' "http://127.0.0.1:$port/" \
            2>/dev/null && break
        sleep 0.1
    done
    export AWS_ENDPOINT_URL_S3="http://127.0.0.1:$port" AWS_REGION=us-east-1
    # moto's test credentials (it does not check them); real ones come from the environment or ~/.aws.
    export AWS_ACCESS_KEY_ID=demo AWS_SECRET_ACCESS_KEY=demo-secret
    python3 - "$AWS_ENDPOINT_URL_S3" <<'PY'
import sys, urllib.request
request = urllib.request.Request(sys.argv[1] + "/demo-archive", method="PUT", data=b"")
request.add_header("x-amz-bucket-object-lock-enabled", "true")
request.add_header("Authorization", "AWS4-HMAC-SHA256 Credential=demo/20260101/us-east-1/s3/aws4_request, "
                   "SignedHeaders=host, Signature=0")
urllib.request.urlopen(request).read()
PY
    target=s3://demo-archive/userplane
    echo "==> userplane-archiver archive --workspace $workspace --archive $target --object-lock governance --retain-for 1d" >&2
    status=0
    "$bin/userplane-archiver" archive --workspace "$workspace" --archive "$target" --state-dir "$work/state" \
        --object-lock governance --retain-for 1d --base-url "$api_base" --api-rate 600 || status=$?
    echo "==> userplane-archiver verify $target" >&2
    "$bin/userplane-archiver" verify "$target" | tail -n 3
    echo "==> userplane-archiver status --archive $target" >&2
    "$bin/userplane-archiver" status --archive "$target" --state-dir "$work/state"
    exit "$status"
fi

echo "==> userplane-archiver archive --workspace $workspace --archive $archive" >&2
status=0
"$bin/userplane-archiver" archive --workspace "$workspace" --archive "$archive" \
    --base-url "$api_base" --api-rate 600 || status=$?

echo "==> userplane-archiver verify $archive" >&2
"$bin/userplane-archiver" verify "$archive" | tail -n 3

echo "==> userplane-archiver status --archive $archive" >&2
"$bin/userplane-archiver" status --archive "$archive"

echo
echo "Archives (one pax tar + .sha256 sidecar per recording) are under $archive, for example:"
find "$archive" -name '*.tar' | sort | head -n 3
echo "Check one with stock tools:  (cd \"\$(dirname FILE)\" && sha256sum -c FILE.sha256) && tar -tvf FILE"
exit "$status"
