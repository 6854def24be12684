#!/usr/bin/env bash
# Benchmarks the transfer engine against curl on loopback, in one run:
#   the same set of files (8 x 256 MiB + 1 x 2 GiB; --quick: 8 x 32 MiB + 1 x 256 MiB) is downloaded
#   1. by `archiver-bench transfer` (our Downloader: streaming to .partial, SHA-256 + SHA-512 as bytes arrive),
#   2. by `curl -o` at the same concurrency, then `sha256sum` + `sha512sum` + `sync` (fsync) of each file (same
#      work: we hash both digests and fsync before the rename),
#   3. by `curl -o` alone (no hashing), for reference,
# and prints throughput ratio ours/curl, our peak RSS (/usr/bin/time -v) and CPU seconds per GiB for each.
# The blob server is a small Range/If-Range-capable Python server using sendfile(2) (the simulator will replace
# it once it lands on main). Source files are sparse, so they cost no disk and serve from the page cache.
#
# --output-root DIR puts the downloads elsewhere (e.g. /dev/shm, where fsync is free, to measure the engine
# rather than the disk); by default they land in a temporary directory on the normal disk.
#
# Usage: Scripts/bench-transfer.sh [--quick] [--concurrency N] [--debug] [--output-root DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

quick=0
concurrency=8
configuration=release
output_root=
while [ $# -gt 0 ]; do
    case "$1" in
    --quick) quick=1 ;;
    --concurrency) concurrency=$2; shift ;;
    --debug) configuration=debug ;;
    --output-root) output_root=$2; shift ;;
    *) echo "usage: $0 [--quick] [--concurrency N] [--debug] [--output-root DIR]" >&2; exit 64 ;;
    esac
    shift
done

if [ ! -x /usr/bin/time ]; then
    echo "bench-transfer: installing GNU time for peak RSS" >&2
    apt-get install -y time >/dev/null
fi

echo "bench-transfer: building archiver-bench ($configuration)" >&2
swift build -c "$configuration" --product archiver-bench >&2
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
if [ "$quick" -eq 1 ]; then small=$((32 << 20)); large=$((256 << 20)); else small=$((256 << 20)); large=$((2 << 30)); fi
names=()
for i in 1 2 3 4 5 6 7 8; do
    truncate -s "$small" "$work/blobs/small-$i.bin"
    names+=("small-$i.bin")
done
truncate -s "$large" "$work/blobs/large.bin"
names+=("large.bin")

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
total_bytes=$((small * 8 + large))
echo "bench-transfer: ${#urls[@]} files, $total_bytes bytes, concurrency $concurrency, server port $port" >&2

# Ours.
/usr/bin/time -v -o "$work/ours.time" "$bench" transfer --concurrency "$concurrency" \
    --output-directory "$out/ours" "${urls[@]}" >"$work/ours.json"
rm -rf "$out/ours"

# curl + sha256sum + sha512sum per file, same concurrency.
mkdir -p "$out/curl"
cat >"$work/curl-one.sh" <<'SH'
#!/usr/bin/env bash
set -euo pipefail
file="$2/$(basename "${1%%\?*}")"
curl -sSf -o "$file" "$1"
if [ "$3" = hash ]; then sha256sum "$file" >"$file.sha256"; sha512sum "$file" >"$file.sha512"; sync "$file"; fi
SH
run_curl() {  # run_curl <label> <hash|nohash>
    # shellcheck disable=SC2016 # expanded by the inner bash
    /usr/bin/time -v -o "$work/$1.time" bash -c \
        'printf "%s\n" "${@:5}" | xargs -P "$1" -I{} bash "$2/curl-one.sh" {} "$4" "$3"' \
        _ "$concurrency" "$work" "$2" "$out/curl" "${urls[@]}"
}
run_curl curl-hash hash
cat "$out"/curl/*.sha256 >"$work/curl-sha256.txt"
rm -rf "$out/curl" && mkdir -p "$out/curl"
run_curl curl-plain nohash
rm -rf "$out/curl"

python3 - "$work" "$total_bytes" <<'PY'
import json, re, sys

work, total = sys.argv[1], int(sys.argv[2])
gib = total / (1 << 30)

def timing(name):
    text = open(f"{work}/{name}.time").read()
    def field(label):
        return re.search(re.escape(label) + r": (.*)", text).group(1).strip()
    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    cpu = float(field("User time (seconds)")) + float(field("System time (seconds)"))
    rss = int(field("Maximum resident set size (kbytes)")) / 1024
    return wall, cpu, rss

ours = json.load(open(f"{work}/ours.json"))
curl_digests = {}
for line in open(f"{work}/curl-sha256.txt"):
    digest, path = line.split()
    curl_digests[path.rsplit("/", 1)[-1]] = digest
mismatches = [f["source"] for f in ours["files"] if curl_digests.get(f["source"].rsplit("/", 1)[-1]) != f["sha256"]]
rows = {name: timing(name) for name in ("ours", "curl-hash", "curl-plain")}
print(f"files: {len(ours['files'])}, bytes: {total} ({gib:.2f} GiB), concurrency: {ours['concurrency']}")
for name, (wall, cpu, rss) in rows.items():
    print(f"{name:11s} wall {wall:7.2f} s  {total / wall / (1 << 20):8.1f} MiB/s  cpu {cpu / gib:6.2f} s/GiB  peak RSS {rss:7.1f} MiB")
ours_wall = rows["ours"][0]
print(f"throughput ratio ours/(curl+sha256sum+sha512sum+fsync): {rows['curl-hash'][0] / ours_wall:.2f}")
print(f"throughput ratio ours/(curl alone, no hashing):   {rows['curl-plain'][0] / ours_wall:.2f}")
print(f"our peak RSS: {rows['ours'][2]:.1f} MiB (target <= 64)")
print("sha256 agree with curl+sha256sum: " + ("yes" if not mismatches else f"NO: {mismatches}"))
PY
