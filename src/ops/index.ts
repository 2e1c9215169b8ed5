/** Operations: process settings (later configuration, logs, metrics and health). */
export { MATCHING_V8_FLAGS, tuneV8ForMatching } from './v8-tuning.js';
