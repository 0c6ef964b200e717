import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterEach, describe, expect, it } from 'vitest';
import { GraphBuilder, attr } from '../../common/onnx/builder';
import { AUTO_PROVIDER_ORDER, availableProviders, createSession, forgetProviderProbes, summarizeProviderError } from './session';

function reluModel(): Uint8Array {
  const g = new GraphBuilder();
  const x = g.input('x', 'float32', ['n']);
  g.output(g.op('Relu', [x], { elemType: 'float32', shape: ['n'] }), 'y');
  return g.toModelBytes();
}

afterEach(() => {
  delete process.env['ATTN_DISABLE_PROVIDERS'];
  forgetProviderProbes();
});

describe('execution providers on this machine', () => {
  it('cpu works; every unavailable provider carries a reason', async () => {
    const list = await availableProviders();
    expect(list.map((p) => p.name).sort()).toEqual(['cpu', 'cuda', 'webgpu']);
    expect(list.find((p) => p.name === 'cpu')).toEqual({ name: 'cpu', available: true });
    for (const p of list) {
      if (!p.available) expect((p.reason ?? '').length).toBeGreaterThan(10);
    }
    // CUDA is not bundled with onnxruntime-node; without `npm run setup:cuda` it is skipped with that advice.
    const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node')), '..', 'bin', 'napi-v6', process.platform, process.arch);
    const cudaBundled = ort.listSupportedBackends().find((b) => b.name === 'cuda')?.bundled === true;
    if (!cudaBundled && !existsSync(join(bin, 'libonnxruntime_providers_cuda.so')) && !existsSync(join(bin, 'onnxruntime_providers_cuda.dll'))) {
      expect(list.find((p) => p.name === 'cuda')).toMatchObject({ available: false, reason: expect.stringMatching(/npm run setup:cuda/) });
    }
  });

  it("'auto' uses the first available of cuda -> webgpu -> cpu and records why the others were skipped", async () => {
    const list = await availableProviders();
    const works = new Map(list.map((p) => [p.name, p]));
    const expected = AUTO_PROVIDER_ORDER.find((p) => works.get(p)?.available === true);
    const { session, provider, fallbacks } = await createSession(reluModel(), { provider: 'auto' });
    try {
      expect(provider).toBe(expected);
      const skipped = AUTO_PROVIDER_ORDER.slice(0, AUTO_PROVIDER_ORDER.indexOf(provider));
      expect(fallbacks).toEqual(skipped.map((p) => ({ provider: p, reason: works.get(p)?.reason })));
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([-1, 2, -3]), [3]) });
      expect(Array.from(out['y']?.data as Float32Array)).toEqual([0, 2, 0]);
    } finally {
      await session.release();
    }
  });

  it('fails fast and cleanly when trying webgpu and cuda here (no crash, no hang)', async () => {
    for (const provider of ['webgpu', 'cuda'] as const) {
      const t0 = performance.now();
      const logs: string[] = [];
      const { session, provider: used, fallbacks } = await createSession(reluModel(), { provider, log: (m) => logs.push(m) });
      await session.release();
      expect(performance.now() - t0).toBeLessThan(10_000);
      if (used === 'cpu') {
        expect(fallbacks).toHaveLength(1);
        expect(fallbacks[0]?.provider).toBe(provider);
        expect(logs.join('\n')).toMatch(new RegExp(`execution provider ${provider} unavailable: .*; falling back to cpu`));
      } else {
        expect(used).toBe(provider);
      }
    }
  });
});

