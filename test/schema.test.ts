// Every analysis document in test/golden (real captures of every protocol) follows the published
// JSON Schema, so the schema stays true to what the dissectors emit.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { REPO } from './helpers/shared.ts';

const schema = JSON.parse(readFileSync(join(REPO, 'docs', 'schema', 'analysis.schema.json'), 'utf8')) as object;
const validate = new Ajv2020({ strict: false, allErrors: true }).compile(schema);
const dir = join(REPO, 'test', 'golden');

for (const f of readdirSync(dir)
  .filter((x) => x.endsWith('.json'))
  .sort()) {
  test(`schema: ${f}`, () => {
    const doc = JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown;
    const ok = validate(doc);
    assert.ok(ok, JSON.stringify(validate.errors?.slice(0, 5), null, 1));
  });
}
