#!/usr/bin/env bash
# `npm run image [-- TAG]`: builds the image from the project's Dockerfile with podman, as users build it with
# `docker build`. The base is the Dockerfile's own (ARG NODE_IMAGE, e.g. node:24-slim) when it is present or can be
# pulled; where no registry is reachable, a stand-in assembled locally (container/local-base.sh) is passed as
# --build-arg NODE_IMAGE. NODE_IMAGE in the environment picks a base explicitly. Prints which base it used, the build
# time and the image size. TAG defaults to breakwater:<package.json version>, the chart's default image.
set -euo pipefail
cd "$(dirname "$0")/.."

command -v podman >/dev/null || { echo "image: needs podman (Debian: apt-get install podman runc)" >&2; exit 1; }
podman=(podman --runtime runc --cgroup-manager cgroupfs)
tag=${1:-breakwater:$(node -p 'require("./package.json").version')}
dockerfile_base=$(sed -nE 's/^ARG NODE_IMAGE=(.+)$/\1/p' Dockerfile)

started=$(date +%s)
if [[ -n "${NODE_IMAGE:-}" ]]; then
  base=$NODE_IMAGE
  origin="NODE_IMAGE from the environment"
elif "${podman[@]}" image exists "$dockerfile_base" || timeout 120 "${podman[@]}" pull -q "$dockerfile_base" >/dev/null 2>&1; then
  base=$dockerfile_base
  origin="the Dockerfile's base"
else
  node_major=$(sed -nE 's/^node:([0-9]+).*$/\1/p' <<<"$dockerfile_base")
  echo "image: $dockerfile_base cannot be pulled; assembling a local base with Node.js $node_major" >&2
  base=$(container/local-base.sh "$node_major")
  origin="assembled locally, $dockerfile_base being out of reach"
fi

# npm inside the build trusts what this machine trusts and uses the registry this machine's npm uses (a mirror or an
# intercepting proxy, where there is one). Both are mounted into the build's RUN steps only, never into the image.
npmrc=$(mktemp)
trap 'rm -f "$npmrc"' EXIT
printf 'registry=%s\n' "$(npm config get registry)" >"$npmrc"
mounts=(--volume "$npmrc:/usr/local/etc/npmrc:ro")
if [[ -f /etc/ssl/certs/ca-certificates.crt ]]; then
  printf 'cafile=/etc/ssl/certs/ca-certificates.crt\n' >>"$npmrc"
  mounts+=(--volume /etc/ssl/certs:/etc/ssl/certs:ro)
fi

base_ready=$(date +%s)
"${podman[@]}" build --file Dockerfile --build-arg "NODE_IMAGE=$base" "${mounts[@]}" --tag "$tag" .
built=$(date +%s)
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$tag")
echo "image: $tag from $base ($origin): base ready in $(( base_ready - started )) s, image built in $(( built - base_ready )) s; size $(( size / 1000000 )) MB"
