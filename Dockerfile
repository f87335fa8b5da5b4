# geoaccess container image: geoaccessd (the entrypoint) and the geoaccess
# command line, static binaries on a distroless base — no shell, no
# package manager, non-root (uid 65532).
#
#   docker build -t geoaccess:dev .
#   docker run --rm -p 8443:8443 -p 9090:9090 geoaccess:dev            # the embedded sample roster
#   docker run --rm --entrypoint /usr/local/bin/geoaccess geoaccess:dev db migrate --db "$DATABASE_URL"
#
# The Go version matches go.mod; bump both together.

ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first: the layer is reused until go.mod or go.sum change.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
# CGO_ENABLED=0: fully static, so the image needs no C library. -trimpath
# keeps build paths out of the binaries.
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/ ./cmd/geoaccessd ./cmd/geoaccess

# distroless/static: CA certificates (TLS to a managed PostgreSQL),
# /etc/passwd with the nonroot user, tzdata; nothing else. geoaccessd also
# embeds the zone database (--tz) and all its default data.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/geoaccessd /out/geoaccess /usr/local/bin/
# The sample roster as a file, for "geoaccess roster load" in the local
# stack (docker-compose.yaml); the server embeds it anyway.
COPY data/assets/sample/roster.csv /usr/share/geoaccess/sample-roster.csv
USER 65532:65532
ENV GEOACCESS_LISTEN=:8443 \
    GEOACCESS_METRICS_LISTEN=:9090 \
    GEOACCESS_LOG_FORMAT=json
EXPOSE 8443 9090
ENTRYPOINT ["/usr/local/bin/geoaccessd"]
