#!/usr/bin/env python3
"""The "script a platform engineer could write in an afternoon" that Scripts/bench-*.sh measure us against.

download: fetches URLs with http.client on N threads (default 4), 1 MiB reads, SHA-256 + SHA-512 (hashlib, i.e.
          OpenSSL) of every byte while writing it to a file; no fsync, no resume, no retries.
archive:  the same downloads grouped by recording (input lines `recording<TAB>name<TAB>url`), then one
          `<recording>.tar` per recording (tarfile, pax, a BagIt-like layout with manifest-sha256/512.txt)
          whose SHA-256 is computed while it is written, plus a `<recording>.tar.sha256` sidecar; no fsync,
          no re-hash of the staged files. One recording per thread.

Prints one JSON object: bytes, seconds, and the SHA-256 of every downloaded file (to cross-check ours).

Usage: bench-baseline.py download --out DIR [--threads 4] URL...
       bench-baseline.py archive --out DIR [--threads 4] --list FILE
"""

import argparse
import concurrent.futures
import hashlib
import http.client
import io
import json
import os
import sys
import tarfile
import time
import urllib.parse

CHUNK = 1 << 20


def fetch(url, path):
    """Downloads url to path, hashing while writing. Returns (bytes, sha256, sha512)."""
    parts = urllib.parse.urlsplit(url)
    connection_class = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    connection = connection_class(parts.hostname, parts.port, timeout=60)
    target = parts.path + ("?" + parts.query if parts.query else "")
    for _ in range(5):  # follow a few redirects, as the archiver does
        connection.request("GET", target, headers={"Accept-Encoding": "identity"})
        response = connection.getresponse()
        if response.status in (301, 302, 303, 307, 308):
            location = urllib.parse.urlsplit(urllib.parse.urljoin(url, response.getheader("Location")))
            response.read()
            connection.close()
            connection = connection_class(location.hostname, location.port, timeout=60)
            target = location.path + ("?" + location.query if location.query else "")
            continue
        break
    if response.status != 200:
        raise RuntimeError(f"GET {parts.path}: HTTP {response.status}")
    sha256, sha512, total = hashlib.sha256(), hashlib.sha512(), 0
    buffer = bytearray(CHUNK)
    view = memoryview(buffer)
    with open(path, "wb") as out:
        while True:
            count = response.readinto(buffer)
            if not count:
                break
            chunk = view[:count]
            sha256.update(chunk)
            sha512.update(chunk)
            out.write(chunk)
            total += count
    connection.close()
    return total, sha256.hexdigest(), sha512.hexdigest()


class HashingWriter(io.RawIOBase):
    """A file wrapper that hashes what tarfile writes through it."""

    def __init__(self, file):
        self.file, self.sha256 = file, hashlib.sha256()

    def writable(self):
        return True

    def write(self, data):
        self.sha256.update(data)
        return self.file.write(data)


def add_bytes(tar, name, data, mtime):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), mtime, 0o644
    tar.addfile(info, io.BytesIO(data))


def archive_recording(recording, items, out):
    """Downloads one recording's resources into a staging directory, then packs them with a sidecar."""
    staging = os.path.join(out, "staging", recording)
    os.makedirs(staging, exist_ok=True)
    files = []
    for name, url in items:
        path = os.path.join(staging, name)
        size, sha256, sha512 = fetch(url, path)
        files.append((name, path, size, sha256, sha512))
    tar_path = os.path.join(out, recording + ".tar")
    mtime = int(time.time())
    with open(tar_path, "wb") as raw:
        writer = HashingWriter(raw)
        with tarfile.open(fileobj=writer, mode="w|", format=tarfile.PAX_FORMAT, bufsize=CHUNK) as tar:
            add_bytes(tar, f"{recording}/bagit.txt", b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n", mtime)
            for name, path, size, _, _ in files:
                info = tarfile.TarInfo(f"{recording}/data/{name}")
                info.size, info.mtime, info.mode = size, mtime, 0o644
                with open(path, "rb") as source:
                    tar.addfile(info, source)
            for algorithm, index in (("sha256", 3), ("sha512", 4)):
                manifest = "".join(f"{entry[index]}  data/{entry[0]}\n" for entry in files).encode()
                add_bytes(tar, f"{recording}/manifest-{algorithm}.txt", manifest, mtime)
    with open(tar_path + ".sha256", "w") as sidecar:
        sidecar.write(f"{writer.sha256.hexdigest()}  {recording}.tar\n")
    for _, path, _, _, _ in files:
        os.unlink(path)
    return [(f"{recording}/{entry[0]}", entry[2], entry[3]) for entry in files]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("download", "archive"))
    parser.add_argument("--out", required=True)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--list", help="archive: lines of recording<TAB>name<TAB>url")
    parser.add_argument("urls", nargs="*")
    arguments = parser.parse_intermixed_args()
    os.makedirs(arguments.out, exist_ok=True)
    started = time.monotonic()
    results = []
    with concurrent.futures.ThreadPoolExecutor(arguments.threads) as pool:
        if arguments.mode == "download":
            jobs = [
                pool.submit(lambda i, u: (str(i),) + fetch(u, os.path.join(arguments.out, str(i)))[:2], i, url)
                for i, url in enumerate(arguments.urls)
            ]
            results = [job.result() for job in jobs]
        else:
            recordings = {}
            with open(arguments.list) as lines:
                for line in lines:
                    if line.strip():
                        recording, name, url = line.rstrip("\n").split("\t")
                        recordings.setdefault(recording, []).append((name, url))
            jobs = [pool.submit(archive_recording, r, items, arguments.out) for r, items in recordings.items()]
            results = [entry for job in jobs for entry in job.result()]
    seconds = time.monotonic() - started
    json.dump(
        {
            "bytes": sum(size for _, size, _ in results),
            "seconds": seconds,
            "files": [{"name": name, "bytes": size, "sha256": sha256} for name, size, sha256 in results],
        },
        sys.stdout,
    )
    print()


if __name__ == "__main__":
    main()
