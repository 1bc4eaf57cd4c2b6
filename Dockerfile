# syntax=docker/dockerfile:1
# The redspin image: a static binary (scripts/release.sh) on distroless
# static, which brings CA certificates, a non-root user and nothing else.
#
#   docker build --build-arg REDSPIN_VERSION=v0.1.0 --build-arg REDSPIN_COMMIT=$(git rev-parse HEAD) -t redspin .
#   docker run --rm redspin up -f ghcr.io/example/app:v1          # an OCI app
#   docker run --rm -v "$PWD:/app:ro" redspin up --state-dir ""   # a mounted app directory
#
# Not built on the development machine (no container engine there); the
# binary it builds is checked by scripts/check-static.sh.

FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG REDSPIN_VERSION=dev
ARG REDSPIN_COMMIT=unknown
RUN REDSPIN_VERSION="$REDSPIN_VERSION" REDSPIN_COMMIT="$REDSPIN_COMMIT" scripts/release.sh /out/redspin \
	&& /out/redspin version

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/redspin /usr/local/bin/redspin
# The cache (pulled apps, compiled components) is /var/cache/redspin; with a
# read-only root filesystem, mount a writable volume there and on /tmp.
ENV XDG_CACHE_HOME=/var/cache
USER 65532:65532
WORKDIR /app
ENTRYPOINT ["/usr/local/bin/redspin"]
CMD ["up"]
