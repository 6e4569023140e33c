/** A JSON scanner that reports what JSON.parse hides: a key twice in one object (log lines must not have any). */

/** Keys that occur twice in one JSON object of `text` (any depth), or a parse error. */
export function duplicateKeys(text: string): string[] {
  let i = 0;
  const dups: string[] = [];
  const ws = () => {
    while (/\s/.test(text[i] ?? '')) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') {
      if (i >= text.length) throw new Error('unterminated string');
      i += text[i] === '\\' ? 2 : 1;
    }
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): void => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        if (seen.has(k)) dups.push(k);
        seen.add(k);
        ws();
        if (text[i++] !== ':') throw new Error(`expected : at ${i}`);
        value();
        ws();
        const d = text[i++];
        if (d === '}') return;
        if (d !== ',') throw new Error(`expected , or } at ${i}`);
      }
    } else if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        const d = text[i++];
        if (d === ']') return;
        if (d !== ',') throw new Error(`expected , or ] at ${i}`);
      }
    } else if (c === '"') str();
    else {
      const m = /^(-?\d+(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i));
      if (!m) throw new Error(`bad value at ${i}`);
      i += m[0].length;
    }
  };
  value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return dups;
}
