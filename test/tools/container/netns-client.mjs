// HTTP from inside a container's network namespace, run by the tests as `nsenter --net=NS node netns-client.mjs JSON`
// (plain JavaScript: it runs on the host's node, outside the test loader). A new connection per request (agent: false),
// so each request is either accepted by the server or refused at connect, never sent on a connection being closed.
//   {"get": URL, "count": N, "timeoutMs": T}
//       N requests one after another; prints one JSON line: [{status, replica, body, error}] (replica: x-backend-replica).
//   {"poll": URL, "match": REGEXP, "flags": FLAGS, "deadlineMs": D}
//       GETs every 100 ms until one answers 200 (with a body matching REGEXP, if given) or D ms pass; prints the last
//       result, with the time taken, as one line.
//   {"load": URL, "inflight": K, "intervalMs": I, "maxRequests": M, "timeoutMs": T}
//       K requests at once, then {"event":"sent"} once all K are written; then one more every I ms until one is refused
//       at connect or M were sent; then {"event":"done","results":[{phase, status, error, ms}]}.
import { request } from 'node:http';

const spec = JSON.parse(process.argv[2]);

function send(url, timeoutMs, onWritten = () => {}) {
  const started = Date.now();
  return new Promise((resolve) => {
    const done = (result) => resolve({ ...result, ms: Date.now() - started });
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => done({ status: res.statusCode, replica: res.headers['x-backend-replica'], body }));
      res.on('error', (err) => done({ status: res.statusCode, error: err.code ?? err.message }));
    });
    req.on('finish', onWritten);
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (err) => done({ error: err.code ?? err.message }));
    req.end();
  });
}

async function get({ get: url, count = 1, timeoutMs = 5000 }) {
  const results = [];
  for (let i = 0; i < count; i++) results.push(await send(url, timeoutMs));
  console.log(JSON.stringify(results));
}

async function poll({ poll: url, match, flags, deadlineMs }) {
  const started = Date.now();
  const pattern = new RegExp(match ?? '', flags);
  for (;;) {
    const result = await send(url, 1000);
    if ((result.status === 200 && pattern.test(result.body)) || Date.now() - started > deadlineMs) {
      console.log(JSON.stringify({ ...result, ms: Date.now() - started }));
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function load({ load: url, inflight, intervalMs, maxRequests, timeoutMs }) {
  let written = 0;
  const pending = [];
  for (let i = 0; i < inflight; i++) {
    pending.push(send(url, timeoutMs, () => {
      if (++written === inflight) console.log(JSON.stringify({ event: 'sent' }));
    }).then(({ body, ...r }) => ({ phase: 'before-stop', ...r })));
  }
  let refused = false;
  for (let sent = inflight; sent < maxRequests && !refused; sent++) {
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
    pending.push(send(url, timeoutMs).then(({ body, ...r }) => {
      if (r.error === 'ECONNREFUSED') refused = true;
      return { phase: 'during-stop', ...r };
    }));
  }
  console.log(JSON.stringify({ event: 'done', results: await Promise.all(pending) }));
}

await (spec.get ? get(spec) : spec.poll ? poll(spec) : load(spec));
