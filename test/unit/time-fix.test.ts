import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fixNegativeTime2 } from '../../agent/binlog/time-fix.ts';

// zongji's outputs for negative TIME2 values with a zero fraction, and what they really are.
test('negative TIME2 values with a zero fraction are recovered exactly', () => {
  assert.equal(fixNegativeTime2('-11:63:64'), '-12:00:00');
  assert.equal(fixNegativeTime2('-00:00:01'), '-00:00:01');
  assert.equal(fixNegativeTime2('-00:63:64'), '-01:00:00');
  assert.equal(fixNegativeTime2('-837:63:64.000000'), '-838:00:00.000000');
  assert.equal(fixNegativeTime2('-838:59:59'), '-838:59:59');
  assert.equal(fixNegativeTime2('-00:00:00.500000'), '-00:00:00.500000', 'non-zero fractions are left alone');
  assert.equal(fixNegativeTime2('12:00:00'), '12:00:00');
});
