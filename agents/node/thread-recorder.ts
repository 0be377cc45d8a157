/**
 * What the agent runs in every JavaScript thread it reaches (the main thread, worker threads, cluster workers'
 * main threads): the request tracker on this thread's diagnostics channels and explicit hooks, the loop-delay
 * sampler, and the thread's shared ring, announced to the agent thread that reads it.
 */
import dc from 'node:diagnostics_channel';
import { readlinkSync, writeFileSync } from 'node:fs';
import { BroadcastChannel } from 'node:worker_threads';
import { AGENT_HOOKS, type AgentHooks } from '../../src/vocabulary/stage-hook.js';
import { intervalIndex, monoMs } from '../../src/vocabulary/clock.js';
import { LoopDelaySampler } from './loop-delay.js';
import { OutgoingCalls } from './outgoing-calls.js';
import { RequestTracker } from './request-tracker.js';
import { H_ERRORS, H_HAS_LOOP, H_TID, RING_BYTES, ThreadRing } from './thread-ring.js';
import { sharedRingBuffer } from './shared-rings.js';
import { ThreadSchedstat } from './thread-schedstat.js';
import { REGISTRY_CHANNEL, type HandOff, type ThreadAnnouncement } from './thread-messages.js';

interface HttpMessage {
  request: { rawHeaders: string[] };
  response: object;
  socket: object;
}

/** This thread's kernel thread id: /proc/thread-self links to PID/task/TID. */
export function currentTid(): number {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return process.pid;
  }
}

/** How often a thread with a loop takes back the slots of abandoned requests (see RequestTracker.sweep). */
const SWEEP_EVERY_MS = 10_000;

export class ThreadRecorder {
  readonly ring: ThreadRing;
  readonly tracker: RequestTracker;
  readonly tid = currentTid();
  private readonly outgoing: OutgoingCalls;
  private loop: LoopDelaySampler | null = null;
  private sched: ThreadSchedstat | null = null;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly channel = new BroadcastChannel(REGISTRY_CHANNEL);

  constructor(
    intervalMs: number,
    private name: string,
    private hasLoop: boolean,
    exemplars = false,
    private readonly timeOutgoingCalls = true,
    /** The ring in memory the parent process's agent maps (shared-rings.ts), not announced to an agent thread here. */
    private readonly sharedWithParent = false,
  ) {
    this.ring = new ThreadRing(intervalMs, sharedWithParent ? sharedRingBuffer(this.tid, RING_BYTES) : undefined);
    this.ring.setName(name);
    // A parent that stopped reading (it died, or cannot map this process's memory) is said once, not left silent.
    if (sharedWithParent) this.ring.onLost = () => {
      this.ring.onLost = null;
      process.stderr.write(`srvlens agent: process ${process.pid}'s parent (${process.ppid}) has not read its requests for ${(8 * intervalMs) / 1000} s: they are counted as dropped and not reported\n`);
    };
    this.tracker = new RequestTracker(this.ring);
    this.tracker.keepExemplars(exemplars);
    this.outgoing = new OutgoingCalls(this.tracker, () => this.fail());
    this.ring.f64[H_TID] = this.tid;
    this.channel.unref();
  }

  start(): void {
    dc.subscribe('net.server.socket', this.onSocket);
    dc.subscribe('http.server.request.start', this.onRequestStart);
    dc.subscribe('http.server.response.finish', this.onResponseFinish);
    if (this.timeOutgoingCalls) this.outgoing.start();
    (globalThis as Record<symbol, unknown>)[AGENT_HOOKS] = this.hooks;
    this.setLoop(this.hasLoop);
    this.sweeper = setInterval(() => this.tracker.sweep(monoMs()), SWEEP_EVERY_MS);
    this.sweeper.unref();
    this.announce();
  }