describe('fallback logic (providers disabled by ATTN_DISABLE_PROVIDERS)', () => {
  it("'auto' falls back to cpu, reporting each reason every time but logging it once", async () => {
    process.env['ATTN_DISABLE_PROVIDERS'] = 'cuda, WebGPU';
    const logs: string[] = [];
    const first = await createSession(reluModel(), { provider: 'auto', log: (m) => logs.push(m) });
    await first.session.release();
    expect(first.provider).toBe('cpu');
    expect(first.fallbacks).toEqual([
      { provider: 'cuda', reason: 'disabled by ATTN_DISABLE_PROVIDERS' },
      { provider: 'webgpu', reason: 'disabled by ATTN_DISABLE_PROVIDERS' },
    ]);
    expect(logs).toHaveLength(2);

    // The probe result is cached: even after the variable is gone the broken providers are not retried.
    delete process.env['ATTN_DISABLE_PROVIDERS'];
    const second = await createSession(reluModel(), { provider: 'auto', log: (m) => logs.push(m) });
    await second.session.release();
    expect(second.provider).toBe('cpu');
    expect(second.fallbacks).toEqual(first.fallbacks);
    expect(logs).toHaveLength(2);
  });

  it('a forced provider that is unavailable falls back to cpu with a logged reason', async () => {
    process.env['ATTN_DISABLE_PROVIDERS'] = 'webgpu';
    const logs: string[] = [];
    const r = await createSession(reluModel(), { provider: 'webgpu', log: (m) => logs.push(m) });
    await r.session.release();
    expect(r.provider).toBe('cpu');
    expect(r.fallbacks).toEqual([{ provider: 'webgpu', reason: 'disabled by ATTN_DISABLE_PROVIDERS' }]);
    expect(logs[0]).toBe('execution provider webgpu unavailable: disabled by ATTN_DISABLE_PROVIDERS; falling back to cpu');
    expect(logs[1]).toBe('running on cpu instead of webgpu');
  });

  it("'cpu' never tries another provider", async () => {
    process.env['ATTN_DISABLE_PROVIDERS'] = 'cuda,webgpu';
    const r = await createSession(reluModel(), { provider: 'cpu' });
    await r.session.release();
    expect(r).toMatchObject({ provider: 'cpu', fallbacks: [] });
  });

  it('a model not even cpu can load is refused with every reason', async () => {
    process.env['ATTN_DISABLE_PROVIDERS'] = 'cuda,webgpu';
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', [2]);
    g.output(g.op('NoSuchOp', [x], { elemType: 'float32', shape: [2] }), 'y');
    await expect(createSession(g.toModelBytes(), { provider: 'auto' })).rejects.toThrow(
      /no execution provider could run the model: cuda: disabled.*; webgpu: disabled.*; cpu: could not load this model: .*NoSuchOp/,
    );
  });
});

describe('summarizeProviderError', () => {
  it('turns native messages into one readable line', () => {
    const webgpu =
      '/onnxruntime_src/onnxruntime/core/providers/webgpu/webgpu_context.cc:136 onnxruntime::webgpu::WebGpuContext::Initialize(...)::<lambda()> ' +
      'adapter_result.status == wgpu::RequestAdapterStatus::Success was false. Failed to get a WebGPU adapter: No supported adapters\n';
    expect(summarizeProviderError('webgpu', webgpu)).toBe('no WebGPU adapter on this machine (Failed to get a WebGPU adapter: No supported adapters)');
    expect(summarizeProviderError('cuda', 'OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library')).toMatch(
      /CUDA execution provider could not be loaded .*npm run setup:cuda/,
    );
  });
});

describe('builder graphs in ONNX Runtime', () => {
  it('run with symbolic dims and int, float, ints, string and tensor attributes', async () => {
    const g = new GraphBuilder();
    const x = g.input('x', 'float32', ['rows', 2]);
    const t = g.op('Transpose', [x], { elemType: 'float32', shape: [2, 'rows'] }, { attrs: { perm: attr.ints([1, 0]) } });
    const lr = g.op('LeakyRelu', [t], { elemType: 'float32', shape: [2, 'rows'] }, { attrs: { alpha: attr.float(0.5) } });
    const padded = g.op('Pad', [lr, g.constInt64([0, 1, 0, 1], [4])], { elemType: 'float32' }, { attrs: { mode: attr.string('edge') } });
    const c = g.op('Constant', [], { elemType: 'float32', shape: [1] }, { attrs: { value: attr.tensor({ dtype: 'float32', shape: [1], data: new Float32Array([10]) }) } });
    const added = g.op('Add', [padded, c], { elemType: 'float32' });
    const sm = g.op('Softmax', [added], { elemType: 'float32' }, { attrs: { axis: attr.int(0) } });
    g.output(added, 'added');
    g.output(sm, 'softmax');
    const { session } = await createSession(g.toModelBytes(), { provider: 'cpu' });
    try {
      // x = [[1, -2], [-4, 3], [5, 6]] -> transpose [[1, -4, 5], [-2, 3, 6]] -> leaky relu (0.5)
      // [[1, -2, 5], [-1, 3, 6]] -> edge pad one column each side -> + 10.
      const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, -2, -4, 3, 5, 6]), [3, 2]) });
      expect(out['added']?.dims).toEqual([2, 5]);
      expect(Array.from(out['added']?.data as Float32Array)).toEqual([11, 11, 8, 15, 15, 9, 9, 13, 16, 16]);
      const s = out['softmax']?.data as Float32Array;
      expect(s[0]).toBeCloseTo(Math.exp(11) / (Math.exp(11) + Math.exp(9)), 6);
    } finally {
      await session.release();
    }
  });
});
