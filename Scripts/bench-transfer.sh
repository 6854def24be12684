#!/usr/bin/env bash
# Benchmarks the transfer engine on loopback against what a user could use instead, in one invocation, with the
# contenders alternated round by round (the order rotates) so that a noisy shared machine affects all alike:
#   ours        `archiver-bench transfer` (our Downloader: streaming to .partial, SHA-256 + SHA-512 as bytes
#               arrive, written with direct I/O where the file system is a local disk's, fsync, rename),
#   ours-pc     the same through the page cache (`--direct-write-buffer-bytes 0`): what direct I/O gains here,
#   python      Scripts/bench-baseline.py download: http.client + hashlib, 4 threads, 1 MiB reads, SHA-256 +
#               SHA-512 while writing, no fsync (the "afternoon script" of issue 13),
#   curl-hash   `curl -o` at the same concurrency, then `sha256sum` + `sha512sum` + `sync` of each file,
#   curl-plain  `curl -o` alone (no hashing), for reference.
# Prints the machine's load average around the rounds, per contender the median wall time, throughput, CPU s/GiB and
# peak RSS (/usr/bin/time -v), then the ratios of ours to each (median of the per-round ratios, and their range).
# The blob server is a small Range/If-Range-capable Python server using sendfile(2) on 127.0.0.1 (cheap, so the
# contenders get the CPU). Source files are sparse, so they cost no disk and serve from the page cache.
#
# Default set: 8 x 256 MiB + 1 x 2 GiB at concurrency 8 (--quick: 8 x 32 MiB + 1 x 256 MiB).
# --files N --file-bytes B replaces the set with N files of B bytes (issue 13: --files 4 --file-bytes 268435456
# --concurrency 4). --output-root DIR puts the downloads elsewhere (e.g. /dev/shm, where fsync is free); by
# default they land in a temporary directory on the normal disk. --no-build uses the existing binary.
#
# Usage: Scripts/bench-transfer.sh [--quick] [--concurrency N] [--files N --file-bytes B] [--rounds R] [--debug]
#                                  [--output-root DIR] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
concurrency=8
configuration=release
output_root=
files=
file_bytes=
rounds=3
build=1
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --concurrency) concurrency=$2; shift ;;
    --files) files=$2; shift ;;
    --file-bytes) file_bytes=$2; shift ;;
    --rounds) rounds=$2; shift ;;
    --debug) configuration=debug ;;
    --output-root) output_root=$2; shift ;;
    --no-build) build=0 ;;
    *)
        echo "usage: $0 [--quick] [--concurrency N] [--files N --file-bytes B] [--rounds R] [--debug] [--output-root DIR] [--no-build]" >&2
        exit 64
        ;;
    esac
    shift
done

if [ ! -x /usr/bin/time ]; then
    echo "bench-transfer: installing GNU time for peak RSS" >&2
    apt-get install -y time >/dev/null
fi

if [ "$build" -eq 1 ]; then
    echo "bench-transfer: building archiver-bench ($configuration)" >&2
    swift build -c "$configuration" --product archiver-bench >&2
fi
bench="$(swift build -c "$configuration" --show-bin-path)/archiver-bench"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-transfer.XXXXXX")
out=$(mktemp -d "${output_root:-$work}/out.XXXXXX")
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$out" "$work"
}
trap cleanup EXIT

mkdir -p "$work/blobs"
names=()
if [ -n "$files" ]; then
    for i in $(seq 1 "$files"); do
        truncate -s "$file_bytes" "$work/blobs/file-$i.bin"
        names+=("file-$i.bin")
    done
    total_bytes=$((files * file_bytes))
else
    if [ "$quick" -eq 1 ]; then small=$((32 << 20)); large=$((256 << 20)); else small=$((256 << 20)); large=$((2 << 30)); fi
    for i in 1 2 3 4 5 6 7 8; do
        truncate -s "$small" "$work/blobs/small-$i.bin"
        names+=("small-$i.bin")
    done
    truncate -s "$large" "$work/blobs/large.bin"
    names+=("large.bin")
    total_bytes=$((small * 8 + large))
fi

cat >"$work/server.py" <<'PY'
import http.server, os, socketserver, sys

root = sys.argv[1]

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_GET(self):
        path = os.path.join(root, os.path.basename(self.path.split("?")[0]))
        try:
            blob = open(path, "rb")
        except OSError:
            self.send_error(404)
            return
        with blob:
            info = os.fstat(blob.fileno())
            size = info.st_size
            etag = '"%x-%x"' % (size, int(info.st_mtime))
            first, last, status = 0, size - 1, 200
            wanted, validator = self.headers.get("Range"), self.headers.get("If-Range")
            if wanted and wanted.startswith("bytes=") and validator in (None, etag):
                start, _, end = wanted[6:].partition("-")
                first = int(start)
                last = min(int(end), size - 1) if end else size - 1
                if first >= size:
                    self.send_response(416)
                    self.send_header("Content-Range", "bytes */%d" % size)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                status = 206
            self.send_response(status)
            self.send_header("Content-Length", str(last - first + 1))
            self.send_header("Content-Type", "video/webm")
            self.send_header("ETag", etag)
            self.send_header("Accept-Ranges", "bytes")
            if status == 206:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (first, last, size))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.flush()
            offset, remaining = first, last - first + 1
            while remaining > 0:
                sent = os.sendfile(self.connection.fileno(), blob.fileno(), offset, min(remaining, 1 << 30))
                if sent == 0:
                    break
                offset += sent
                remaining -= sent
        self.close_connection = True

class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True

