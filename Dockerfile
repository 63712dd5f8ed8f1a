# One image for the worker and the webhook (docker-compose.yml picks the command).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production NOVADE_SKIP_SETUP=1
COPY package.json package-lock.json ./
# npm install, not npm ci: the lock lists only linux-x64 native packages (see README "Development").
RUN npm install --omit=dev --no-audit --no-fund
COPY . .
USER node
# node itself, not npm run: npm as PID 1 does not wait for the worker to drain after SIGTERM.
CMD ["node", "--import", "tsx", "workers/worker-main.ts"]
