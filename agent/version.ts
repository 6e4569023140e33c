/** The agent's version (--version, its member record, its start line). */
export const VERSION = '0.1.0';
