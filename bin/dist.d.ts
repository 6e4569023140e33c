// Types of bin/dist.js for the TypeScript that imports it (test/harness, test/run.ts).
export const ROOT: string;
export const DIST: string;
export const STAMP: string;
export function distProblem(): string | undefined;
export function run(entry: string): Promise<void>;
