/**
 * SurgeryShape.rightPadded: a caller that pads its batches on the right (the experiment runners)
 * may say so, and a variant's key-padding span is then not rolled. On right-padded feeds the
 * model computes exactly what the rolled one does (rolls by 0), without the gathers.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { applyModification } from '../../common/models/surgery';
import type { ModificationInput } from '../../common/models/surgery';
import { feedRows, hfFeeds, loadHfFixture, releaseSessions, runProto } from '../../../test/support/hfFixtures';

afterAll(releaseSessions);

const gathers = (m: { graph?: { node?: readonly { opType?: string | null }[] | null } | null }): number => (m.graph?.node ?? []).filter((n) => n.opType === 'GatherElements').length;

describe('a variant on right-padded batches (SurgeryShape.rightPadded)', () => {
  const fixture = loadHfFixture('bert-tiny');
  const shapes = fixture.ref.feed_shapes;
  const [batch, seqLen] = shapes['input_ids'] as [number, number];
  const masks = feedRows(fixture.ref, 'attention_mask');

  it('uses a fixture with a right-padded row', () => {
    expect(masks.some((row) => row.includes(0) && row.indexOf(0) > 0 && row.slice(row.indexOf(0)).every((v) => v === 0))).toBe(true);
  });

  for (const mod of [
    { exposeAttention: true, exposeBlockOutputs: true, replace: { variant: { kind: 'sliding', window: 2 } } },
    { exposeAttention: true, replace: { variant: { kind: 'linformer', rank: 4, seed: 1 } } },
  ] satisfies ModificationInput[]) {
    it(`gives the rolled model's outputs without its gathers: ${mod.replace.variant.kind}`, async () => {
      const rolled = applyModification(fixture.proto, mod, { batch, seqLen, inputs: shapes }).model;
      const plain = applyModification(fixture.proto, mod, { batch, seqLen, inputs: shapes, rightPadded: true }).model;
      // per layer: K, V and Q forward, o back, and p back over rows and keys
      expect(gathers(rolled) - gathers(plain)).toBe(2 * 6);
      const feeds = hfFeeds(fixture);
      const a = await runProto(rolled, feeds);
      const b = await runProto(plain, feeds);
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      for (const name of Object.keys(a)) expect(Array.from(b[name]!.data)).toEqual(Array.from(a[name]!.data));
    });
  }
});
