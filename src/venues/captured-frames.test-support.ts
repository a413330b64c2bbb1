/**
 * Test support: the stream frames captured from the exchanges (test/fixtures/<venue>/, see SOURCES.md), in the
 * shapes the capture files have, as the text a socket delivered.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES_DIR } from '../../test/fixtures/index.ts';
import type { CapturedFrame } from './venue.contract.ts';

/**
 * The frames of every capture file directly in test/fixtures/`venue`/, in file-name order: the `recv` lines of
 * a `.jsonl` recording; the `messages` of a `.json` sample file (each unwrapped from its `message` field where
 * it has one); otherwise every entry of a `.json` file but its `_note`, one frame each.
 */
export function capturedFrames(venue: string): CapturedFrame[] {
  const folder = join(FIXTURES_DIR, venue);
  const out: CapturedFrame[] = [];
  for (const file of readdirSync(folder).sort()) {
    const raw = () => readFileSync(join(folder, file), 'utf8');
    if (file.endsWith('.jsonl')) {
      for (const line of raw().split('\n')) {
        if (line.trim() === '') continue;
        const rec = JSON.parse(line) as { t: string; data?: string };
        if (rec.t === 'recv' && typeof rec.data === 'string') out.push({ file, text: rec.data });
      }
    } else if (file.endsWith('.json')) {
      const doc = JSON.parse(raw()) as Record<string, unknown>;
      const messages = Array.isArray(doc['messages'])
        ? (doc['messages'] as unknown[])
        : Object.entries(doc)
            .filter(([k]) => k !== '_note')
            .map(([, v]) => v);
      for (const m of messages) {
        const payload =
          typeof m === 'object' && m !== null && 'message' in m ? (m as { message: unknown }).message : m;
        out.push({ file, text: typeof payload === 'string' ? payload : JSON.stringify(payload) });
      }
    }
  }
  return out;
}
