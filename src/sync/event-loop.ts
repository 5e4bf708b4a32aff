/**
 * One turn of the event loop. The HTTP client frees a connection an answer has just come
 * over only as the loop turns, and work on SQLite, which is synchronous, does not let it
 * turn: a request started right after such work would open a new connection instead.
 */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
