import t from 'tap';
import { protocolsOffered } from '../../../proxy/server/upgrade.js';

t.test("the client's Upgrade list: each protocol as written (sent upstream) and by its lower-case name (matched)", async (t) => {
  t.same(protocolsOffered(undefined), []);
  t.same(protocolsOffered('websocket'), [{ text: 'websocket', name: 'websocket' }]);
  t.same(protocolsOffered('WebSocket'), [{ text: 'WebSocket', name: 'websocket' }]);
  t.same(protocolsOffered(' IRC/6.9 , h2c,, '), [
    { text: 'IRC/6.9', name: 'irc' },
    { text: 'h2c', name: 'h2c' },
  ]);
});
