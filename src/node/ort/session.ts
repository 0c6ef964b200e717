/**
 * ONNX Runtime sessions with execution-provider selection and fallback.
 *
 * - 'auto' tries cuda -> webgpu -> cpu; a named provider is forced, and when it fails the
 *   session falls back to cpu with a logged reason.
 * - Every provider is tried on its own (a session with only that execution provider).
 * - Whether a provider works at all on this machine is probed once per process with a tiny model
 *   and remembered, so a broken provider is not retried on every call; its reason is still
 *   reported in `fallbacks` every time.
 * - CUDA is not bundled with onnxruntime-node (`npm run setup:cuda` installs it); when its
 *   provider library is missing it is skipped without trying. WebGPU is bundled; on a machine
 *   without a GPU adapter its session creation fails within milliseconds.
 * - ATTN_DISABLE_PROVIDERS=webgpu,cuda skips providers by name (for drivers that misbehave).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { InferenceSession } from 'onnxruntime-node';
import { GraphBuilder } from '../../common/onnx/builder';
import type { ProviderChoice, ProviderName } from '../../common/executionProvider';

export type { ProviderChoice, ProviderName };

export interface ProviderFallback {
  readonly provider: ProviderName;
  readonly reason: string;
}

export interface SessionChoiceOptions {
  readonly provider: ProviderChoice;
  readonly log?: (msg: string) => void;
  readonly intraOpThreads?: number;
  /**
   * ORT's CPU memory arena (default on): reuses freed blocks across runs, which avoids paging in
   * fresh memory on every run (about 1.5x faster for large attention graphs); the memory is given
   * back when the session is released. ORT's memory pattern is always off: with the arena it
   * reserves a second, contiguous block for the whole plan from the second run on, which about
   * doubled the peak memory of large graphs for no measurable speed-up.
   */
  readonly cpuMemArena?: boolean;
  /** The folder of the model file that the encoded model's external initializers name (src/node/ort/modelFile.ts). */
  readonly externalFolder?: string;
}

export interface CreatedSession {
  readonly session: InferenceSession;
  /** The provider the session was created with. */
  readonly provider: ProviderName;
  /** Providers tried before it, and why they were not used. */
  readonly fallbacks: readonly ProviderFallback[];
}

export interface ProviderStatus {
  readonly name: ProviderName;
  readonly available: boolean;
  readonly reason?: string;
}

/** Preference order of 'auto'. */
export const AUTO_PROVIDER_ORDER: readonly ProviderName[] = ['cuda', 'webgpu', 'cpu'];
const ALL_PROVIDERS: readonly ProviderName[] = ['cpu', 'cuda', 'webgpu'];

/** Probe results: null when the provider works, else the reason it does not. */
const probes = new Map<ProviderName, Promise<string | null>>();

function bindingFolder(): string {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('onnxruntime-node');
  return join(dirname(entry), '..', 'bin', 'napi-v6', process.platform, process.arch);
}

function cudaLibraryName(): string {
  return process.platform === 'win32' ? 'onnxruntime_providers_cuda.dll' : 'libonnxruntime_providers_cuda.so';
}

/** Turn ORT's long native error text into one readable sentence. */
export function summarizeProviderError(provider: ProviderName, message: string): string {
  const adapter = /Failed to get a WebGPU adapter[^\n]*/.exec(message);
  if (adapter !== null) return `no WebGPU adapter on this machine (${adapter[0].trim()})`;
  if (provider === 'cuda' && /Failed to load shared library|libcudnn|libcublas|libcudart|cannot open shared object/i.test(message)) {
    return `the CUDA execution provider could not be loaded (${firstLine(message)}); install it with \`npm run setup:cuda\` and make sure CUDA 12 and cuDNN 9 libraries are on the library path`;
  }
  return firstLine(message);
}

function firstLine(message: string): string {
  const line = (message.split('\n').find((l) => l.trim() !== '') ?? message).trim();
  // Drop the native source location prefix ("/onnxruntime_src/...cc:136 fn(...) ").
  const cleaned = line.replace(/^\/\S+:\d+\s+\S*\s*/, '');
  return (cleaned.length > 0 ? cleaned : line).slice(0, 400);
}

function disabledByEnv(name: ProviderName): boolean {
  const list = process.env['ATTN_DISABLE_PROVIDERS'];
  if (list === undefined) return false;
  return list
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .includes(name);
}

