// `helm test`: passes once the demo client reports recent successful requests and, with the sidecar, once the
// sidecar is ready and has answered requests with a 2xx status.
// Usage: node --input-type=module -e "$(cat smoke-test.mjs)" CLIENT_STATS_URL SIDECAR_ADMIN_URL|- TIMEOUT_SECONDS
const [statsUrl, adminUrl, timeoutSeconds] = process.argv.slice(1);
const deadline = Date.now() + Number(timeoutSeconds) * 1000;

async function get(url) {
  const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
  const body = await response.text();
  if (!response.ok) throw new Error(`${url} answered ${response.status}: ${body.slice(0, 200)}`);
  return body;
}

/** Sum of breakwater_requests_total samples with status_class="2xx". */
function successfulProxied(metricsText) {
  return metricsText
    .split('\n')
    .filter((line) => line.startsWith('breakwater_requests_total{') && line.includes('status_class="2xx"'))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

async function check() {
  const stats = JSON.parse(await get(statsUrl));
  if (!(stats.window?.ok > 0)) throw new Error(`no successful request in the client's window yet: ${JSON.stringify(stats)}`);
  if (adminUrl === '-') return `client ok: ${stats.window.ok} of ${stats.window.count} recent requests succeeded`;
  await get(`${adminUrl}/readyz`);
  const proxied = successfulProxied(await get(`${adminUrl}/metrics`));
  if (!(proxied > 0)) throw new Error('the sidecar has not answered any request with 2xx yet');
  return `through the sidecar: ${stats.window.ok} of ${stats.window.count} recent requests succeeded; ${proxied} 2xx answers proxied`;
}

let lastProblem = 'not checked';
while (Date.now() < deadline) {
  try {
    console.log(await check());
    process.exit(0);
  } catch (err) {
    lastProblem = err.cause?.code ?? err.cause?.message ?? err.message;
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
console.error(`failed after ${timeoutSeconds}s: ${lastProblem}`);
process.exit(1);