  stop(): void {
    dc.unsubscribe('net.server.socket', this.onSocket);
    dc.unsubscribe('http.server.request.start', this.onRequestStart);
    dc.unsubscribe('http.server.response.finish', this.onResponseFinish);
    this.outgoing.stop();
    delete (globalThis as Record<symbol, unknown>)[AGENT_HOOKS];
    this.setLoop(false);
    this.channel.close();
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** The buckets of this thread's recent intervals and the process's CPU so far, for a parent's agent. */
  handOff(): HandOff {
    const now = monoMs();
    const index = intervalIndex(now, this.ring.intervalMs);
    const buckets = [this.ring.read(index - 1), this.ring.read(index)].filter((b) => b !== null);
    const ru = process.resourceUsage();
    return {
      type: 'srvlens.agent.handoff',
      pid: process.pid,
      name: this.name,
      buckets,
      // The process's life on the shared clock (performance.now() counts from its start), so that the parent can
      // lay its CPU over the intervals it ran in rather than all in the last one.
      startMs: now - performance.now(),
      endMs: now,
      cpuUserMs: ru.userCPUTime / 1000,
      cpuSystemMs: ru.systemCPUTime / 1000,
      voluntary: ru.voluntaryContextSwitches,
      involuntary: ru.involuntaryContextSwitches,
    };
  }

  announcement(): ThreadAnnouncement {
    // Announced only where the ring is a SharedArrayBuffer: a ring shared with the parent is not announced.
    return { type: 'thread', pid: process.pid, tid: this.tid, name: this.name, hasLoop: this.hasLoop, buffer: this.ring.buffer as SharedArrayBuffer };
  }

  private announce(): void {
    // The parent's agent finds a shared ring by its memfd's name, and the thread's name in the ring's header.
    if (this.sharedWithParent) return;
    this.channel.postMessage(this.announcement());
  }

  private setLoop(on: boolean): void {
    this.hasLoop = on;
    this.ring.f64[H_HAS_LOOP] = on ? 1 : 0;
    // A thread without a loop serves one request at a time: split each request's time by its schedstat.
    if (!on && !this.sched) this.sched = new ThreadSchedstat();
    if (on && this.sched) {
      this.sched.close();
      this.sched = null;
    }
    this.tracker.splitBySchedstat(this.sched);
    if (on && !this.loop) {
      this.loop = new LoopDelaySampler(this.ring);
      this.loop.start();
    } else if (!on && this.loop) {
      this.loop.stop();
      this.loop = null;
    }
  }

  private fail(): void {
    this.ring.f64[H_ERRORS]++;
  }

  // Hot path: arrow properties, so subscribing needs no bind and each call allocates no closure.
  private readonly onSocket = (message: unknown): void => {
    try {
      this.tracker.onAccept((message as { socket: object }).socket);
    } catch {
      this.fail();
    }
  };

  private readonly onRequestStart = (message: unknown): void => {
    try {
      const m = message as HttpMessage;
      this.tracker.onRequestStart(m.response, m.request.rawHeaders, m.socket);
      this.outgoing.enter(m.response);
    } catch {
      this.fail();
    }
  };

  private readonly onResponseFinish = (message: unknown): void => {
    try {
      this.tracker.end((message as HttpMessage).response);
    } catch {
      this.fail();
    }
  };

  /** The explicit API (src/vocabulary/stage-hook.ts), guarded like every other entry from the host. */
  readonly hooks: AgentHooks = {
    begin: (handle, sendUs, acceptMs, traceparent) => {
      try {
        this.tracker.begin(handle, sendUs, acceptMs, traceparent);
      } catch {
        this.fail();
      }
    },
    stage: (handle, stage) => {
      try {
        this.tracker.explicitStages = true;
        this.tracker.markStage(handle, stage);
      } catch {
        this.fail();
      }
    },
    end: (handle) => {
      try {
        this.tracker.end(handle);
      } catch {
        this.fail();
      }
    },
    context: (name, hasLoop) => {
      try {
        this.name = name;
        this.ring.setName(name);
        this.setLoop(hasLoop);
        // The kernel's name for the thread too, so `ps -L`, top and the /proc agent show it (15 bytes at most).
        writeFileSync('/proc/thread-self/comm', name.slice(0, 15));
        this.announce();
      } catch {
        this.fail();
      }
    },
  };
}
