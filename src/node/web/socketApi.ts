/**
 * The contract over WebSocket: each text message `{ id, method, input }` gets one reply
 * `{ id, ok, value | error }`; events go to every open socket as `{ event, payload }`.
 */
import { WebSocket, type RawData, type WebSocketServer } from 'ws';
import type { ContractError, ContractHandler } from '../../common/contract';
import { errorMessage } from './responses';

const MAX_METHOD_NAME_LENGTH = 200;

/** A reply to one WebSocket call; `id` is null only when the message had no usable id. */
export type WireReply =
  | { id: number; ok: true; value: unknown }
  | { id: number | null; ok: false; error: ContractError };

/** An event pushed to every connected socket. */
export interface WireEvent {
  event: string;
  payload: unknown;
}

/** Answers every message of each new socket through the handler. */
export function answerConnections(wss: WebSocketServer, handler: ContractHandler, log: (message: string) => void): void {
  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', (e) => log(`web host: socket error: ${e.message}`));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      void answer(handler, ws, data, isBinary);
    });
  });
}

/** Sends the handler's events to every open socket; returns the unsubscribe function. */
export function broadcastEvents(wss: WebSocketServer, handler: ContractHandler, log: (message: string) => void): () => void {
  return handler.subscribe((event, payload) => {
    let text: string;
    try {
      text = JSON.stringify({ event, payload } satisfies WireEvent);
    } catch (e) {
      log(`web host: event ${event} could not be serialised: ${errorMessage(e)}`);
      return;
    }
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(text);
    }
  });
}

async function answer(handler: ContractHandler, ws: WebSocket, data: RawData, isBinary: boolean): Promise<void> {
  const reply = await replyTo(handler, data, isBinary);
  if (ws.readyState !== WebSocket.OPEN) return;
  let text: string;
  try {
    text = JSON.stringify(reply);
  } catch (e) {
    text = JSON.stringify({
      id: reply.id,
      ok: false,
      error: { code: 'internal', message: `The result could not be serialised: ${errorMessage(e)}` },
    } satisfies WireReply);
  }
  ws.send(text);
}

/** Turns one raw WebSocket message into its reply; never throws. */
async function replyTo(handler: ContractHandler, data: RawData, isBinary: boolean): Promise<WireReply> {
  const invalid = (id: number | null, message: string): WireReply => ({
    id,
    ok: false,
    error: { code: 'invalid-argument', message },
  });
  if (isBinary) return invalid(null, 'Binary messages are not accepted; send JSON text.');
  let message: unknown;
  try {
    message = JSON.parse(rawDataToString(data));
  } catch {
    return invalid(null, 'Malformed message: not valid JSON.');
  }
  if (typeof message !== 'object' || message === null || Array.isArray(message)) {
    return invalid(null, 'Malformed message: expected an object { id, method, input }.');
  }
  const fields = message as Record<string, unknown>;
  const id = fields['id'];
  if (typeof id !== 'number' || !Number.isSafeInteger(id)) {
    return invalid(null, 'Malformed message: `id` must be an integer.');
  }
  const method = fields['method'];
  if (typeof method !== 'string' || method.length === 0 || method.length > MAX_METHOD_NAME_LENGTH) {
    return invalid(id, 'Malformed message: `method` must be a method name.');
  }
  try {
    const result = await handler.dispatch(method, fields['input']);
    return result.ok ? { id, ok: true, value: result.value } : { id, ok: false, error: result.error };
  } catch (e) {
    return { id, ok: false, error: { code: 'internal', message: errorMessage(e) } };
  }
}

function rawDataToString(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  if (data instanceof ArrayBuffer) return Buffer.from(data).toString('utf8');
  return data.toString('utf8');
}
