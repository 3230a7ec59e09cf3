# syntax=docker/dockerfile:1
# A static binary on distroless: the final image holds taskapi and nothing else (no shell,
# no curl; the healthcheck is `taskapi healthcheck`). Everything it serves, the docs' assets
# and the migrations included, is embedded in the binary.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/taskapi ./cmd/taskapi

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/taskapi /taskapi
ENV ADDR=:8080
EXPOSE 8080
USER nonroot:nonroot
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s CMD ["/taskapi", "healthcheck"]
ENTRYPOINT ["/taskapi"]
