# cdrift's own container image: the node agent of deploy/kubernetes/.
#
#   docker build -t cdrift:0.1.0 .          (the repository is the build context)
#
# Two stages on Debian slim: the build stage has the compiler and the -dev packages,
# the runtime stage only the shared libraries cdrift links and `ctr`, the containerd
# CLI cdrift drives (the same Debian package, so the client matches a Debian node's
# daemon). Nothing is downloaded at build time but Debian packages.
ARG DEBIAN_IMAGE=debian:bookworm-slim

FROM ${DEBIAN_IMAGE} AS build
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      g++ cmake make pkg-config libarchive-dev libssl-dev nlohmann-json3-dev libcli11-dev \
      libisal-dev libzstd-dev containerd \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY include/ include/
COPY src/ src/
COPY rules/ rules/
COPY docs/ docs/
COPY bench/ bench/
COPY scripts/completions/ scripts/completions/
RUN cmake -S /src -B /build -DCMAKE_BUILD_TYPE=Release -DCDRIFT_TESTS=OFF \
      -DCMAKE_INSTALL_PREFIX=/usr/local \
 && cmake --build /build --target cdrift -j"$(nproc)" \
 && DESTDIR=/out cmake --install /build \
 && rm -rf /out/usr/local/share/doc /out/usr/local/share/man \
 && install -D -m 0755 /usr/bin/ctr /out/usr/local/bin/ctr \
 && /out/usr/local/bin/cdrift --version

FROM ${DEBIAN_IMAGE}
# .git is not in the build context, so `cdrift --version` says "commit unknown";
# the revision travels as a label instead: --build-arg CDRIFT_REVISION=$(git rev-parse HEAD)
ARG CDRIFT_REVISION=unknown
LABEL org.opencontainers.image.title="cdrift" \
      org.opencontainers.image.description="Container immutability auditor (node agent)" \
      org.opencontainers.image.revision="${CDRIFT_REVISION}"
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      libarchive13 libssl3 libisal2 libzstd1 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/*
COPY --from=build /out/usr/local/ /usr/local/
COPY deploy/node-agent.sh /usr/local/bin/cdrift-node-agent
# The cache lives on a volume (the pod spec mounts an emptyDir there), so the root
# filesystem can stay read-only.
ENV XDG_CACHE_HOME=/var/cache/cdrift \
    CONTAINERD_ADDRESS=/run/containerd/containerd.sock
# Root without capabilities is enough for the socket and the content store (both
# owned by root); reading containers' files owned by other users needs
# CAP_DAC_READ_SEARCH, which the pod spec adds (docs/kubernetes.md).
USER 0:0
ENTRYPOINT ["/usr/local/bin/cdrift"]
CMD ["--help"]
