/** Market data: projections and tools over trades and books (LOBSTER rebuild; bars on another branch). */
export * from './lobster/index.js';
