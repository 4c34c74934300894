#!/usr/bin/env bash
# Berth's main job on its embedded defaults: install what is missing, build, start berthd
# (data root /var/lib/berth, socket /run/berth/berth.sock), create a busybox base image from the
# host's static busybox, and show it. The daemon keeps running afterwards; stop it with
#   kill "$(cat /run/berth/berthd.pid)"
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

sock=/run/berth/berth.sock
berth() { bin/berth "$@"; }
if ! berth version >/dev/null 2>&1; then
  echo "==> starting berthd (log: /var/log/berthd.log)"
  nohup node dist/berthd.mjs >>/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 200); do
    berth version >/dev/null 2>&1 && break
    sleep 0.05
  done
  berth version >/dev/null || { echo "berthd did not start; see /var/log/berthd.log" >&2; exit 1; }
fi

echo "==> building the busybox base image from $(command -v busybox)"
mkdir -p /var/cache/berth
bash scripts/fixtures/busybox-rootfs.sh /var/cache/berth/busybox.tar
berth import --change 'CMD ["sh"]' --message 'busybox from the host' /var/cache/berth/busybox.tar busybox:latest

echo
echo "==> berth images"
berth images
echo
echo "==> berth image inspect busybox (selected fields)"
berth image inspect --format 'Id: {{.Id}}
RepoTags: {{join .RepoTags ", "}}
Cmd: {{json .Config.Cmd}}
Layers: {{len .RootFS.Layers}}  Size: {{.Size}} bytes
Driver: {{.GraphDriver.Name}}' busybox
echo
echo "==> berth run --rm busybox (a real container: conmon + runc on an overlay of the image)"
berth run --rm busybox sh -c 'echo "hello from a Berth container: $(hostname), uid $(id -u), $(uname -sr)"'
echo
echo "==> berth build (a two-stage Dockerfile; the second run is all cache hits)"
ctx=$(mktemp -d)
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM busybox AS make
RUN mkdir /out && echo "built by Berth at $(date -u +%H:%M:%S)" > /out/message
FROM busybox
COPY --from=make /out/message /message
CMD ["cat", "/message"]
DOCKERFILE
berth build --progress=plain -t berth-demo:latest "$ctx"
berth build --progress=plain -t berth-demo:latest "$ctx" 2>&1 | grep -c CACHED | sed 's/^/cached steps on the second build: /'
berth run --rm berth-demo:latest
rm -rf "$ctx"
echo
echo "==> the real docker CLI against Berth (DOCKER_HOST=unix://$sock)"
if command -v docker >/dev/null; then
  DOCKER_HOST=unix://$sock docker images busybox
  DOCKER_HOST=unix://$sock docker run --rm busybox echo "hello from docker run on Berth"
fi
echo
echo "berthd is running (pid $(cat /run/berth/berthd.pid)). Use: export DOCKER_HOST=unix://$sock"
