/**
 * zongji 0.9.0 decodes a negative TIME2 whose fractional part is zero wrongly: it flips the bits of the stored value
 * (giving |v| - 1) and adds one second back, which is wrong whenever the subtraction borrowed across the minute or
 * hour fields ('-12:00:00' comes out as '-11:63:64'). This recovers the exact value from zongji's output: the
 * fields it printed are those of |v| - 1 in TIME2's packed layout (hour << 12 | minute << 6 | second), with one
 * second added to the seconds field. Values with a non-zero fraction are decoded correctly by zongji.
 */
export function fixNegativeTime2(value: string): string {
  const m = /^-(\d+):(\d+):(\d+)(\.0+)?$/.exec(value);
  if (!m) return value;
  const packedMinusOne = (Number(m[1]) << 12) | (Number(m[2]) << 6) | (Number(m[3]) - 1);
  const v = packedMinusOne + 1;
  const h = (v >> 12) & 0x3ff;
  const min = (v >> 6) & 0x3f;
  const s = v & 0x3f;
  return `-${String(h).padStart(2, '0')}:${String(min).padStart(2, '0')}:${String(s).padStart(2, '0')}${m[4] ?? ''}`;
}
