// Structured logs of the node agent: one JSON line per event on stdout, so the launcher can keep them in a file
// and a test failure can be traced back to what the agent saw and did.
import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

export function createLogger(level: string): Logger {
  return pino({ name: 'iuo-node-agent', level });
}
