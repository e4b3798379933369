/**
 * CA bundles named by upstreams' `tls.caFile`: read and parsed while the policy is checked, so a missing or broken
 * file fails `breakwater validate` (and a reload) with its line instead of the start of the pools that need it.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g;

export type CaFile = { pem: string } | { problem: string };

/** Reads `file` and checks that it holds PEM certificates, every one of them readable. */
export function readCaFile(file: string): CaFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return { problem: `cannot read ${file}: ${(err as Error).message}` };
  }
  const blocks = text.match(PEM_CERTIFICATE);
  if (!blocks) return { problem: `${file} holds no PEM certificate (-----BEGIN CERTIFICATE-----)` };
  for (const [index, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return { problem: `${file}: certificate ${index + 1} is not a valid PEM certificate: ${(err as Error).message}` };
    }
  }
  return { pem: blocks.join('\n') };
}

/** One policy check's CA files, each read once however many upstreams name it. */
export class CaFiles {
  private readonly read = new Map<string, CaFile>();

  get(file: string): CaFile {
    let ca = this.read.get(file);
    if (ca === undefined) {
      ca = readCaFile(file);
      this.read.set(file, ca);
    }
    return ca;
  }
}
