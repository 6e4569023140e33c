/** Writes docs/errors.md from the catalog (`npm run docs:errors`); a unit test keeps the two in step. */
import { writeFileSync } from 'node:fs';
import { Errors } from './catalog.ts';

export function errorsMarkdown(): string {
  const rows = Object.entries(Errors).map(
    ([name, s]) =>
      `| ${s.code} | ${name} | ${s.class} | ${s.retryable ? 'yes' : 'no'} | ${s.title} | ${s.suggestion.replace(/\|/g, '\\|')} |`,
  );
  return `# Error catalog

Every error tsdm shows has a stable code, a class, whether it is retried, a message saying what happened (with the
file/line/key, SQL or binlog position involved) and a suggestion. Retryable errors are retried with backoff and show
in \`query-status\` as the subtask's current error while it keeps running; the others pause the subtask with its
checkpoint intact until \`dmctl resume-task\`.

Printed form (text): \`[CODE] where: message\` then \`SQL:\`, \`cause:\` and \`suggestion:\` lines. In \`--json\` and in
\`dm_status\`: \`{ code, class, retryable, message, suggestion, context: { file, line, key, sql, position, table, errno }, cause, time }\`.

Code ranges: 1xxxx config, 2xxxx upstream, 3xxxx downstream, 4xxxx relay, 5xxxx coordination, 6xxxx internal.
This file is generated from \`src/errors/catalog.ts\` by \`npm run docs:errors\`.

| code | name | class | retried | what happened | what to do |
|---|---|---|---|---|---|
${rows.join('\n')}
`;
}

if (process.argv[1]?.endsWith('gen-docs.ts'))
  writeFileSync(new URL('../../docs/errors.md', import.meta.url), errorsMarkdown());
