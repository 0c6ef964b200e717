/** Pure math of the attention-faithfulness experiments (../shared/DESIGN.md §4). */
export * from './rollout';
export * from './rankCorrelation';
export * from './kernelShap';
export * from './gradients';
export * from './eraser';
export * from './jainWallace';
