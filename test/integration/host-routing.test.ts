/**
 * A route matching `host` routes HTTP/1.1 requests by Host and HTTP/2 requests by :authority, which HTTP/2 clients
 * send instead of Host (RFC 9113 §8.3.1), through a real Breakwater.
 */
import { once } from 'node:events';
import { connect, type IncomingHttpHeaders } from 'node:http2';
import t from 'tap';
import { http, startBreakwater } from '../helpers/breakwater.js';
import { startScriptedUpstream } from '../helpers/scripted-upstream.js';

t.test('match.headers.host routes HTTP/1.1 by Host and HTTP/2 by :authority the same way', async (t) => {
  const svc = await startScriptedUpstream();
  const rest = await startScriptedUpstream();
  t.teardown(() => Promise.all([svc.close(), rest.close()]));
  const bw = await startBreakwater({
    listeners: [
      {
        name: 'main',
        address: '127.0.0.1:0',
        routes: [
          { name: 'svc', match: { headers: { host: 'svc.local' } }, upstream: 'svc' },
          { name: 'rest', upstream: 'rest' },
        ],
      },
    ],
    upstreams: [
      { name: 'svc', endpoints: [svc.address] },
      { name: 'rest', endpoints: [rest.address] },
    ],
  });
  t.teardown(() => bw.stop());

  const overHttp1 = async (host: string, path: string) => (await http(`${bw.url}${path}`, { headers: { host } })).status;
  const session = connect(bw.url);
  t.teardown(() => session.close());
  const overHttp2 = async (authority: string, path: string) => {
    const stream = session.request({ ':path': path, ':authority': authority });
    stream.end().resume();
    const [head] = (await once(stream, 'response')) as [IncomingHttpHeaders];
    await once(stream, 'close');
    return head[':status'];
  };

  for (const [protocol, send] of [['HTTP/1.1', overHttp1], ['HTTP/2', overHttp2]] as const) {
    t.equal(await send('svc.local', `/svc/${protocol}`), 200, `${protocol}: svc.local answered`);
    t.equal(svc.count(`/svc/${protocol}`), 1, `${protocol}: svc.local went to route "svc"`);
    t.equal(await send('other.local', `/rest/${protocol}`), 200, `${protocol}: other.local answered`);
    t.equal(rest.count(`/rest/${protocol}`), 1, `${protocol}: other.local went to route "rest"`);
  }
});