server = Server(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
PY

mkfifo "$work/port"
python3 "$work/server.py" "$work/blobs" >"$work/port" &
server_pid=$!
read -r port <"$work/port"
urls=()
for name in "${names[@]}"; do urls+=("http://127.0.0.1:$port/blobs/$name?X-Amz-Signature=bench"); done
echo "bench-transfer: ${#urls[@]} files, $total_bytes bytes, concurrency $concurrency, server port $port" >&2
echo "bench-transfer: downloads land in $out ($(stat -f -c %T "$out"); direct I/O only on ext2/3/4, xfs, btrfs, overlay)" >&2

cat >"$work/curl-one.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
file="$2/$(basename "${1%%\?*}")"
curl -sSf -o "$file" "$1"
if [ "$3" = hash ]; then sha256sum "$file" >"$file.sha256"; sha512sum "$file" >"$file.sha512"; sync "$file"; fi
SH
run() {  # run <contender> <round>: one timed run into $out/<contender>, removed afterwards
    local name=$1 round=$2
    local timing="$work/$name.$round.time"
    mkdir -p "$out/$name"
    case "$name" in
    ours-pc)
        /usr/bin/time -v -o "$timing" "$bench" transfer --concurrency "$concurrency" --direct-write-buffer-bytes 0 \
            --output-directory "$out/ours-pc" "${urls[@]}" >"$work/ours-pc.json"
        ;;
    ours)
        /usr/bin/time -v -o "$timing" "$bench" transfer --concurrency "$concurrency" \
            --output-directory "$out/ours" "${urls[@]}" >"$work/ours.json"
        ;;
    python)
        /usr/bin/time -v -o "$timing" python3 Scripts/bench-baseline.py download --threads "$concurrency" \
            --out "$out/python" "${urls[@]}" >"$work/python.json"
        ;;
    curl-hash | curl-plain)
        local mode=nohash
        if [ "$name" = curl-hash ]; then mode="hash"; fi
        # shellcheck disable=SC2016 # expanded by the inner bash
        /usr/bin/time -v -o "$timing" bash -c \
            'printf "%s\n" "${@:5}" | xargs -P "$1" -I{} bash "$2/curl-one.sh" {} "$4" "$3"' \
            _ "$concurrency" "$work" "$mode" "$out/$name" "${urls[@]}"
        if [ "$name" = curl-hash ]; then cat "$out/curl-hash"/*.sha256 >"$work/curl-sha256.txt"; fi
        ;;
    esac
    rm -rf "${out:?}/$name"
}
contenders=(ours ours-pc python curl-hash curl-plain)
# The 1-minute load average before each round and after the last (other work on the machine skews wall times).
loads=()
for round in $(seq 1 "$rounds"); do
    loads+=("$(cut -d' ' -f1 /proc/loadavg)")
    echo "bench-transfer: round $round/$rounds (load average ${loads[-1]})" >&2
    for index in "${!contenders[@]}"; do
        run "${contenders[$(((index + round - 1) % ${#contenders[@]}))]}" "$round"
    done
done

loads+=("$(cut -d' ' -f1 /proc/loadavg)")

python3 - "$work" "$total_bytes" "$rounds" "${loads[*]}" <<'PY'
import json, re, statistics, sys

work, total, rounds, loads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
gib = total / (1 << 30)
names = ("ours", "ours-pc", "python", "curl-hash", "curl-plain")

def timing(name, round):
    text = open(f"{work}/{name}.{round}.time").read()
    def field(label):
        return re.search(re.escape(label) + r": (.*)", text).group(1).strip()
    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return wall, cpu, rss

runs = {name: [timing(name, r) for r in range(1, rounds + 1)] for name in names}
ours = json.load(open(f"{work}/ours.json"))
python = json.load(open(f"{work}/python.json"))
curl_digests = {}
for line in open(f"{work}/curl-sha256.txt"):
    digest, path = line.split()
    curl_digests[path.rsplit("/", 1)[-1]] = digest
base = lambda url: url.split("?")[0].rsplit("/", 1)[-1]
mismatches = [f["source"] for f in ours["files"] if curl_digests.get(base(f["source"])) != f["sha256"]]
python_digests = sorted(f["sha256"] for f in python["files"])
mismatches += [] if python_digests == sorted(curl_digests.values()) else ["python"]
print(f"files: {len(ours['files'])}, bytes: {total} ({gib:.2f} GiB), concurrency: {ours['concurrency']}, rounds: {rounds}")
print(f"load average (1 min) before each round and after the last: {', '.join(loads.split())}")
for name in names:
    wall = statistics.median(r[0] for r in runs[name])
    cpu = statistics.median(r[1] for r in runs[name])
    rss = max(r[2] for r in runs[name])
    print(f"{name:11s} median wall {wall:7.2f} s  {total / wall / (1 << 20):8.1f} MiB/s  cpu {cpu / gib:6.2f} s/GiB  "
          f"peak RSS {rss:7.1f} MiB  (walls: {', '.join(f'{r[0]:.2f}' for r in runs[name])})")
for name, label in (("python", "Python baseline (target >= 1.3)"), ("curl-hash", "curl+sha256sum+sha512sum+sync (target >= 1.5)"),
                    ("curl-plain", "curl alone, no hashing"), ("ours-pc", "ours through the page cache")):
    ratios = [runs[name][r][0] / runs["ours"][r][0] for r in range(rounds)]
    print(f"throughput ratio ours / {label}: {statistics.median(ratios):.2f} (rounds {min(ratios):.2f}-{max(ratios):.2f})")
print(f"our peak RSS: {max(r[2] for r in runs['ours']):.1f} MiB (target <= 32 for 4 x 256 MiB at concurrency 4)")
print("sha256 agree with curl+sha256sum: " + ("yes" if not mismatches else f"NO: {mismatches}"))
PY
