#!/usr/bin/env node
import { ConfigError, parseConfig, USAGE, type BackendConfig } from './config.js';

function loadConfig(): BackendConfig {
  try {
    const config = parseConfig(process.argv.slice(2), process.env);
    if (config) return config;
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`demo-backend: ${error.message}\n\n${USAGE}\n`);
    process.exit(2);
  }
}

const config = loadConfig();
// Loaded only once the flags are valid, so --help and bad flags answer without loading the HTTP stack.
const { serve } = await import('./serve.js');
await serve(config);
