# Tickwire: one image for every role (`all`, `ingest`, `gateway`, `sim`). See docs/OPERATIONS.md.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx runs the TypeScript sources directly (it is a runtime dependency), so there is no build step.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
COPY src ./src
COPY tsconfig.json ./
USER node
# Embedded storage of the `all` role; the `ingest` and `gateway` roles use DATABASE_URL instead.
VOLUME ["/app/data"]
EXPOSE 7000
ENTRYPOINT ["node", "bin/tickwire.js"]
CMD ["all"]
