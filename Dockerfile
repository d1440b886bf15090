# syntax=docker/dockerfile:1
#
# The gateway image: build with the official Swift image, run on Debian slim.
#
#   docker build -t auth-gateway .
#   docker run --rm -p 8080:8080 -p 9090:9090 \
#       -v "$PWD/gateway.json:/etc/gateway/gateway.json:ro" \
#       -v gateway-data:/var/lib/gateway \
#       -e GW_HS256_SECRET=... auth-gateway
#
# The configuration is mounted (nothing is baked in); secrets come from environment variables
# (`secret_env`, `password_env`) or mounted files (`secret_file`, `private_key_file`). See
# docs/deploy.md. Both stages are Debian 12 (bookworm), so the OpenSSL 3.0 the binary is linked
# against at build time is the one it finds at run time.

ARG SWIFT_IMAGE=swift:6.3-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

# ---- build -----------------------------------------------------------------------------------
FROM ${SWIFT_IMAGE} AS build
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libssl-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# The whole package (Package.swift names test and benchmark targets too, so their folders must
# exist); .dockerignore keeps build folders, Fuzz/, docs and git out of the context.
COPY . .
# The commit for gateway_build_info: `docker build --build-arg GATEWAY_COMMIT=$(git rev-parse HEAD)`
# (.dockerignore keeps .git out). Hex digits only; "unknown" when not given.
ARG GATEWAY_COMMIT=unknown
RUN case "$GATEWAY_COMMIT" in unknown) ;; *[!0-9a-f]*|"") echo "GATEWAY_COMMIT must be hex" >&2; exit 1 ;; *) \
        sed -i "s/static let commit = \"unknown\"/static let commit = \"$GATEWAY_COMMIT\"/" \
            Sources/GatewayCore/Observability/BuildInfo.swift \
        && grep -q "static let commit = \"$GATEWAY_COMMIT\"" Sources/GatewayCore/Observability/BuildInfo.swift ;; \
    esac
# --static-swift-stdlib: the Swift runtime, Foundation Essentials and Dispatch are linked in;
# what remains dynamic is glibc, libstdc++/libgcc_s and OpenSSL (Tests/blackbox/test_static_build.py).
RUN swift build -c release --static-swift-stdlib --product gateway \
    && install -D -m 0755 "$(swift build -c release --static-swift-stdlib --show-bin-path)/gateway" /out/gateway \
    && /out/gateway --version

# ---- run -------------------------------------------------------------------------------------
FROM ${RUNTIME_IMAGE}
# libssl3: the binary's only non-base dependency (libcrypto comes with it). ca-certificates: for
# operators who point the gateway at TLS endpoints later, and for debugging from the image.
# libstdc++6 and libgcc-s1 are already in the base image; naming them keeps that explicit.
RUN export DEBIAN_FRONTEND=noninteractive \
    && apt-get -q update \
    && apt-get -q install -y --no-install-recommends libssl3 ca-certificates libstdc++6 libgcc-s1 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --home-dir /var/lib/gateway --no-create-home \
        --shell /usr/sbin/nologin gateway \
    && install -d -o gateway -g gateway -m 0750 /var/lib/gateway \
    && install -d -m 0755 /etc/gateway

COPY --from=build /out/gateway /usr/local/bin/gateway

# The embedded token store (journal + snapshots). Set `"store": {"kind": "embedded", "path":
# "/var/lib/gateway"}` in gateway.json: a relative path resolves against the config's folder
# (/etc/gateway), which is read-only here. Not needed with `"kind": "redis"`.
VOLUME ["/var/lib/gateway"]
WORKDIR /var/lib/gateway

# Public listener (`listen`) and admin listener (`admin_listen`: /healthz, /readyz, /metrics).
# In a container they must bind all interfaces to be reachable through `docker run -p`, so the
# image overrides the file's addresses (the example gateway.json keeps loopback for the binary
# run by hand). Set them again with `-e` to choose others; they win over gateway.json
# (docs/configuration.md). Tests/blackbox/test_static_build.py applies these to the binary.
ENV GATEWAY_LISTEN=0.0.0.0:8080 GATEWAY_ADMIN_LISTEN=0.0.0.0:9090
EXPOSE 8080 9090

# Numeric ids, so that Kubernetes' runAsNonRoot can check them.
USER 10001:10001

# Liveness from inside the container, with no curl in the image: bash's /dev/tcp sends one
# HTTP/1.1 request to the admin /healthz and the status line must say 200. The admin port is
# 9090 unless GATEWAY_HEALTH_PORT says otherwise (match GATEWAY_ADMIN_LISTEN).
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/${GATEWAY_HEALTH_PORT:-9090} && printf 'GET /healthz HTTP/1.1\\r\\nHost: localhost\\r\\nConnection: close\\r\\n\\r\\n' >&3 && timeout 2 head -n 1 <&3 | grep -q '^HTTP/1\\.[01] 200\\b'"]

# SIGTERM (docker stop, Kubernetes) drains: no new connections, in-flight requests finish
# within limits.shutdown_grace, the store is flushed, exit 0. Give `docker stop -t` / the pod's
# terminationGracePeriodSeconds more than shutdown_grace. SIGHUP reloads gateway.json and keys.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/gateway"]
CMD ["run", "--config", "/etc/gateway/gateway.json"]
