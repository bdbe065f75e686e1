#!/usr/bin/env bash
# Builds the images the Docker tests run, with no registry: a Debian bookworm base from debootstrap
# (`docker import`), then docker/postgres, docker/redis, docker/opstree-redis and docker/rust-runtime from
# Debian's packages on it.
# Cached: an image whose inputs (Dockerfile, entrypoint, base) are unchanged is not rebuilt; with
# TWIN_IMAGE_CACHE set to a directory the machine keeps between runs, each image is also saved there and
# loaded from it instead of being built on a fresh engine. Prints one line per image and what it did.
set -euo pipefail
cd "$(dirname "$0")"
CACHE="${TWIN_IMAGE_CACHE:-}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
BASE=local/debian:bookworm
[ -z "$CACHE" ] || mkdir -p "$CACHE"

has_image() { docker image inspect "$1" >/dev/null 2>&1; }
label_of() { docker image inspect -f "{{ index .Config.Labels \"dev.infra-twin.inputs\" }}" "$1" 2>/dev/null || true; }

t0=$(date +%s)
if ! has_image "$BASE"; then
  if [ -n "$CACHE" ] && [ -f "$CACHE/debian-bookworm.tar" ]; then
    docker load -q -i "$CACHE/debian-bookworm.tar" >/dev/null
    echo "$BASE: loaded from $CACHE"
  else
    rootfs="$(mktemp -d)"
    trap 'rm -rf "$rootfs"' EXIT
    debootstrap --variant=minbase bookworm "$rootfs" "$MIRROR" >/dev/null
    tar -C "$rootfs" -c . | docker import - "$BASE" >/dev/null
    rm -rf "$rootfs"
    [ -z "$CACHE" ] || docker save -o "$CACHE/debian-bookworm.tar" "$BASE"
    echo "$BASE: debootstrapped and imported ($(($(date +%s) - t0)) s)"
  fi
else
  echo "$BASE: present"
fi
base_id="$(docker image inspect -f '{{.Id}}' "$BASE")"

build() { # name tag dir
  local tag="$1" dir="$2" t1 inputs file
  t1=$(date +%s)
  inputs="$( (echo "$base_id"; cat "$dir"/*) | sha256sum | cut -c1-16)"
  file="$CACHE/$(echo "$tag" | tr '/:' '__')-$inputs.tar"
  if [ "$(label_of "$tag")" = "$inputs" ]; then echo "$tag: up to date ($inputs)"; return; fi
  if [ -n "$CACHE" ] && [ -f "$file" ]; then
    docker load -q -i "$file" >/dev/null
    if [ "$(label_of "$tag")" = "$inputs" ]; then echo "$tag: loaded from $CACHE"; return; fi
  fi
  docker build -q --build-arg "BASE_IMAGE=$BASE" --label "dev.infra-twin.inputs=$inputs" -t "$tag" "$dir" >/dev/null
  if [ -n "$CACHE" ]; then
    rm -f "$CACHE/$(echo "$tag" | tr '/:' '__')"-*.tar
    docker save -o "$file" "$tag"
  fi
  echo "$tag: built ($(($(date +%s) - t1)) s)"
}

build local/postgres:15-bookworm postgres
build local/redis:7.0-bookworm redis
build local/opstree-redis:v7.0.15-bookworm opstree-redis
build local/rust-runtime:1.0.0-bookworm rust-runtime
echo "images ready in $(($(date +%s) - t0)) s"
