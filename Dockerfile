# syntax=docker/dockerfile:1
# The roomring image: one static binary (`roomring node`, `roomring operator`)
# on distroless/static, running as the non-root user 65532. Nothing is written
# outside the volumes the chart mounts (/var/lib/roomring, /tmp), so it runs
# with a read-only root filesystem.
#
#   docker build --build-arg VERSION=$(git describe --tags --always) -t ghcr.io/roomring/roomring:dev .

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION} AS build
ARG TARGETOS
ARG TARGETARCH
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w -X github.com/roomring/roomring/cmd.Version=${VERSION}" \
    -o /out/roomring .

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roomring /roomring
USER 65532:65532
# HTTP/websocket, gossip (TCP and UDP), peer links; the operator's metrics
# and probes use 8080 and 8081.
EXPOSE 8080 7946/tcp 7946/udp 7947 8081
ENTRYPOINT ["/roomring"]
CMD ["node", "--listen=:8080", "--data-dir=/var/lib/roomring"]
