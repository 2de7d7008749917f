# slagate in a container: `docker run IMAGE check --profile smoke --host https://staging…`.
# The image is what deploy/kubernetes/ runs (one container per shard, then one to merge).
# README § "Scaling out: shards and `slagate merge`".
#
#   docker build -t slagate .
#   docker run --rm slagate check --profile smoke --host http://host.docker.internal:8003
#   docker run --rm -v "$PWD:/slagate:ro" -v "$PWD/out:/out" slagate \
#       check --profile medium --json /out/run.json     # your sla.toml and profiles, reports in ./out
#
# `RUN --mount=type=cache` needs BuildKit, the default builder since Docker 23.

# ---- build: the release binary, with the same lockfile as every other build ----
FROM rust:1-bookworm AS build
WORKDIR /src
# What the binary is made of, and nothing else (.dockerignore keeps target/ and .git out):
# sla.toml and profiles/ are compiled in as the built-in defaults (src/config/builtin.rs).
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY sla.toml ./
COPY profiles ./profiles
# The registry and target folders are cache mounts, so a rebuild after a source change
# compiles slagate alone; a cache mount is not part of the image, hence the copy to /out.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked \
    && install -D -m 0755 target/release/slagate /out/slagate

# ---- runtime: glibc and libgcc only, no shell, no package manager ----
# distroless/cc is Debian 12's glibc, the same as the bookworm builder's, so the binary runs
# as built. TLS needs no OpenSSL (rustls); the image's CA bundle is the trust store, and
# slagate falls back to its bundled Mozilla roots where a store is empty.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/slagate /usr/local/bin/slagate
# slagate reads ./sla.toml and ./profiles/NAME.toml from its working folder. The repo's files
# are the defaults; mount your own over /slagate (Kubernetes: the ConfigMap) to replace them.
WORKDIR /slagate
COPY sla.toml ./
COPY profiles ./profiles
# A numeric user: Kubernetes' runAsNonRoot can only verify a numeric one ("nonroot" would be
# refused). 65532 is distroless' nonroot. A report folder you mount must be writable by it.
USER 65532:65532
# Exec form with an absolute path: there is no shell in the image to look the name up.
ENTRYPOINT ["/usr/local/bin/slagate"]
CMD ["--help"]
