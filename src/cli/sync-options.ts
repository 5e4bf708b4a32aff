import { type Command, InvalidArgumentError } from 'commander';
import { DEFAULT_GUARDS } from '../sync/guards.js';
import type { ConflictPolicy, PrivateRule } from '../sync/plan-types.js';
import { DEFAULT_SETTINGS, type SyncMode, type SyncSettings } from '../sync/settings.js';
import { oneOf, positiveInt } from './context.js';

export interface SettingsFlags {
  mode?: SyncMode;
  dryRun?: boolean;
  policy?: ConflictPolicy;
  winner?: 'firm' | 'mailbox';
  private?: PrivateRule;
  maxDeletions?: number;
  maxChangePercent?: number;
  windowPast?: number;
  windowFuture?: number;
}

/** The tuning flags shared by `sync` and `recover`. */
/** A share in percent: a whole number from 0 to 100 (above 100 would turn the guard off unseen). */
function percent(value: string): number {
  const n = positiveInt(value);
  if (n > 100) throw new InvalidArgumentError('expected a whole number from 0 to 100');
  return n;
}

export function settingsOptions(cmd: Command): Command {
  return cmd
    .option(
      '--policy <policy>',
      'conflict policy: merge, firm-wins or mailbox-wins',
      oneOf('merge', 'firm-wins', 'mailbox-wins'),
    )
    .option(
      '--winner <side>',
      'under merge, who wins a field changed on both sides: firm or mailbox',
      oneOf('firm', 'mailbox'),
    )
    .option(
      '--private <rule>',
      'private items: sync, or keep on the side where they were made',
      oneOf('sync', 'keep'),
    )
    .option(
      '--max-deletions <n>',
      `hold a user's plan above this many deletions (default ${DEFAULT_GUARDS.maxDeletions})`,
      positiveInt,
    )
    .option(
      '--max-change-percent <n>',
      `hold above this share of existing items modified or deleted, 0 to 100 (default ${DEFAULT_GUARDS.maxChangeRatio * 100})`,
      percent,
    )
    .option('--window-past <days>', 'calendar window: days back (default 365)', positiveInt)
    .option('--window-future <days>', 'calendar window: days ahead (default 730)', positiveInt);
}

export function settingsFrom(flags: SettingsFlags): SyncSettings {
  const d = DEFAULT_SETTINGS;
  return {
    mode: flags.mode ?? d.mode,
    dryRun: flags.dryRun ?? false,
    plan: {
      policy: flags.policy ?? d.plan.policy,
      winner: flags.winner ?? d.plan.winner,
      privateItems: flags.private ?? d.plan.privateItems,
    },
    guards: {
      ...d.guards,
      ...(flags.maxDeletions !== undefined ? { maxDeletions: flags.maxDeletions } : {}),
      ...(flags.maxChangePercent !== undefined ? { maxChangeRatio: flags.maxChangePercent / 100 } : {}),
    },
    windowDays: {
      past: flags.windowPast ?? d.windowDays?.past ?? 365,
      future: flags.windowFuture ?? d.windowDays?.future ?? 730,
    },
  };
}
