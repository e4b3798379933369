// Child processes always run the compiled JavaScript in dist/, whether the runner itself runs from dist/chaos (the
// CLI) or from the TypeScript sources (tests through tap's loader).
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export function distFile(...parts: string[]): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'dist', ...parts);
    if (existsSync(path.join(dir, 'package.json'))) {
      if (!existsSync(candidate)) throw new Error(`${path.join('dist', ...parts)} is missing: run npm run build first`);
      return candidate;
    }
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('project root (package.json) not found above the chaos runner');
    dir = parent;
  }
}
