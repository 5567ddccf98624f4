import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import fastifyStatic from '@fastify/static';

const ROOT = fileURLToPath(new URL('../dashboard/static/', import.meta.url));

/** The ops dashboard: static files, no auth (the page asks for a token and sends it to the API). */
export const dashboardRoutes: FastifyPluginAsync = async (app) => {
  // The page is small and changes with each release; browsers revalidate rather than cache.
  await app.register(fastifyStatic, { root: ROOT, prefix: '/dashboard/', cacheControl: false, etag: true, setHeaders: (reply) => void reply.header('cache-control', 'no-cache') });
  for (const path of ['/', '/dashboard']) app.get(path, { schema: { hide: true } }, (_req, reply) => reply.sendFile('index.html'));
};
