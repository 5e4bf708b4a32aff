/** Import boundaries (DESIGN §1): arrows point down only. */
module.exports = {
  forbidden: [
    { name: 'no-circular', severity: 'error', from: {}, to: { circular: true } },
    {
      name: 'domain-is-pure',
      comment: 'domain/ holds plain types and pure functions only',
      severity: 'error',
      from: { path: '^src/domain/' },
      to: { path: '^src/(?!domain/)' },
    },
    {
      name: 'formats-stay-pure',
      severity: 'error',
      from: { path: '^src/formats/' },
      to: { path: '^src/(db|mailbox|sync|cli|config|jobs|http|web)/' },
    },
    {
      name: 'planning-is-pure',
      comment: 'the planner, merge and guards never reach I/O, drivers or adapters',
      severity: 'error',
      from: { path: '^src/sync/(plan|merge|guards|match|window|hold)' },
      to: {
        path: '^src/(db|mailbox/(memory|vdir|dav)|cli|config)/|^(node:)?(fs|child_process|net|http|https)$|node_modules/(better-sqlite3|pg|kysely)/',
      },
    },
    {
      name: 'firm-planning-is-pure',
      comment: 'firm sync matching, planning, fields and report values never reach I/O, drivers or adapters',
      severity: 'error',
      from: { path: '^src/firm/(plan-|match-keys|firm-fields|firm-types|firm-report|preferences|chunk)' },
      to: {
        path: '^src/(db|mailbox|cli|config|http|web|jobs)/|^src/sync/(execute|run-|collection-sync|gather|user-lease)|^(node:)?(fs|child_process|net|http|https)$|node_modules/(better-sqlite3|pg|kysely)/',
      },
    },
    {
      name: 'services-use-ports-not-adapters',
      severity: 'error',
      from: { path: '^src/(sync|firm|jobs)/' },
      to: { path: '^src/(db|mailbox/(memory|vdir|dav)|cli|http|web)/' },
    },
    {
      name: 'adapters-do-not-reach-up',
      severity: 'error',
      from: { path: '^src/(db|mailbox)/' },
      to: { path: '^src/(cli|http|web|jobs)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
    },
  },
};
