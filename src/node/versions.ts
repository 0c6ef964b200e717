/** Versions recorded with every run: the workbench, Node, ONNX Runtime, the platform. */
import { arch, cpus, platform, release } from 'node:os';
import ort from 'onnxruntime-node';
import pkg from '../../package.json';

export async function collectVersions(): Promise<Record<string, string>> {
  const cpu = cpus()[0];
  return {
    workbench: pkg.version,
    node: process.versions.node,
    onnxruntime: ort.env.versions.node ?? ort.env.versions.common ?? 'unknown',
    platform: `${platform()} ${release()} ${arch()}`,
    cpu: cpu ? `${cpu.model} x${cpus().length}` : 'unknown',
    ...(process.versions.electron ? { electron: process.versions.electron } : {}),
  };
}
