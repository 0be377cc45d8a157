/**
 * A child process whose parent runs the agent needs no agent of its own: its threads' rings live in memory both
 * processes map, and the parent's agent thread reads them as it reads its own threads' rings, with the child's
 * threads' counters from /proc/PID/task. A prefork server's worker (or a cluster worker) then costs its request
 * tracker and nothing else: no agent thread (a V8 isolate that wakes every interval), no /proc reads, no export of
 * its own. Measured before this, each child's agent cost ~2.5 ms of CPU a second idle and ~4 with its OTLP export
 * (bench/agent-idle-cost), which in a prefork tree of four was most of what the agent cost it.
 *
 * The parent says so in its environment (PARENT_ENV: its pid and a digest of the agent's configuration), which
 * children inherit. A child takes the offer only if its parent is that pid and its own configuration has the same
 * digest: a child configured as another service (its own service name, collector or interval) keeps its own agent.
 * Grandchildren see a pid that is not their parent's, and run their own.
 *
 * The parent finds its children in /proc/self/task/TID/children and their rings by their names: each is a memfd
 * named `srvlens-ring:TID`, which /proc/PID/fd lists as "/memfd:srvlens-ring:TID (deleted)". A child the parent's
 * agent is told to adopt (one that hands off at its end: fork-per-connection) is left to that path.
 *
 * Both ends load srvlens's addon (native/blocking_socket.c: memfd_create and mmap). The preload loads no package, so
 * it looks for the addon where srvlens puts it (a source build, else the prebuild for this platform) rather than
 * through node-gyp-build; where it finds none, nothing is offered and every process runs its own agent, as before.
 */
import { existsSync, readdirSync, readlinkSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../src/vocabulary/package-paths.js';
import type { AgentConfig } from './config.js';

/** `PID:DIGEST` of a process whose agent reads its children's rings. */
export const PARENT_ENV = 'SRVLENS_AGENT_PARENT';
const RING_PREFIX = 'srvlens-ring:';
const RING_LINK = /^\/memfd:srvlens-ring:(\d+)/;

interface SharedMemoryApi {
  sharedMemory(name: string, bytes: number): { buffer: ArrayBuffer; fd: number };
  mapSharedMemory(path: string): ArrayBuffer;
}

/** The addon where srvlens's package has it: build/Release (a source build wins, as node-gyp-build has it), else prebuilds/. */
function addonFile(): string | null {
  const built = join(PACKAGE_ROOT, 'build/Release/blocking_socket.node');
  if (existsSync(built)) return built;
  const dir = join(PACKAGE_ROOT, 'prebuilds', `${process.platform}-${process.arch}`);
  try {
    const file = readdirSync(dir).find((f) => f.endsWith('.napi.node') || f.endsWith('.node'));
    return file ? join(dir, file) : null;
  } catch {
    return null;
  }
}

let api: SharedMemoryApi | null | undefined;

function sharedMemoryApi(): SharedMemoryApi | null {
  if (api !== undefined) return api;
  try {
    const file = addonFile();
    const loaded = file ? (createRequire(import.meta.url)(file) as Partial<SharedMemoryApi>) : null;
    api = loaded?.sharedMemory && loaded.mapSharedMemory ? (loaded as SharedMemoryApi) : null;
  } catch {
    api = null;
  }
  return api;
}

/**
 * FNV-1a of the agent's configuration (what it read from SRVLENS_ and OTEL_ variables): a parent and a child with the
 * same one are the same service, exported to the same place at the same interval.
 */
function identity(config: AgentConfig): string {
  const text = JSON.stringify(config);
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return (h >>> 0).toString(16);
}

/** In a process that starts the whole agent: children started from here on leave their rings to it. */
export function offerToChildren(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): void {
  if (sharedMemoryApi() !== null) env[PARENT_ENV] = `${process.pid}:${identity(config)}`;
  else delete env[PARENT_ENV]; // an offer inherited from further up is not this process's to pass on
}

/** True in a process (any of its threads) whose parent's agent reads its rings. */
export function parentReadsRings(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): boolean {
  const offer = env[PARENT_ENV];
  if (!offer) return false;
  const [pid, digest] = offer.split(':');
  return Number(pid) === process.ppid && digest === identity(config) && sharedMemoryApi() !== null;
}

/** The child's side: zeroed memory for the ring of thread `tid`, which the parent's agent maps. */
export function sharedRingBuffer(tid: number, bytes: number): ArrayBuffer {
  const shared = sharedMemoryApi();
  if (shared === null) throw new Error('srvlens agent: no addon to share memory with');
  return shared.sharedMemory(`${RING_PREFIX}${tid}`, bytes).buffer;
}

/** The parent's side: child `pid`'s rings not in `known`, by thread id, mapped. */
export function mapChildRings(pid: number, known: ReadonlySet<number>): Map<number, ArrayBuffer> {
  const out = new Map<number, ArrayBuffer>();
  const shared = sharedMemoryApi();
  if (shared === null) return out;
  let fds: string[];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const m = RING_LINK.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (!m || known.has(Number(m[1]))) continue;
      out.set(Number(m[1]), shared.mapSharedMemory(`/proc/${pid}/fd/${fd}`));
    } catch {
      // closed since the listing
    }
  }
  return out;
}
