/**
 * The per-block operations of a modification, one file each, keyed by their Modification field.
 * They choose and check their blocks in this order (so this order decides which error a
 * modification with several problems gets); each block is then edited by the 'weights'
 * operations and after them by the 'expose' ones, each group in this order.
 */
import { exposeAttention } from './exposeAttention';
import { exposeBlockOutputs } from './exposeBlockOutputs';
import { intervene } from './intervene';
import type { BlockOperationName, BlockOperations } from './operation';
import { replaceVariant } from './replaceVariant';

export const BLOCK_OPERATIONS: BlockOperations = {
  exposeAttention,
  exposeBlockOutputs,
  replace: replaceVariant,
  intervene,
};

export const BLOCK_OPERATION_NAMES = Object.keys(BLOCK_OPERATIONS) as BlockOperationName[];
