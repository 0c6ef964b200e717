/**
 * `models.*`: built-in, catalog and imported models. The model library does the work; its
 * ModelRequestError becomes a ServiceError with the same code and message.
 */
import { BUILTIN_MODEL_NAMES, isBuiltinModel, listBuiltinModels, loadBuiltinClassifier } from '../../models/builtinModels';
import { inspectModelBytes } from '../../models/inspectCommand';
import { decodeImportRequest } from '../../models/importers/registry';
import { ModelRequestError, inspectionInfo } from '../../models/modelLibrary';
import { ServiceError } from '../serviceError';
import type { HandlerMap, ServiceContext } from './handlers';

type ModelMethod = 'models.list' | 'models.inspectBuiltin' | 'models.fetch' | 'models.import' | 'models.inspect' | 'models.delete' | 'models.importLocal';

/** Runs a model library call, turning its request errors into service errors. */
async function modelCall<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ModelRequestError) throw new ServiceError(e.code, e.message);
    throw e;
  }
}

export function modelHandlers(ctx: Pick<ServiceContext, 'models' | 'log' | 'pickLocalModel'>): HandlerMap<ModelMethod> {
  const { models, log, pickLocalModel } = ctx;
  return {
    'models.list': async () => ({ builtin: (await listBuiltinModels(undefined, log)).map((b) => ({ ...b, labels: [...b.labels] })), ...(await models.list()) }),
    'models.inspectBuiltin': (input) =>
      modelCall(async () => {
        if (!isBuiltinModel(input.name)) throw new ModelRequestError('not-found', `no built-in model named '${input.name}' (built-in: ${BUILTIN_MODEL_NAMES.join(', ')})`);
        const m = await loadBuiltinClassifier(input.name);
        return inspectionInfo(inspectModelBytes(m.modelBytes, input.name), null, input.name);
      }),
    'models.fetch': (input) =>
      modelCall(() => {
        models.startFetch(input.name);
        return { name: input.name };
      }),
    'models.import': (input) => modelCall(() => models.importModel(decodeImportRequest(input))),
    'models.inspect': (input) => modelCall(() => models.inspect(input.id)),
    'models.delete': (input) => modelCall(async () => ({ deleted: await models.delete(input.id) })),
    'models.importLocal': (input) =>
      modelCall(async () => {
        if (pickLocalModel === undefined) throw new ModelRequestError('invalid-argument', 'this host cannot open a local folder or file (only the desktop app can); upload the model with models.import, or use attn import PATH');
        const path = await pickLocalModel(input.pick);
        if (path === null) return { id: null, name: null, cancelled: true, added: false };
        const outcome = await models.importFromDisk(path);
        return { id: outcome.id, name: outcome.name, cancelled: false, added: outcome.added };
      }),
  };
}
