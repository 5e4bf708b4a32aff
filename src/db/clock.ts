/** Epoch milliseconds now. Repositories take one so that tests can move time without sleeping. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/** ISO 8601 UTC text: sorts as text in the same order as the instants. */
export function isoAt(ms: number): string {
  return new Date(ms).toISOString();
}
