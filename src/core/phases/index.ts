// Phases are data: one step per phase; a phase without a step does not compile.
import type { Phase } from '../../api/schema.ts';
import type { Step } from '../step.ts';
import { installing } from './installing.ts';
import { pending } from './pending.ts';
import { prechecking } from './prechecking.ts';
import { rollingBack } from './rolling-back.ts';
import { rollingOut } from './rolling-out.ts';
import { soaking } from './soaking.ts';
import { switchingTag } from './switching-tag.ts';
import { terminal } from './terminal.ts';
import { uninstalling } from './uninstalling.ts';
import { upgradingGateways } from './upgrading-gateways.ts';

export const STEPS: Readonly<Record<Phase, Step>> = {
  Pending: pending,
  Prechecking: prechecking,
  Installing: installing,
  SwitchingTag: switchingTag,
  UpgradingGateways: upgradingGateways,
  RollingOut: rollingOut,
  Soaking: soaking,
  Uninstalling: uninstalling,
  Succeeded: terminal,
  RollingBack: rollingBack,
  RolledBack: terminal,
  Failed: terminal,
};
