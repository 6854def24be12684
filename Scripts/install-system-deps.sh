#!/usr/bin/env bash
# Installs the system packages the build and the tests need. Idempotent: runs apt-get (and its
# update) only when something is missing. Needs root (or sudo) when it has to install.
set -euo pipefail

# postgresql: the shared-queue tests (issue 15) start a throw-away server from its binaries.
packages=(pkg-config libcurl4-openssl-dev libarchive-dev libssl-dev libsqlite3-dev libarchive-tools curl tar postgresql)
# pip only when this Python has none (the usual images ship one).
if ! python3 -m pip --version >/dev/null 2>&1; then packages+=(python3-pip); fi
missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

if [ "${#missing[@]}" -gt 0 ]; then
    echo "install-system-deps: installing ${missing[*]}" >&2
    "${sudo_cmd[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# bagit-python cross-checks the bags our archives extract to.
if ! python3 -c 'import bagit' 2>/dev/null; then
    echo "install-system-deps: installing Python bagit" >&2
    python3 -m pip install -q bagit 2>/dev/null || python3 -m pip install -q --break-system-packages bagit
fi

# moto (run as `python3 -m moto.server`) is the local S3 server the S3 Object Lock tests (issue 14) start on loopback.
if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
    echo "install-system-deps: installing Python moto[server]" >&2
    python3 -m pip install -q 'moto[server]' 2>/dev/null || python3 -m pip install -q --break-system-packages 'moto[server]'
fi

pkg-config --exists libcurl libarchive libcrypto sqlite3
