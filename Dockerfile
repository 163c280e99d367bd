# One image for the collector and the dashboard; docker-compose.yml picks the command.
FROM node:24-bookworm-slim
RUN npm install --global pnpm@12
WORKDIR /app
COPY . .
RUN pnpm install --frozen-lockfile && pnpm --filter @parallax/dashboard build
ENV NODE_ENV=production
