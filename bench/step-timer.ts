/**
 * Where a sync's time goes, seen from its ports: wraps an object so that every method call
 * is timed until its promise settles, or until its async iterable is done (which then
 * includes the time the consumer spends between items).
 */
import { performance } from 'node:perf_hooks';

export interface StepTally {
  readonly step: string;
  count: number;
  ms: number;
}

export class StepTimer {
  readonly #tallies = new Map<string, StepTally>();

  /** `onStep`, when given, hears of every call once it settled: when it began, and how long it took. */
  constructor(private readonly onStep?: (step: string, startMs: number, ms: number) => void) {}

  /** What was timed, the longest first. */
  tallies(): StepTally[] {
    return [...this.#tallies.values()].sort((a, b) => b.ms - a.ms);
  }

  #record(step: string, ms: number): void {
    this.onStep?.(step, performance.now() - ms, ms);
    let t = this.#tallies.get(step);
    if (t === undefined) {
      t = { step, count: 0, ms: 0 };
      this.#tallies.set(step, t);
    }
    t.count += 1;
    t.ms += ms;
  }

  /**
   * `target` with its methods timed as `label.method`. Methods run with `target` itself as
   * `this` (private fields keep working); `then` may replace what a method resolves with.
   */
  wrap<T extends object>(target: T, label: string, then?: (method: string, value: unknown) => unknown): T {
    return new Proxy(target, {
      get: (object, property) => {
        // Getters too run on the target: a proxy as `this` cannot read private fields.
        const value = Reflect.get(object, property, object);
        if (typeof value !== 'function' || typeof property !== 'string') return value;
        const step = `${label}.${property}`;
        return (...args: unknown[]) => {
          const t0 = performance.now();
          const result: unknown = value.apply(object, args);
          if (result instanceof Promise) {
            return result.then(
              (resolved: unknown) => {
                this.#record(step, performance.now() - t0);
                return then ? then(property, resolved) : resolved;
              },
              (e: unknown) => {
                this.#record(step, performance.now() - t0);
                throw e;
              },
            );
          }
          if (result !== null && typeof result === 'object' && Symbol.asyncIterator in result) {
            return this.#iterable(result as AsyncIterable<unknown>, step);
          }
          this.#record(step, performance.now() - t0);
          return result;
        };
      },
    });
  }

  async *#iterable<V>(source: AsyncIterable<V>, step: string): AsyncIterable<V> {
    const t0 = performance.now();
    try {
      yield* source;
    } finally {
      this.#record(step, performance.now() - t0);
    }
  }
}
