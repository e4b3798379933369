// The bare reference: @fastify/http-proxy with no policies at all.
import Fastify from 'fastify';
import httpProxy from '@fastify/http-proxy';
import { announceListening, readFlag } from './server-cli.js';

const app = Fastify({ logger: false });
await app.register(httpProxy, { upstream: readFlag('upstream') });
await app.listen({ host: '127.0.0.1', port: 0 });
announceListening(app.server.address());
