FROM rust:1.95-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin faultline

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates && rm -rf /var/lib/apt/lists/*
COPY --from=build /src/target/release/faultline /usr/local/bin/faultline
VOLUME /var/lib/faultline
ENTRYPOINT []
CMD ["faultline", "--help"]
