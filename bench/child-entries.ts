/** The benches' own child processes and preloads (the plain app, its upstream, the preloads) are compiled beside them. */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The compiled file `name` (e.g. 'apps/plain-app.js'), relative to this folder. */
export const benchFile = (name: string): string => join(dirname(fileURLToPath(import.meta.url)), name);
