// Legacy-sidecar postStart hook: returns once the proxy's /readyz answers 200, so Kubernetes starts the app after it.
// Usage: node --input-type=module -e "$(cat wait-ready.mjs)" READYZ_URL TIMEOUT_SECONDS
const [url, timeoutSeconds] = process.argv.slice(1);
const deadline = Date.now() + Number(timeoutSeconds) * 1000;
let lastProblem = 'no answer yet';
while (Date.now() < deadline) {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    if (response.ok) process.exit(0);
    lastProblem = `status ${response.status}`;
  } catch (err) {
    lastProblem = err.cause?.code ?? err.cause?.message ?? err.message;
  }
  await new Promise((resolve) => setTimeout(resolve, 250));
}
console.error(`breakwater: ${url} not ready after ${timeoutSeconds}s (${lastProblem})`);
process.exit(1);
