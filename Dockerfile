# ecsgate as a container image: a static (musl) binary on an empty base, run as a non-root user.
#   docker build -t ecsgate .
#   docker run --rm -e AWS_REGION -e AWS_ACCESS_KEY_ID -e AWS_SECRET_ACCESS_KEY -e AWS_SESSION_TOKEN \
#     ecsgate wait --cluster shop --service api
# The release profile (Cargo.toml) is the one the release assets use.
FROM rust:1.95-alpine AS build
RUN apk add --no-cache musl-dev
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches

FROM alpine:3.22 AS certs
RUN apk add --no-cache ca-certificates

FROM scratch
COPY --from=certs /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /src/target/release/ecsgate /usr/local/bin/ecsgate
# Not root: ecsgate needs no privilege; 65532 is the conventional "nonroot" id.
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/ecsgate"]
CMD ["--help"]
