/**
 * Every variant's standalone graph (written at opset 17), converted to opset 23 by
 * core/onnx/opsetAdapt, loads in ONNX Runtime (CPU) and gives the same outputs as at opset 17.
 */
import * as ort from 'onnxruntime-node';
import pkg from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { describe, expect, it } from 'vitest';
import { describeAttentionGraph } from '../../common/attention/graphs';
import type { AttentionDims } from '../../common/attention/shapes';
import type { VariantKind, VariantSpecInput } from '../../common/attention/spec';
import { adaptModelToOpset } from '../../common/onnx/opsetAdapt';
import { createSession } from '../ort/session';
import { inputs, relError } from '../../../test/support/graphTestSupport';
import type { Qkv } from '../../../test/support/graphTestSupport';

const { onnx } = pkg;

const SPECS: Record<VariantKind, VariantSpecInput> = {
  exact: { kind: 'exact' },
  sliding: { kind: 'sliding', window: 3 },
  strided: { kind: 'strided', stride: 3 },
  fixed: { kind: 'fixed', block: 4, summary: 1 },
  longformer: { kind: 'longformer', window: 2, global: [0, 5] },
  bigbird: { kind: 'bigbird', block: 2, windowBlocks: 3, globalBlocks: 1, randomBlocks: 1, seed: 3 },
  linear: { kind: 'linear', chunk: 4 },
  performer: { kind: 'performer', features: 8, seed: 1, chunk: 4 },
  linformer: { kind: 'linformer', rank: 4, seed: 2 },
  nystrom: { kind: 'nystrom', landmarks: 4 },
  lsh: { kind: 'lsh', buckets: 4, rounds: 2, chunk: 4, seed: 5 },
  additive: { kind: 'additive', hidden: 6, seed: 4 },
  sink: { kind: 'sink', sinks: 2, window: 3 },
};
const NOT_CAUSAL: readonly VariantKind[] = ['linformer', 'nystrom'];
const dims: AttentionDims = { batch: 2, heads: 4, kvHeads: 2, seqQ: 12, seqK: 12, headDim: 8, valueDim: 8 };

async function run(model: OnnxTypes.IModelProto, x: Qkv, keyLengths: number[]): Promise<Record<string, Float32Array>> {
  const { session } = await createSession(onnx.ModelProto.encode(model).finish(), { provider: 'cpu' });
  try {
    const out = await session.run({
      q: new ort.Tensor('float32', x.q.data, x.q.shape),
      k: new ort.Tensor('float32', x.k.data, x.k.shape),
      v: new ort.Tensor('float32', x.v.data, x.v.shape),
      key_lengths: new ort.Tensor('int64', BigInt64Array.from(keyLengths.map(BigInt)), [keyLengths.length]),
    });
    const res: Record<string, Float32Array> = {};
    for (const [name, t] of Object.entries(out)) res[name] = t.data as Float32Array;
    return res;
  } finally {
    await session.release();
  }
}

describe('variant graphs converted from opset 17 to 23', () => {
  for (const [kind, spec] of Object.entries(SPECS) as [VariantKind, VariantSpecInput][]) {
    for (const causal of NOT_CAUSAL.includes(kind) ? [false] : [false, true]) {
      it(`${kind}${causal ? ' (causal)' : ''}: same outputs at opset 23 as at 17`, async () => {
        const at17 = describeAttentionGraph(spec, dims, { causal, keyLengths: true, probabilities: true }).toModelProto();
        expect(at17.opsetImport.find((o) => (o.domain ?? '') === '')?.version).toBe(17);
        const at23 = adaptModelToOpset(at17, 23);
        at23.irVersion = 10;
        // No Reduce* node with an axes attribute is left (opset 18 moved axes to an input).
        for (const n of at23.graph?.node ?? []) if (n.opType?.startsWith('Reduce')) expect((n.attribute ?? []).map((a) => a.name)).not.toContain('axes');
        const x = inputs(dims, 11);
        const keyLengths = [dims.seqK, 7];
        const ref = await run(at17, x, keyLengths);
        const got = await run(at23, x, keyLengths);
        expect(Object.keys(got).sort()).toEqual(Object.keys(ref).sort());
        expect(Object.keys(ref)).toContain('o');
        for (const name of Object.keys(ref)) expect(relError(got[name] ?? new Float32Array(), ref[name] ?? new Float32Array())).toBeLessThanOrEqual(1e-6);
      });
    }
  }

  it('the conversion is needed: performer at opset 23 without it is rejected by ONNX Runtime', async () => {
    const at17 = describeAttentionGraph(SPECS.performer, dims, { causal: false, keyLengths: true }).toModelProto();
    const raw = onnx.ModelProto.create({ ...at17, irVersion: 10, opsetImport: [{ domain: '', version: 23 }] });
    await expect(run(raw, inputs(dims, 1), [12, 12])).rejects.toThrow();
  });
});
