/**
 * Hand plans for DM cases that are not in ../shared/dm-cases: dm/tests/<case>/{conf,data} of the same tiflow commit
 * (c7b2588ef6), for flows whose checks are run.sh's own SQL (downstream tables DM's runner creates first, counts it
 * checks), which the default plan cannot know. Keyed by folder fingerprint like plans.ts's.
 */
import type { CasePlan } from './plan.ts';
import { expectDown, file, sources, sql, start, why } from './plan-steps.ts';

// ------------------------------------------------------------------------------------------ downstream_diff_index

const DDI = 'downstream_diff_index.t';
const downstreamDiffIndex: CasePlan = {
  name: 'downstream_diff_index',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run()',
      omitted: [
        'the log greps for the WHERE columns DM chose (failpoint DownstreamTrackerWhereCheck): the counts check what they chose',
      ],
      steps: [
        file(1, 'db1.prepare.sql'),
        file(2, 'db2.prepare.sql'),
        why(file('down', 'tidb.prepare.sql'), 'the merged table exists downstream without a key'),
        sources,
        start(),
        expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 < 100`, 6),
        why(sql('down', `ALTER TABLE ${DDI} ADD UNIQUE KEY(c2)`), 'the downstream gets a key of its own: c2'),
        file(1, 'db1.increment.sql'),
        why(
          expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 1 AND c3 = '111'`, 1),
          'the UPDATE of source 1 c1=1 finds its row by the downstream key c2, not by c1 (both shards have a c1=1)',
        ),
        why(expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 2`, 1), 'the DELETE of source 1 c1=2 removes one row'),
        why(sql('down', `ALTER TABLE ${DDI} ADD PRIMARY KEY(c3)`), 'then a primary key downstream: c3'),
        sql(1, 'ALTER TABLE downstream_diff_index1.t1 DROP COLUMN c2'),
        sql(2, 'ALTER TABLE downstream_diff_index2.t2 DROP COLUMN c2'),
        file(2, 'db2.increment.sql'),
        why(
          expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 3 AND c3 = '333'`, 1),
          'the shards dropped c2 (a pessimistic lock, both reach it); the UPDATE of source 2 finds its row by c3',
        ),
        expectDown(`SELECT count(1) FROM ${DDI} WHERE c1 = 1`, 1),
        expectDown('SELECT count(1) FROM downstream_diff_index.varchar20000 WHERE c = 1', 1),
      ],
    },
  ],
};

// ------------------------------------------------------------------------------------------ downstream_more_column

const DMC = 'downstream_more_column.t';
const downstreamMoreColumn: CasePlan = {
  name: 'downstream_more_column',
  scenarios: [
    {
      task: 'dm-task.yaml',
      label: 'run.sh run(), mode all',
      steps: [
        file(1, 'db1.prepare.sql'),
        why(
          file('down', 'tidb.prepare.sql'),
          'the merged table exists downstream with one more column, AUTO_INCREMENT a',
        ),
        sources,
        start(),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 < 100`, 3),
        file(1, 'db1.increment.sql'),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 > 100 AND c1 < 1000`, 3),
      ],
    },
    {
      task: 'dm-task-incremental.yaml',
      label: 'run.sh run(), mode incremental (on a fresh sandbox)',
      omitted: [
        "DM pauses on db1.increment2.sql (\"Column count doesn't match value count\") because its schema tracker took the downstream table (4 columns) for t1, then run.sh sets t1's schema with `operate-schema set` and resumes. tsdm's tracker takes the upstream table at the start position, so nothing pauses; the rows must arrive all the same.",
      ],
      steps: [
        file(1, 'db1.prepare.sql'),
        file('down', 'tidb.prepare.sql'),
        sources,
        start(),
        file(1, 'db1.increment2.sql'),
        expectDown(`SELECT count(1) FROM ${DMC} WHERE c1 > 1000 AND c1 < 10000`, 2),
      ],
    },
  ],
};

export const MORE_PLANS: CasePlan[] = [downstreamDiffIndex, downstreamMoreColumn];

export const MORE_WRITTEN_FOR: Readonly<Record<string, string>> = {
  downstream_diff_index: 'a0fd403d12906a63',
  downstream_more_column: '881749d6d8937000',
};
