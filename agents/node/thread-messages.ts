/**
 * What crosses the agent's thread boundaries, typed once for both ends: the announcements threads make on the
 * registry channel, the main thread's requests to the agent thread (agent.ts -> agent-thread.ts) and its answers,
 * the agent thread's `workerData`, and a short-lived child's hand-off that the main thread relays to it.
 * All of them go once per thread start or per interval, never per request.
 */
import { isTagged } from '../../src/vocabulary/tagged-message.js';
import type { AgentHandOff } from '../../src/vocabulary/stage-hook.js';
import type { AgentConfig } from './config.js';
import type { BucketData } from './thread-ring.js';

/** The channel on which threads announce their rings (the agent thread listens; so does the main thread, to relay). */
export const REGISTRY_CHANNEL = 'srvlens.agent.registry';

export interface ThreadAnnouncement {
  type: 'thread';
  pid: number;
  tid: number;
  name: string;
  hasLoop: boolean;
  buffer: SharedArrayBuffer;
}

/** What a short-lived child's agent measured (ThreadRecorder.handOff), for its parent's agent to report. */
export interface HandOffData {
  pid: number;
  name: string;
  buckets: BucketData[];
  cpuUserMs: number;
  cpuSystemMs: number;
  voluntary: number;
  involuntary: number;
  /** The child's life on the shared clock, ms. */
  startMs: number;
  endMs: number;
}

/** The hand-off as it crosses the process boundary: the servers carry it as an opaque AgentHandOff. */
export type HandOff = AgentHandOff & HandOffData;

/** The agent thread's `workerData`; `srvlensAgentThread` tells register.ts not to observe the agent's own thread. */
export interface AgentThreadData {
  config: AgentConfig;
  srvlensAgentThread: true;
  /** The interval in which the agent started: harvested from there even if the thread loaded later. */
  startIndex: number;
}

/** Main thread to agent thread: a ring to read, a child to read from /proc, its hand-off, or a request answered by FromAgentThread. */
export type ToAgentThread =
  | ThreadAnnouncement
  | (HandOffData & { type: 'foreign' })
  | { type: 'adopt'; pid: number; name: string; atMs: number }
  | { type: 'stats' }
  | { type: 'flush' };

/** Agent thread to main thread: the answer to `stats`; `flushed` once what `flush` harvested is sent. */
export type FromAgentThread = { type: 'stats'; exported: number; errors: number; threads: number } | { type: 'flushed' };

const TO_AGENT_THREAD = { thread: true, foreign: true, adopt: true, stats: true, flush: true } as const;
const FROM_AGENT_THREAD = { stats: true, flushed: true } as const;
const ANNOUNCEMENT = { thread: true } as const;

export const isToAgentThread = (m: unknown): m is ToAgentThread => isTagged<ToAgentThread>(m, TO_AGENT_THREAD);
export const isFromAgentThread = (m: unknown): m is FromAgentThread => isTagged<FromAgentThread>(m, FROM_AGENT_THREAD);

/** The announcement in a registry channel's event (a MessageEvent), or null for anything else posted there. */
export function announcementOf(event: unknown): ThreadAnnouncement | null {
  if (typeof event !== 'object' || event === null || !('data' in event)) return null;
  return isTagged<ThreadAnnouncement>(event.data, ANNOUNCEMENT) ? event.data : null;
}

/** True in the agent's own thread, whatever else a host's worker threads are given as `workerData`. */
export function isAgentThreadData(data: unknown): data is AgentThreadData {
  return typeof data === 'object' && data !== null && 'srvlensAgentThread' in data && data.srvlensAgentThread === true;
}
