/** Time for the IKE engine: schedulers, the TimerPort service and the RFC 7296 timing rules. */
export { IndexedMinHeap, type HeapNode } from './indexed-heap.js';
export {
  HeapVirtualScheduler,
  VirtualTimeLimitError,
  type FlushOptions,
  type HeapVirtualSchedulerOptions,
} from './heap-virtual-scheduler.js';
export { HeapRealScheduler } from './heap-real-scheduler.js';
export { MAX_TIMER_DELAY_MS, deadline$ } from './deadline.js';
export { createTimerService, type TimerService, type TimerServiceOptions } from './timer-service.js';
export {
  RETRANSMIT_DEFAULTS,
  nextRetransmit,
  retransmit$,
  retransmitSchedule,
  type RetransmitEvent,
  type RetransmitOptions,
  type RetransmitSchedule,
  type RetransmitStep,
} from './retransmit.js';
export {
  DEFAULT_HARD_LIFETIME_FACTOR,
  byteExpiry,
  byteLifetime,
  lifetime$,
  lifetimeDeadlines,
  uniformIntInclusive,
  type ByteExpiry,
  type ByteLimits,
  type LifetimeDeadlines,
  type LifetimeEvent,
  type LifetimePolicy,
} from './lifetime.js';
export { dpdDue } from './dpd.js';
