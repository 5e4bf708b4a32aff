import type { TestProject } from 'vitest/node';
import { type PostgresCluster, startPostgres } from './postgres.js';

/**
 * Starts what the whole test run shares: one PostgreSQL cluster, whose admin URL reaches
 * the test files through `inject('postgresUrl')`. Each file that needs PostgreSQL creates
 * its own database on it. When the cluster cannot start, the reason is handed on instead,
 * so that the PostgreSQL tests fail with it while the rest of the suite still runs.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  let cluster: PostgresCluster | undefined;
  try {
    cluster = await startPostgres();
    project.provide('postgresUrl', cluster.url);
    project.provide('postgresError', '');
  } catch (e) {
    project.provide('postgresUrl', '');
    project.provide('postgresError', e instanceof Error ? e.message : String(e));
  }
  return async () => {
    await cluster?.stop();
  };
}
