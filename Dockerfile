# Tickwire: one image for every role (`all`, `ingest`, `gateway`, `sim`). See docs/OPERATIONS.md.
# The first stage compiles the TypeScript sources and builds the dashboard (dist/dashboard, served at /); the image
# ships only dist/, bin/ and the production dependencies. `npm run build` also makes dist/pglite-template-<version>/,
# the empty embedded database that a first start copies into /app/data (made readable by every user: the image
# runs as `node`).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Dependencies first, so that a change of the sources alone reuses this layer; the build runs once they are in.
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY dashboard ./dashboard
RUN npm run build && npm prune --omit=dev --ignore-scripts --no-audit --no-fund

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY bin ./bin
USER node
# Embedded storage of the `all` role; the `ingest` and `gateway` roles use DATABASE_URL instead.
VOLUME ["/app/data"]
EXPOSE 7000
ENTRYPOINT ["node", "bin/tickwire.js"]
CMD ["all"]
