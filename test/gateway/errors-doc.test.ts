import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { ERROR_CODES } from '../../src/domain/errors.ts';
import { CLOSE_CODES } from '../../src/protocol/close-codes.ts';

const ERRORS_MD = new URL('../../docs/ERRORS.md', import.meta.url);
const PROTOCOL_MD = new URL('../../docs/PROTOCOL.md', import.meta.url);

describe('docs/ERRORS.md', () => {
  it('lists every error code of the catalogue and every close code the gateway sends', async () => {
    const text = await readFile(ERRORS_MD, 'utf8');
    for (const code of Object.keys(ERROR_CODES))
      assert.ok(text.includes(`| \`${code}\` |`), `${code} is not documented`);
    for (const code of Object.values(CLOSE_CODES))
      assert.ok(text.includes(`| ${code} |`), `${code} is not documented`);
  });

  it('is linked from PROTOCOL.md, which names every close code', async () => {
    const text = await readFile(PROTOCOL_MD, 'utf8');
    assert.ok(text.includes('ERRORS.md'));
    for (const code of Object.values(CLOSE_CODES)) assert.ok(text.includes(String(code)), `${code} missing`);
  });
});
