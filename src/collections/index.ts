/** Small allocation-free data structures shared by the domains; imports nothing of ours. */
export { IntMap } from './int-map.js';
export { growFloat64, growInt32, growUint8 } from './typed-arrays.js';
