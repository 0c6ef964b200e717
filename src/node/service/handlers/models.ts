/**
 * `models.*`: built-in, catalog and imported models. The model library does the work; its
 * ModelRequestError becomes a ServiceError with the same code and message.
 */
import { BUILTIN_MODEL_NAMES, isBuiltinModel, listBuiltinModels, loadBuiltinClassifier } from '../../models/builtinModels';
import { inspectModelBytes } from '../../models/inspectCommand';
import { ModelRequestError, inspectionInfo } from '../../models/modelLibrary';
import { ServiceError } from '../serviceError';
import type { HandlerMap, ServiceContext } from './handlers';

type ModelMethod = 'models.list' | 'models.inspectBuiltin' | 'models.fetch' | 'models.import' | 'models.convertLlama2c' | 'models.inspect' | 'models.delete';

/** Runs a model library call, turning its request errors into service errors. */
async function modelCall<T>(f: () => Promise<T> | T): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof ModelRequestError) throw new ServiceError(e.code, e.message);
    throw e;
  }
}

const fromBase64 = (text: string): Uint8Array => new Uint8Array(Buffer.from(text, 'base64'));

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
    'models.import': (input) => modelCall(() => models.importBytes(input.fileName, fromBase64(input.contentBase64))),
    'models.convertLlama2c': (input) => modelCall(() => models.convertLlama2c(input.name, fromBase64(input.checkpointBase64), fromBase64(input.tokenizerBase64))),
    'models.inspect': (input) => modelCall(() => models.inspect(input.id)),
    'models.delete': (input) => modelCall(async () => ({ deleted: await models.delete(input.id) })),
  };
}
