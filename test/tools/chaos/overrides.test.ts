// Command-line overrides change only what they name: the load's client settings survive a --duration or --rate.
import t from 'tap';
import { applyOverrides } from '../../../chaos/experiment/overrides.js';
import { tinyExperiment } from './experiment-fixture.js';

t.test('--duration and --rate keep clients, workers and the client timeout', async (t) => {
  const { experiment } = await tinyExperiment(t, (e) => Object.assign(e.load, { clients: 8, workers: 30, clientTimeout: '2s' }));
  const short = applyOverrides(experiment, { durationMs: 1500, rate: 4 });
  t.match(short.load, { clients: 8, workers: 30, clientTimeoutMs: 2000, durationMs: 1500, rate: 4 });
  t.match(applyOverrides(experiment, {}).load, { clients: 8, workers: 30, clientTimeoutMs: 2000 });
});
