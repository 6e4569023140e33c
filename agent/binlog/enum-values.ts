/** Moved to src/schema/enum-members.ts (the schema tracker builds COLUMN_TYPE from member lists too). */
export { parseEnumMembers } from '../../src/schema/enum-members.ts';
