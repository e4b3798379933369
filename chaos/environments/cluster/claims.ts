// A record of each mini-cluster that exists, kept while it does: /run/breakwater-chaos/<id>.json with the PID of the
// process that made it. Leftovers are found from these records only, so a cleanup can never mistake a name someone
// else made for one of ours. /run is emptied at boot, like the namespaces themselves.
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';

const CLAIMS_DIR = '/run/breakwater-chaos';

export interface Claim {
  id: string;
  pid: number;
}

const fileOf = (id: string) => path.join(CLAIMS_DIR, `${id}.json`);

/** Written aside and renamed into place: runs in parallel list the directory at any moment, and must never read a
 * claim half written. */
export async function writeClaim(id: string): Promise<void> {
  await mkdir(CLAIMS_DIR, { recursive: true });
  const partial = path.join(CLAIMS_DIR, `${id}.partial`);
  await writeFile(partial, JSON.stringify({ id, pid: process.pid } satisfies Claim));
  await rename(partial, fileOf(id));
}

export async function dropClaim(id: string): Promise<void> {
  await rm(fileOf(id), { force: true });
}

export function dropClaimNow(id: string): void {
  rmSync(fileOf(id), { force: true });
}

export async function listClaims(): Promise<Claim[]> {
  const files = await readdir(CLAIMS_DIR).catch(() => [] as string[]);
  const claims = await Promise.all(
    files.filter((f) => f.endsWith('.json')).map((f) => readFile(path.join(CLAIMS_DIR, f), 'utf8').then(parseClaim, () => undefined)),
  );
  return claims.filter((c): c is Claim => c !== undefined);
}

/** A file that is not a claim (one from an older version, or damaged) is not ours to act on. */
function parseClaim(text: string): Claim | undefined {
  try {
    const claim = JSON.parse(text) as Partial<Claim> | null;
    return typeof claim?.id === 'string' && Number.isInteger(claim.pid) ? (claim as Claim) : undefined;
  } catch {
    return undefined;
  }
}
