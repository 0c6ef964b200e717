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

type ModelMethod = 'models.list' | 'models.inspectBuiltin' | 'models.fetch' | 'models.import' | 'models.inspect' | 'models.delete';

/** Runs a model library call, turning its request errors into service errors. */
async function modelCall<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ModelRequestError) throw new ServiceError(e.code, e.message);
    throw e;
  }
}

export function modelHandlers(ctx: Pick<ServiceContext, 'models' | 'log'>): HandlerMap<ModelMethod> {
  const { models, log } = ctx;
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
  };
}
