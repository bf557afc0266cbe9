export * from './address-policy.js';
export * from './url-fetcher.js';
