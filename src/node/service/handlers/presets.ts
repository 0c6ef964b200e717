/** `presets.list`: the built-in experiment presets. */
import { presets } from '../../../common/experiments/presets';
import type { HandlerMap } from './handlers';

export function presetHandlers(): HandlerMap<'presets.list'> {
  return {
    'presets.list': () => presets.map((p) => ({ name: p.name, title: p.title, description: p.description, kind: p.spec.kind })),
  };
}
