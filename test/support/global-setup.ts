// Starts what the whole test run shares. PostgreSQL is added by the database tests' harness.
export default async function setup(): Promise<() => Promise<void>> {
  return async () => {};
}