function tinyModel(): Uint8Array {
  const g = new GraphBuilder({ graphName: 'provider_probe' });
  const x = g.input('x', 'float32', [4]);
  g.output(g.op('Relu', [x], { elemType: 'float32', shape: [4], name: 'y' }));
  return g.toModelBytes();
}

function sessionOptions(provider: ProviderName, opts: { intraOpThreads?: number; cpuMemArena?: boolean; externalFolder?: string }): InferenceSession.SessionOptions {
  const o: InferenceSession.SessionOptions = {
    executionProviders: [provider],
    graphOptimizationLevel: 'all',
    logSeverityLevel: 3,
    enableCpuMemArena: opts.cpuMemArena ?? true,
    enableMemPattern: false,
  };
  if (opts.intraOpThreads !== undefined) o.intraOpNumThreads = opts.intraOpThreads;
  // a model given as bytes resolves its external data's locations in this folder
  if (opts.externalFolder !== undefined) o.extra = { session: { model_external_initializers_file_folder_path: opts.externalFolder } };
  return o;
}

async function probeUncached(name: ProviderName): Promise<string | null> {
  if (disabledByEnv(name)) return 'disabled by ATTN_DISABLE_PROVIDERS';
  const backend = ort.listSupportedBackends().find((b) => b.name === name);
  if (backend === undefined) return `this onnxruntime-node build has no ${name} backend on ${process.platform}-${process.arch}`;
  if (name === 'cuda' && !backend.bundled && !existsSync(join(bindingFolder(), cudaLibraryName()))) {
    return 'the CUDA execution provider is not installed (onnxruntime-node ships it separately; run `npm run setup:cuda`)';
  }
  try {
    const session = await ort.InferenceSession.create(tinyModel(), sessionOptions(name, {}));
    const x = new ort.Tensor('float32', new Float32Array([-1, 0, 1, 2]), [4]);
    await session.run({ x });
    await session.release();
    return null;
  } catch (e) {
    return summarizeProviderError(name, (e as Error).message);
  }
}

/** Does this provider work here? Probed once per process. Returns null, or the reason it does not. */
export function probeProvider(name: ProviderName): Promise<string | null> {
  let p = probes.get(name);
  if (p === undefined) {
    p = probeUncached(name);
    probes.set(name, p);
  }
  return p;
}

/** Whether a probe result is already known (so callers can avoid logging the same reason twice). */
function probed(name: ProviderName): boolean {
  return probes.has(name);
}

/** Forget probe results (tests; or after installing a provider while running). */
export function forgetProviderProbes(): void {
  probes.clear();
}

/** Every provider and whether it works on this machine. */
export async function availableProviders(): Promise<ProviderStatus[]> {
  const out: ProviderStatus[] = [];
  for (const name of ALL_PROVIDERS) {
    const reason = await probeProvider(name);
    out.push(reason === null ? { name, available: true } : { name, available: false, reason });
  }
  return out;
}

/**
 * Create a session on the chosen provider, falling back as described above. Throws only when
 * even the cpu provider cannot load the model (the message then includes every reason).
 */
export async function createSession(modelBytes: Uint8Array, options: SessionChoiceOptions): Promise<CreatedSession> {
  const { provider: choice, log } = options;
  const order: readonly ProviderName[] = choice === 'auto' ? AUTO_PROVIDER_ORDER : choice === 'cpu' ? ['cpu'] : [choice, 'cpu'];
  const forced = choice !== 'auto';
  const fallbacks: ProviderFallback[] = [];

  for (const provider of order) {
    if (provider !== 'cpu') {
      const known = probed(provider);
      const reason = await probeProvider(provider);
      if (reason !== null) {
        fallbacks.push({ provider, reason });
        if (forced || !known) log?.(`execution provider ${provider} unavailable: ${reason}${forced ? '; falling back to cpu' : ''}`);
        continue;
      }
    }
    try {
      const session = await ort.InferenceSession.create(modelBytes, sessionOptions(provider, options));
      if (fallbacks.length > 0 && forced) log?.(`running on ${provider} instead of ${choice}`);
      return { session, provider, fallbacks };
    } catch (e) {
      const reason = `could not load this model: ${summarizeProviderError(provider, (e as Error).message)}`;
      fallbacks.push({ provider, reason });
      log?.(`execution provider ${provider}: ${reason}`);
    }
  }
  throw new Error(`no execution provider could run the model: ${fallbacks.map((f) => `${f.provider}: ${f.reason}`).join('; ')}`);
}
