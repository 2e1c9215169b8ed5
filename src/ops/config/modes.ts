/**
 * The venue's modes, apart from the schema: the command line offers them as choices when it builds its
 * command tree, which every `rialto` run does, without loading the configuration's parser (zod, yaml).
 */
export const MODES = ['development', 'production'] as const;
export type Mode = (typeof MODES)[number];
