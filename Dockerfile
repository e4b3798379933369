# syntax=docker/dockerfile:1
# One image for the Breakwater proxy (the entrypoint) and the demo services:
#   docker run IMAGE --config /etc/breakwater/breakwater.yaml
#   docker run --entrypoint node IMAGE dist/demo-backend/main.js
#   docker run --entrypoint node IMAGE dist/demo-client/main.js serve
ARG NODE_IMAGE=node:24-slim

# Build: all dependencies (TypeScript is a dev dependency), then compile to dist/.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would compile before the sources are copied; the build step below does it.
RUN npm ci --ignore-scripts
COPY . .
RUN npm run build

# Runtime: production dependencies and the compiled output only; no compiler, no tests, no sources.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
# The gRPC demo's .proto files, which it loads at run time (found next to its compiled code).
COPY --from=build /app/demo-backend/grpc/*.proto ./dist/demo-backend/grpc/
# `breakwater` on PATH, as the Helm chart and the docs call it.
RUN printf '#!/bin/sh\nexec node /app/dist/proxy/cli.js "$@"\n' > /usr/local/bin/breakwater \
 && chmod 0755 /usr/local/bin/breakwater
# The base image's unprivileged `node` user, numerically so Kubernetes can verify runAsNonRoot.
USER 1000:1000
# 9901 admin (/metrics /healthz /readyz), 15001 the egress listener of the default policy, 8080 the demo services.
EXPOSE 9901 15001 8080
ENTRYPOINT ["breakwater"]
CMD ["--config", "/etc/breakwater/breakwater.yaml"]
