import { DEFAULT_GUARDS, type GuardOptions } from './guards.js';
import type { PlanOptions } from './plan-types.js';

export type SyncMode = 'express' | 'complete';
export type SyncScopeKind = 'contacts' | 'calendar' | 'both';

/** How one run syncs: mode, conflict policy, guards, window. Options are typed unions, not free strings. */
export interface SyncSettings {
  readonly mode: SyncMode;
  readonly dryRun: boolean;
  readonly plan: Omit<PlanOptions, 'recovery' | 'window'>;
  readonly guards: GuardOptions;
  /** Calendar window in days around now: past and future. */
  readonly windowDays: { readonly past: number; readonly future: number } | null;
}

export const DEFAULT_SETTINGS: SyncSettings = {
  mode: 'complete',
  dryRun: false,
  plan: { policy: 'merge', winner: 'firm', privateItems: 'sync' },
  guards: DEFAULT_GUARDS,
  windowDays: { past: 365, future: 730 },
};

/** Fields merged element-wise (set-like): additions on both sides are all kept. */
export const SET_FIELDS = {
  contacts: new Set(['emails', 'phones', 'addresses', 'urls', 'categories', 'extra']),
  calendar: new Set(['categories', 'exdates', 'rdates', 'attendees', 'alarms', 'extra', 'timezones']),
} as const;
