// `node dist/bench/profile-summary.js FILE.cpuprofile [N]`: the top-N functions by self time of a
// `node --cpu-prof` profile, to find Breakwater's hotspots under bench load.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

interface HotFunction {
  name: string;
  location: string;
  selfPercent: number;
  selfMs: number;
}

/** Self time per function (all nodes of the same function and location added up), highest first. */
function hotFunctions(profile: CpuProfile): HotFunction[] {
  const totalSamples = profile.samples.length;
  if (totalSamples === 0) throw new Error('the profile has no samples');
  const msPerSample = (profile.endTime - profile.startTime) / 1000 / totalSamples;
  const bySelf = new Map<string, HotFunction>();
  for (const node of profile.nodes) {
    const hits = node.hitCount ?? 0;
    if (hits === 0) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    // Keep the package and file, drop the machine-specific directory prefix.
    const file = url.replace(/^file:\/\//, '').replace(/^.*\/(node_modules\/|dist\/)/, '$1');
    const location = file ? `${file}:${lineNumber + 1}` : '(native)';
    const name = functionName || '(anonymous)';
    const key = `${name} ${location}`;
    const entry = bySelf.get(key) ?? { name, location, selfPercent: 0, selfMs: 0 };
    entry.selfPercent += (100 * hits) / totalSamples;
    entry.selfMs += hits * msPerSample;
    bySelf.set(key, entry);
  }
  return [...bySelf.values()].sort((a, b) => b.selfMs - a.selfMs);
}

const [file, count = '25'] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node dist/bench/profile-summary.js FILE.cpuprofile [N]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
for (const hot of hotFunctions(profile).slice(0, Number(count))) {
  const percent = hot.selfPercent.toFixed(1).padStart(5);
  process.stdout.write(`${percent}%  ${hot.selfMs.toFixed(0).padStart(6)} ms  ${hot.name}  ${hot.location}\n`);
}
