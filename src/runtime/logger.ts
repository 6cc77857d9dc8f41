// Structured logs (pino). Reconciles bind the upgrade name and phase on a child logger.
import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

export function createLogger(level: LevelWithSilent): Logger {
  return pino({ level, base: { component: 'istio-upgrade-operator' }, timestamp: pino.stdTimeFunctions.isoTime });
}
